"""The distributed pieces, called on hand-made groups, agree with resolve."""

import pyarrow as pa
import pytest

import idstitch

ROWS = [
    {"record_id": "a", "source": "crm", "phone": "+7 912 345-67-89", "first_name": "Анна", "city": "Казань"},
    {"record_id": "b", "source": "app", "phone": "8 912 345 67 89", "first_name": "Аня", "city": "Казань"},
    {"record_id": "c", "source": "web", "email": "oleg@mail.ru", "first_name": "Олег"},
]


def test_pieces_give_the_same_identities_as_resolve():
    table = pa.Table.from_pylist(ROWS)
    r = idstitch.Resolver()
    r.fit(table)
    keys = r.record_keys(table)
    assert keys.column_names == ["record_id", "key", "rule", "value"]
    phone_rule = r.rules.index("phone")
    phone = [k for k in keys.to_pylist() if k["rule"] == phone_rule]
    assert {k["record_id"] for k in phone} == {"a", "b"}
    key = phone[0]["key"]
    assert not r.is_generic_value(key, table.slice(0, 2))
    pairs = r.block(phone_rule, key, table.slice(0, 2))
    assert pairs.to_pylist() == [{"a": "a", "b": "b"}]

    # Scoring groups needs frozen frequencies: counted, then frozen.
    pairs = pairs.append_column("rule", pa.array([phone_rule], pa.int16()))
    with pytest.raises(idstitch.IdstitchError):
        r.score_pairs(table, pairs, [])
    counts = r.frequency_keys(table).group_by(["field", "key"]).aggregate([("key", "count")])
    for field in ("first_name", "surname", "city"):
        mine = counts.filter(pa.compute.equal(counts["field"], field))
        r.set_frequencies(field, mine["key"].to_pylist(), mine["key_count"].to_pylist())
    prob = r.score_pairs(table, pairs, [])["probability"].to_pylist()
    assert prob[0] >= r.threshold
    links = pairs.append_column("probability", pa.array(prob, pa.float32()))
    labels = r.cluster_component(table.slice(0, 2), links, []).to_pylist()
    assert labels[0]["label"] == labels[1]["label"]
    whole = idstitch.Resolver().resolve(table).to_pylist()
    assert whole[0]["cluster_id"] == whole[1]["cluster_id"] != whole[2]["cluster_id"]


def test_bad_groups_are_typed_errors():
    r = idstitch.Resolver()
    table = pa.Table.from_pylist(ROWS)
    with pytest.raises(idstitch.IdstitchError):
        r.block(200, "x", table)
    with pytest.raises(idstitch.IdstitchError):
        r.set_frequencies("city", ["kazan"], [1])  # no model yet
    r.fit(table)
    with pytest.raises(idstitch.IdstitchError):
        r.set_frequencies("email", ["x"], [1])
    with pytest.raises(idstitch.IdstitchError):
        r.set_frequencies("city", ["kazan", "kazan"], [1, 2])
