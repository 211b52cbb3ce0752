"""The normalisers from Python agree with the Rust command line, value by value."""

import subprocess

import pyarrow as pa
import pytest

import idstitch

VALUES = {
    "email": ["Ivan.Petrov+shop@googlemail.com", "ivan.petrov@ya.ru", "noreply@shop.ru",
              "test@test.ru", "USER@Пример.рф", "bad@@mail", "  anna@mail.ru  ", "a" * 300 + "@x.ru"],
    "phone": None,  # examples/data/phones.txt
    "loyalty": ["4006381333931", "4006381333932", "0012345678905", "12-34", ""],
    "device": ["{6D92078A-8246-4BA4-AE5B-76104861E7DC}", "00000000-0000-0000-0000-000000000000",
               "urn:uuid:6d92078a82464ba4ae5b76104861e7dc", "9774d56d682e549c", "xyz"],
    "name": ["Щукин", "Shchukin", "Иван-Петр О'Нил", "тест", "12345"],
    "dob": ["03.04.1990", "1990-04-03", "3 марта 1990", "01.01.1900", "31.02.1990", "2999-01-01"],
}


def rust_normalize(dedup, kind, values, extra=()):
    out = subprocess.run(
        [str(dedup), "normalize", "--kind", kind, *extra],
        input="\n".join(values) + "\n", capture_output=True, text=True, check=True,
    ).stdout.split("\n")[: len(values)]
    return [v if v else None for v in out]


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_every_normaliser_agrees_with_the_cli(dedup, sample, kind):
    values = VALUES[kind]
    if values is None:
        values = (sample.parent / "phones.txt").read_text(encoding="utf-8").splitlines()
    assert len(values) > 3
    expected = rust_normalize(dedup, kind, values)
    assert [idstitch.normalize(kind, v) for v in values] == expected
    assert idstitch.normalize_many(kind, values) == expected
    assert idstitch.normalize_many(kind, pa.array(values)).to_pylist() == expected


def test_options_reach_the_normalisers(dedup):
    values = ["(202) 555-0143", "+44 20 7946 0958"]
    assert [idstitch.normalize_phone(v, region="US") for v in values] == rust_normalize(
        dedup, "phone", values, ["--region", "US"])
    assert idstitch.normalize_loyalty("4006381333931", scheme="ean13") == "4006381333931"
    assert idstitch.normalize_loyalty("4006381333932", scheme="ean13") is None
    assert idstitch.normalize_date("04/03/1990", month_first=True) == "1990-04-03"
    assert idstitch.why("loyalty", "4006381333932", scheme="ean13") == "check_digit"
    assert idstitch.why("email", "anna@mail.ru") is None


def test_name_keys_meet_across_scripts():
    assert idstitch.name_key("Иван") == idstitch.name_key("Ivan")
    assert idstitch.name_key("Щукин") == idstitch.name_key("Shchukin")
    assert idstitch.name_key("Иван") != idstitch.name_key("Пётр")


def test_vectorised_forms_keep_nulls_chunks_and_pandas_index():
    pd = pytest.importorskip("pandas")
    chunked = pa.chunked_array([["8 912 345 67 89", None], ["000"]])
    out = idstitch.normalize_many("phone", chunked)
    assert out.num_chunks == 2
    assert out.to_pylist() == ["+79123456789", None, None]
    s = pd.Series(["8 912 345 67 89", None, "nope"], index=[10, 20, 30], name="tel")
    got = idstitch.normalize_many("phone", s)
    assert list(got.index) == [10, 20, 30] and got.name == "tel"
    assert got.tolist() == ["+79123456789", None, None]
