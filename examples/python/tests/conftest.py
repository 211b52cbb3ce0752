"""Shared fixtures: the Rust `dedup` and `generate` binaries, built once."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _binary(name: str) -> Path:
    exe = ROOT / "target" / "release" / "examples" / name
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--example", name],
        cwd=ROOT, check=True, capture_output=True,
    )
    assert exe.exists(), exe
    return exe


@pytest.fixture(scope="session")
def dedup() -> Path:
    return _binary("dedup")


@pytest.fixture(scope="session")
def generate() -> Path:
    return _binary("generate")


@pytest.fixture(scope="session")
def sample() -> Path:
    return ROOT / "examples" / "data" / "customers.csv"


@pytest.fixture(scope="session")
def sample_truth() -> Path:
    return ROOT / "examples" / "data" / "customers_truth.csv"


def read_strings(path: os.PathLike):
    """A CSV as a pyarrow Table of strings (no type inference: loyalty cards
    keep their leading zeros, phones stay text)."""
    import pyarrow.csv as pacsv

    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(column_types={c: "string" for c in header}),
    )
