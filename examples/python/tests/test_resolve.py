"""Resolution from Python: tables of every kind, explanations, profiles,
models, metrics, and parity with the Rust binary."""

import csv
import json
import subprocess

import pyarrow as pa
import pytest

import idstitch
from conftest import read_strings

ROWS = [
    {"record_id": "crm:1", "source": "crm", "first_name": "Александр", "last_name": "Иванов",
     "phone": "+7 912 345-67-89", "email": "ivanov@mail.ru", "dob": "03.04.1990"},
    {"record_id": "tg:9", "source": "telegram", "first_name": "Саша", "phone": "8 (912) 345-67-89"},
    {"record_id": "web:4", "source": "web", "full_name": "Ivanov Alexander", "email": "IVANOV@MAIL.RU",
     "last_seen": "2024-05-01", "consent": "email;sms"},
    {"record_id": "web:5", "source": "web", "first_name": "Ольга", "last_name": "Петрова",
     "phone": "+79991234567", "opt_out": "sms"},
]


def partition(labels):
    groups = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    return sorted(groups.values())


def test_list_pandas_and_arrow_tables_give_one_partition_in_their_own_kind():
    pd = pytest.importorskip("pandas")
    r = idstitch.Resolver()
    as_list = r.resolve(ROWS)
    assert isinstance(as_list, list) and [x["record_id"] for x in as_list] == [x["record_id"] for x in ROWS]
    as_frame = r.resolve(pd.DataFrame(ROWS, index=[7, 8, 9, 10]))
    assert isinstance(as_frame, pd.DataFrame)
    assert list(as_frame.columns) == ["record_id", "cluster_id"]
    as_table = r.resolve(pa.Table.from_pylist(ROWS))
    assert isinstance(as_table, pa.Table)
    labels = [x["cluster_id"] for x in as_list]
    assert labels == as_frame["cluster_id"].tolist() == as_table.column("cluster_id").to_pylist()
    assert partition(labels) == [[0, 1, 2], [3]]


def test_columns_map_and_cells_hold_several_values():
    r = idstitch.Resolver(columns={"tel": "phone", "mail": "email", "id": "record_id"})
    out = r.resolve([
        {"id": "a", "tel": "+79123456789;+79991112233"},
        {"id": "b", "mail": "olga@mail.ru"},
        {"id": "c", "tel": "89991112233", "mail": "olga@mail.ru"},
    ])
    assert len({x["cluster_id"] for x in out}) == 1
    # Lists in a cell are several values too; numbers are read as text.
    out = idstitch.Resolver().resolve([
        {"record_id": 1, "phone": ["+79123456789", "+79991112233"]},
        {"record_id": 2, "phone": 79991112233},
    ])
    assert out[0]["cluster_id"] == out[1]["cluster_id"]


def test_explain_profiles_stats_and_model_round_trip(tmp_path):
    r = idstitch.Resolver(source_priority=["crm"])
    r.resolve(ROWS)
    why = r.explain("crm:1", "tg:9")
    assert why["rule"] == "phone" and why["probability"] > 0.5
    assert {c["field"] for c in why["contributions"]} >= {"first_name", "phone", "email"}
    assert r.explain("tg:9", "web:5") is None
    profiles = r.profiles()
    ivanov = next(p for p in profiles if len(p["records"]) == 3)
    assert ivanov["first_names"][0]["value"] == "Александр"
    assert ivanov["emails"][0]["records"] == 2
    assert ivanov["consent"] == {"email": "granted", "sms": "granted"}
    olga = next(p for p in profiles if p["records"] == ["web:5"])
    assert olga["consent"] == {"sms": "refused"}
    stats = r.stats()
    assert stats["records"] == 4 and stats["identities"] == 2
    path = tmp_path / "model.json"
    r.save_model(path)
    assert json.loads(path.read_text())["format"] == "idstitch-model"
    again = idstitch.Resolver()
    again.load_model(path)
    assert again.model_json == r.model_json
    assert again.resolve(ROWS) == r.resolve(ROWS)
    report = idstitch.Resolver().fit(ROWS)
    assert report["iterations"] >= 1


def test_config_file_and_keyword_overrides(tmp_path, sample):
    toml = sample.parent / "idstitch.toml"
    r = idstitch.Resolver.from_config(toml)
    assert len(r.resolve(ROWS)) == 4
    (tmp_path / "c.json").write_text(json.dumps({"threshold": 0.9, "cluster": {"strong_link": 0.8}}))
    idstitch.Resolver.from_config(tmp_path / "c.json", threshold=0.6).resolve(ROWS)
    (tmp_path / "bad.json").write_text(json.dumps({"treshold": 0.9}))
    with pytest.raises(idstitch.ConfigError, match="treshold"):
        idstitch.Resolver.from_config(tmp_path / "bad.json")


def test_bad_input_raises_the_documented_exceptions_without_personal_data():
    with pytest.raises(idstitch.ConfigError):
        idstitch.normalize("passport", "123")
    with pytest.raises(idstitch.ConfigError):
        idstitch.Resolver(region="XX")
    with pytest.raises(idstitch.ConfigError):
        idstitch.Resolver(threshold=1.5)
    with pytest.raises(idstitch.ConfigError):
        idstitch.Resolver(rules=["phone", "horoscope"])
    with pytest.raises(ValueError):  # every idstitch error is a ValueError
        idstitch.Resolver(columns={"x": "nonsense"})
    r = idstitch.Resolver()
    with pytest.raises(idstitch.IdstitchError, match="resolve first"):
        r.profiles()
    with pytest.raises(idstitch.InputError, match="duplicate record id crm:1"):
        r.resolve([ROWS[0], ROWS[0]])
    with pytest.raises(idstitch.InputError) as e:
        r.resolve([{"record_id": "x", "last_seen": "Иванов Иван 89123456789"}])
    assert "row 0" in str(e.value) and "last_seen" in str(e.value)
    assert "8912" not in str(e.value) and "Иванов" not in str(e.value)
    with pytest.raises(idstitch.InputError, match="empty record_id"):
        r.resolve([{"record_id": "", "phone": "+79123456789"}])
    with pytest.raises(idstitch.InputError):
        r.resolve([1, 2, 3])
    with pytest.raises(idstitch.ModelError):
        r._native.load_model_json('{"format": "idstitch-model", "version": 99}')
    r.resolve(ROWS)
    with pytest.raises(idstitch.InputError, match="unknown record id"):
        r.explain("crm:1", "nobody")
    with pytest.raises(idstitch.InputError):
        idstitch.evaluate([1, 2], [1])


def test_metrics_match_hand_counts():
    m = idstitch.evaluate(["a", "a", "b", "b"], [1, 1, 1, 2])
    assert m["true_pairs"] == 3 and m["predicted_pairs"] == 2 and m["correct_pairs"] == 1
    assert m["pairwise"]["precision"] == 0.5
    assert m["mixed_identities"] == 1


def test_a_generated_table_resolves_exactly_as_the_rust_binary(tmp_path, dedup, generate):
    records, truth = tmp_path / "g.csv", tmp_path / "g_truth.csv"
    subprocess.run([str(generate), "--people", "34000", "--seed", "7", "--out", str(records),
                    "--truth", str(truth)], check=True, capture_output=True)
    out = tmp_path / "clusters.csv"
    subprocess.run([str(dedup), "run", str(records), "--out", str(out)], check=True, capture_output=True)
    with open(out, encoding="utf-8") as f:
        rust = [(row["record_id"], int(row["cluster_id"])) for row in csv.DictReader(f)]
    assert len(rust) > 95_000
    table = read_strings(records)
    py = idstitch.Resolver().resolve(table)
    assert list(zip(py.column("record_id").to_pylist(), py.column("cluster_id").to_pylist())) == rust
    with open(truth, encoding="utf-8") as f:
        person = {row["record_id"]: row["person_id"] for row in csv.DictReader(f)}
    m = idstitch.evaluate([c for _, c in rust], [person[i] for i, _ in rust])
    assert m["pairwise"]["f1"] > 0.95 and m["bcubed"]["f1"] > 0.97
