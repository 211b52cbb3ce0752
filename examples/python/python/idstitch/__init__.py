"""idstitch: omnichannel customer identity resolution, from Python.

The matching core is Rust (``idstitch._native``); tables cross into it
through the Arrow C data interface, so a ``pyarrow.Table`` or a pandas
DataFrame of millions of rows is read without a Python object per row, and
the heavy calls release the GIL.

>>> import idstitch
>>> idstitch.normalize_phone("8 (912) 345-67-89")
'+79123456789'
>>> idstitch.normalize_email("Ivan.Petrov+shop@googlemail.com")
'ivanpetrov@gmail.com'
>>> r = idstitch.Resolver()
>>> out = r.resolve([
...     {"record_id": "tg:1", "source": "telegram", "phone": "+7 912 345-67-89", "first_name": "Саша"},
...     {"record_id": "crm:7", "source": "crm", "phone": "8 (912) 345-67-89", "first_name": "Александр"},
... ])
>>> out[0]["cluster_id"] == out[1]["cluster_id"]
True
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import pyarrow as pa

from . import _native
from ._native import ConfigError, IdstitchError, InputError, ModelError

__all__ = [
    "ConfigError",
    "IdstitchError",
    "InputError",
    "ModelError",
    "Resolver",
    "evaluate",
    "name_key",
    "normalize",
    "normalize_date",
    "normalize_device",
    "normalize_email",
    "normalize_loyalty",
    "normalize_many",
    "normalize_name",
    "normalize_phone",
    "why",
]

KINDS = ("email", "phone", "loyalty", "device", "customer_id", "name", "dob")


def normalize(kind: str, value: str, *, region: str = "RU", scheme: str = "none",
              system: str = "default", month_first: bool = False) -> Optional[str]:
    """The canonical form of ``value`` as identifier ``kind`` (one of
    ``KINDS``), or ``None`` when it is unusable as a person's identifier
    (invalid, placeholder, role account, opt-out device ID)."""
    return _native.normalize(kind, value, region=region, scheme=scheme, system=system,
                             month_first=month_first)


def why(kind: str, value: str, *, region: str = "RU", scheme: str = "none",
        system: str = "default", month_first: bool = False) -> Optional[str]:
    """Why ``value`` is unusable (``"placeholder"``, ``"invalid_number"``…),
    or ``None`` when it is usable."""
    return _native.why(kind, value, region=region, scheme=scheme, system=system,
                       month_first=month_first)


def normalize_email(value: str) -> Optional[str]:
    """Canonical e-mail (provider rules: Gmail dots, Yandex domains, +tags…) or ``None``."""
    return _native.normalize("email", value)


def normalize_phone(value: str, region: str = "RU") -> Optional[str]:
    """E.164 phone read in ``region`` (libphonenumber rules) or ``None``."""
    return _native.normalize("phone", value, region=region)


def normalize_loyalty(value: str, scheme: str = "none") -> Optional[str]:
    """Loyalty card digits, checked by ``scheme`` (``ean13``, ``ean8``, ``luhn``, ``none``), or ``None``."""
    return _native.normalize("loyalty", value, scheme=scheme)


def normalize_device(value: str) -> Optional[str]:
    """Lower-case hyphenated advertising/device ID (or Android ID) or ``None``."""
    return _native.normalize("device", value)


def normalize_name(value: str) -> Optional[str]:
    """Canonical name tokens (NFKC, lower case, ё→е, punctuation removed) or ``None``."""
    return _native.normalize("name", value)


def name_key(value: str) -> Optional[str]:
    """Transliteration key: ``Иван`` and ``Ivan`` share it."""
    return _native.name_key(value)


def normalize_date(value: str, month_first: bool = False) -> Optional[str]:
    """Birth date as ``YYYY-MM-DD`` (many formats, Russian and English month
    names) or ``None`` (impossible, future, placeholder)."""
    return _native.normalize("dob", value, month_first=month_first)


def normalize_many(kind: str, values: Any, *, region: str = "RU", scheme: str = "none",
                   system: str = "default", month_first: bool = False) -> Any:
    """Vectorised :func:`normalize`.

    ``values`` may be a list (a list comes back, ``None`` for unusable
    values), a ``pyarrow.Array``/``ChunkedArray`` or anything with the Arrow
    C interface (a ``pyarrow.ChunkedArray`` of strings comes back, null for
    unusable values), or a pandas Series (a Series comes back). The work runs
    without the GIL.
    """
    opts = dict(region=region, scheme=scheme, system=system, month_first=month_first)
    # pandas first: recent pandas objects also speak the Arrow C interface.
    if _is_pandas_series(values):
        import pandas as pd

        arrow = pa.array(values, from_pandas=True)
        out = _native.normalize_arrow(kind, arrow, **opts)
        return pd.Series(out.to_pylist(), index=values.index, name=values.name, dtype="object")
    if hasattr(values, "__arrow_c_stream__") or hasattr(values, "__arrow_c_array__"):
        return _native.normalize_arrow(kind, values, **opts)
    return _native.normalize_list(kind, [None if v is None else str(v) for v in values], **opts)


def evaluate(predicted: Sequence[Any], truth: Sequence[Any]) -> Dict[str, Any]:
    """Pairwise and B-cubed precision/recall/F1 of ``predicted`` cluster
    labels against ``truth`` person labels (any hashable labels, one per
    record, same order), and the number of predicted identities mixing
    several persons. Computed from contingency counts: fast at millions."""
    if len(predicted) != len(truth):
        raise InputError("predicted and truth must have the same length")
    return json.loads(_native.evaluate_json(_dense(predicted), _dense(truth)))


def _dense(labels: Sequence[Any]) -> List[int]:
    ids: Dict[Any, int] = {}
    return [ids.setdefault(x, len(ids)) for x in labels]


def _is_pandas_frame(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns")


def _is_pandas_series(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "dtype") and not hasattr(obj, "columns")


TableLike = Union[pa.Table, "pandas.DataFrame", Sequence[Mapping[str, Any]]]  # noqa: F821


class Resolver:
    """The whole pipeline — normalise, block, score (Fellegi–Sunter, EM),
    cluster under constraints, profiles — configured once and run on tables.

    Keyword arguments mirror ``dedup run`` and its TOML config
    (``examples/data/idstitch.toml``); :meth:`from_config` reads that file
    (or the same keys as JSON). Tables hold one record per row with the
    columns ``record_id, source, first_name, middle_name, last_name,
    full_name, email, phone, loyalty_id, device_id, customer_id, dob, city,
    address, first_seen, last_seen, consent, opt_out`` — any may be absent,
    ``columns={"tel": "phone"}`` maps other names, a cell may hold several
    values separated by ``;``.
    """

    def __init__(self, *, region: str = "RU", threshold: float = 0.5,
                 rules: Optional[Sequence[str]] = None, max_block_size: int = 50, window: int = 10,
                 partial_max_block_size: int = 8, partial_window: int = 3,
                 single_valued_systems: Sequence[str] = (), trusted_systems: Sequence[str] = (),
                 limits: Optional[Mapping[str, Optional[int]]] = None, strong_link: float = 0.75,
                 birth_dates_cannot_link: bool = True, first_names_cannot_link: bool = True,
                 source_priority: Sequence[str] = (), survivorship: Optional[Sequence[str]] = None,
                 columns: Optional[Mapping[str, str]] = None, seed: Optional[int] = None,
                 u_sample_pairs: int = 1_000_000) -> None:
        self._native = _native.Resolver(
            region=region, threshold=threshold, rules=None if rules is None else list(rules),
            max_block_size=max_block_size, window=window,
            partial_max_block_size=partial_max_block_size, partial_window=partial_window,
            single_valued_systems=list(single_valued_systems), trusted_systems=list(trusted_systems),
            limits=None if limits is None else {k: (None if v in (None, 0) else int(v)) for k, v in limits.items()},
            strong_link=strong_link, birth_dates_cannot_link=birth_dates_cannot_link,
            first_names_cannot_link=first_names_cannot_link, source_priority=list(source_priority),
            survivorship=None if survivorship is None else list(survivorship),
            columns=None if columns is None else dict(columns), seed=seed, u_sample_pairs=u_sample_pairs,
        )

    @classmethod
    def from_config(cls, path: Union[str, os.PathLike], **overrides: Any) -> "Resolver":
        """A resolver from the ``dedup run --config`` TOML file (or a ``.json``
        file with the same keys); keyword ``overrides`` win, as flags do."""
        path = os.fspath(path)
        if path.endswith(".json"):
            with open(path, encoding="utf-8") as f:
                cfg = json.load(f)
        else:
            try:
                import tomllib
            except ModuleNotFoundError:  # Python < 3.11
                import tomli as tomllib  # type: ignore[no-redef]
            with open(path, "rb") as f:
                cfg = tomllib.load(f)
        return cls(**{**_config_kwargs(cfg), **overrides})

    def fit(self, table: TableLike) -> Dict[str, Any]:
        """Trains a model on ``table`` and keeps it for later :meth:`resolve`
        calls; returns the training report (EM iterations, priors per rule)."""
        return json.loads(self._native.fit_json(_to_arrow(table)))

    def resolve(self, table: TableLike) -> TableLike:
        """One identity per record: ``record_id, cluster_id`` in input order,
        as the same kind of table as given (pyarrow → ``pyarrow.Table``,
        pandas → ``DataFrame``, list of dicts → list of dicts). Trains on
        ``table`` unless a model was fitted or loaded."""
        out = self._native.resolve(_to_arrow(table))
        if _is_pandas_frame(table):
            return out.to_pandas()
        if isinstance(table, pa.Table) or hasattr(table, "__arrow_c_stream__"):
            return out
        return out.to_pylist()

    def explain(self, record_a: str, record_b: str) -> Optional[Dict[str, Any]]:
        """Why two records of the last resolved table were (not) linked: the
        rule that compared them, its prior, every field's level, m, u and
        weight, the total and the probability. ``None`` when no blocking rule
        paired them (never compared)."""
        text = self._native.explain_json(str(record_a), str(record_b))
        return None if text is None else json.loads(text)

    def profiles(self) -> List[Dict[str, Any]]:
        """One golden profile per identity of the last resolved table
        (``identity`` equals ``cluster_id``)."""
        return [json.loads(line) for line in self._native.profiles_jsonl().splitlines() if line]

    def stats(self) -> Dict[str, Any]:
        """Counts of the last run: records, candidate pairs, generic values,
        identities, refusals, blocking per rule."""
        return json.loads(self._native.stats_json())

    @property
    def model_json(self) -> Optional[str]:
        """The kept model as JSON (``idstitch-model`` format), else the one the
        last :meth:`resolve` trained, or ``None``."""
        return self._native.model_json

    def save_model(self, path: Union[str, os.PathLike]) -> None:
        """Writes :attr:`model_json` to ``path`` (atomically: temp file + rename)."""
        text = self.model_json
        if text is None:
            raise IdstitchError("no model: call fit or resolve first")
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)

    def load_model(self, path: Union[str, os.PathLike]) -> None:
        """Reads a model saved by :meth:`save_model` (or by Rust's
        ``Model::to_json``) and keeps it: no training on later tables."""
        with open(os.fspath(path), encoding="utf-8") as f:
            self._native.load_model_json(f.read())

    def load_model_json(self, text: str) -> None:
        """Keeps a model given as JSON text (``idstitch-model`` format)."""
        self._native.load_model_json(text)

    # The distributed pieces: what an engine such as Spark calls on each
    # group of records (``examples/spark``, ``docs/SCALING.md``). Each takes
    # and returns Arrow tables; run on the right groups they give exactly
    # the batch run's result.

    @property
    def rules(self) -> List[str]:
        """The blocking rules, in the order ``rule`` indices refer to."""
        return list(self._native.rules)

    @property
    def threshold(self) -> float:
        """The link threshold: pairs scoring at least this are links."""
        return float(self._native.threshold)

    def block_bounds(self, rule: int) -> Tuple[int, int]:
        """``(largest block paired whole, window)`` of rule index ``rule``: a
        block of at most that many members yields all its pairs."""
        return tuple(self._native.block_bounds(int(rule)))  # type: ignore[return-value]

    @property
    def generic_min_records(self) -> int:
        """The fewest holders a generic value has (fewer: never generic)."""
        return int(self._native.generic_min_records)

    def record_keys(self, table: TableLike) -> pa.Table:
        """Every key each record holds: ``record_id, key, rule`` (int16, -1
        when no rule blocks on it) ``, value`` (an identifier value)."""
        return self._native.record_keys(_to_arrow(table))

    def frequency_keys(self, table: TableLike) -> pa.Table:
        """Each record's term-frequency keys, ``field, key``: counted over
        all records and given to :meth:`set_frequencies`."""
        return self._native.frequency_keys(_to_arrow(table))

    def set_frequencies(self, field: str, keys: Sequence[str], counts: Sequence[int]) -> None:
        """Freezes counted term frequencies of ``field`` (``first_name``,
        ``surname``, ``city``…) into the kept model: ``keys[i]`` is held by
        ``counts[i]`` records over all the data."""
        self._native.set_frequencies(field, list(keys), [int(c) for c in counts])

    def is_generic_value(self, key: str, holders: TableLike) -> bool:
        """Whether identifier value ``key`` (a :meth:`record_keys` key) is
        generic, judged over ``holders``: every record holding it."""
        return bool(self._native.is_generic_value(key, _to_arrow(holders)))

    def block(self, rule: int, key: str, members: TableLike) -> pa.Table:
        """The pairs ``a, b`` one block yields: ``members`` are every record
        holding ``key`` under rule index ``rule``."""
        return self._native.block(int(rule), key, _to_arrow(members))

    def score_pairs(self, records: TableLike, pairs: TableLike, generic: Sequence[str]) -> pa.Table:
        """``probability`` of each pair (``a, b, rule`` columns) under the kept
        model, whose frequencies must be frozen; ``records`` hold both
        records of every pair, ``generic`` every generic value's key."""
        return self._native.score_pairs(_to_arrow(records), _to_arrow(pairs), list(generic))

    def cluster_component(self, records: TableLike, links: TableLike,
                          generic: Sequence[str]) -> pa.Table:
        """``record_id, label`` for the records of one link component
        (``links``: ``a, b, rule, probability``); equal labels, one identity."""
        return self._native.cluster_component(_to_arrow(records), _to_arrow(links), list(generic))

    def forget_model(self) -> None:
        """Drops the kept model: the next :meth:`resolve` trains again."""
        self._native.forget_model()


def _to_arrow(table: Any) -> Any:
    # pandas first: recent pandas frames also speak the Arrow C interface,
    # but their index must not become a column.
    if _is_pandas_frame(table):
        return pa.Table.from_pandas(table, preserve_index=False)
    if isinstance(table, pa.Table) or hasattr(table, "__arrow_c_stream__"):
        return table
    if isinstance(table, Iterable):
        rows = list(table)
        if rows and not all(isinstance(r, Mapping) for r in rows):
            raise InputError("a list table holds one dict per record")
        # Every key of every row (pyarrow's from_pylist would keep only the
        # first row's keys and silently drop the rest).
        keys: Dict[str, None] = {}
        for r in rows:
            keys.update(dict.fromkeys(r))
        return pa.table({k: pa.array([_cell(r.get(k)) for r in rows], pa.string()) for k in keys})
    raise InputError("expected a pyarrow.Table, a pandas.DataFrame or a list of dicts")


def _cell(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return ";".join(str(x) for x in v if x is not None)
    return str(v)


def _config_kwargs(cfg: Mapping[str, Any]) -> Dict[str, Any]:
    """The TOML/JSON config's nested keys as :class:`Resolver` arguments."""
    known = {"region", "threshold", "rules", "columns", "blocking", "cluster", "profiles"}
    unknown = set(cfg) - known
    if unknown:
        raise ConfigError(f"unknown config keys: {', '.join(sorted(unknown))}")
    kw: Dict[str, Any] = {k: cfg[k] for k in ("region", "threshold", "rules", "columns") if k in cfg}
    for key, value in cfg.get("blocking", {}).items():
        if key not in ("max_block_size", "window", "partial_max_block_size", "partial_window"):
            raise ConfigError(f"unknown config key blocking.{key}")
        kw[key] = value
    cluster = dict(cfg.get("cluster", {}))
    if "limits" in cluster:
        kw["limits"] = cluster.pop("limits")
    for key, value in cluster.items():
        if key not in ("single_valued_systems", "trusted_systems", "strong_link",
                       "birth_dates_cannot_link", "first_names_cannot_link"):
            raise ConfigError(f"unknown config key cluster.{key}")
        kw[key] = value
    for key, value in cfg.get("profiles", {}).items():
        if key not in ("source_priority", "survivorship"):
            raise ConfigError(f"unknown config key profiles.{key}")
        kw[key] = value
    return kw
