//! `idstitch._native`: the Rust side of the Python bindings.
//!
//! Tables cross the boundary through the Arrow C data interface (any object
//! with `__arrow_c_stream__`: a `pyarrow.Table`, a polars frame…), never as
//! per-row Python objects; heavy calls release the GIL. The pure-Python layer
//! in `python/idstitch/__init__.py` adds pandas and list-of-dict input and
//! the config file loader.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float32Array, Int16Array, RecordBatch, StringArray, UInt32Array,
    cast::AsArray, types::Float32Type, types::UInt8Type,
};
use arrow_schema::{DataType, Field, Schema};
use idstitch::{
    BlockingConfig, BlockingRule, CheckDigit, ClusterConfig, DatasetBuilder, DateOrder, ErrorKind,
    IdKind, InputField, Model, NormalizeOptions, PersonName, ProfileConfig, Record, RecordId,
    Region, Resolution, Resolver, Survivorship, TrainConfig, canonical,
    evaluate as evaluate_labels,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3_arrow::{PyArray, PyChunkedArray, PyTable};

/// Rust-side allocations (records, dictionaries, pair lists) go through
/// mimalloc, as in the `dedup` binary: millions of small allocations freed in
/// bulk are where glibc's malloc is slowest. Python's own objects are not
/// affected.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

pyo3::create_exception!(
    _native,
    IdstitchError,
    PyValueError,
    "Base class of every idstitch error (a ValueError: every one is about a bad value)."
);
pyo3::create_exception!(
    _native,
    ConfigError,
    IdstitchError,
    "A setting out of range or unknown."
);
pyo3::create_exception!(
    _native,
    InputError,
    IdstitchError,
    "Input that cannot be read: a bad cell, a duplicate record ID, a missing column."
);
pyo3::create_exception!(
    _native,
    ModelError,
    IdstitchError,
    "A model file that cannot be read."
);

/// Maps a library error to its Python exception. Messages never hold values
/// from the input (the library's own rule), only field names and record IDs.
fn py_err(e: idstitch::Error) -> PyErr {
    let msg = e.to_string();
    match e.kind() {
        ErrorKind::Config { .. } | ErrorKind::UnknownName { .. } | ErrorKind::UnknownRegion => {
            ConfigError::new_err(msg)
        }
        ErrorKind::ModelFormat { .. } => ModelError::new_err(msg),
        _ => InputError::new_err(msg),
    }
}

fn parse<T: std::str::FromStr<Err = idstitch::Error>>(text: &str) -> PyResult<T> {
    text.parse().map_err(py_err)
}

fn options(
    region: &str,
    scheme: &str,
    system: &str,
    month_first: bool,
) -> PyResult<NormalizeOptions> {
    Ok(NormalizeOptions::new()
        .region(parse::<Region>(region)?)
        .scheme(parse::<CheckDigit>(scheme)?)
        .system(system)
        .date_order(if month_first {
            DateOrder::Mdy
        } else {
            DateOrder::Dmy
        }))
}

fn kind_of(kind: &str) -> PyResult<IdKind> {
    parse::<IdKind>(kind)
}

/// The canonical form of one value, or `None` when it is unusable as a
/// person's identifier.
#[pyfunction]
#[pyo3(signature = (kind, value, *, region="RU", scheme="none", system="default", month_first=false))]
fn normalize(
    kind: &str,
    value: &str,
    region: &str,
    scheme: &str,
    system: &str,
    month_first: bool,
) -> PyResult<Option<String>> {
    let opts = options(region, scheme, system, month_first)?;
    Ok(canonical(kind_of(kind)?, value, &opts).ok())
}

/// Why a value is unusable (`"placeholder"`, `"invalid_number"`…), or `None`
/// when it is usable.
#[pyfunction]
#[pyo3(signature = (kind, value, *, region="RU", scheme="none", system="default", month_first=false))]
fn why(
    kind: &str,
    value: &str,
    region: &str,
    scheme: &str,
    system: &str,
    month_first: bool,
) -> PyResult<Option<&'static str>> {
    let opts = options(region, scheme, system, month_first)?;
    Ok(canonical(kind_of(kind)?, value, &opts)
        .err()
        .map(|r| r.code()))
}

/// Normalises a list of values (`None` stays `None`), without the GIL.
#[pyfunction]
#[pyo3(signature = (kind, values, *, region="RU", scheme="none", system="default", month_first=false))]
fn normalize_list(
    py: Python<'_>,
    kind: &str,
    values: Vec<Option<String>>,
    region: &str,
    scheme: &str,
    system: &str,
    month_first: bool,
) -> PyResult<Vec<Option<String>>> {
    let (kind, opts) = (
        kind_of(kind)?,
        options(region, scheme, system, month_first)?,
    );
    Ok(py.detach(|| {
        values
            .iter()
            .map(|v| v.as_deref().and_then(|v| canonical(kind, v, &opts).ok()))
            .collect()
    }))
}

/// Normalises an Arrow string array or chunked array (anything with
/// `__arrow_c_stream__` or `__arrow_c_array__`) into a `pyarrow.ChunkedArray`
/// of strings, null where unusable. No Python object per value.
#[pyfunction]
#[pyo3(signature = (kind, values, *, region="RU", scheme="none", system="default", month_first=false))]
fn normalize_arrow<'py>(
    py: Python<'py>,
    kind: &str,
    values: &Bound<'py, PyAny>,
    region: &str,
    scheme: &str,
    system: &str,
    month_first: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (kind, opts) = (
        kind_of(kind)?,
        options(region, scheme, system, month_first)?,
    );
    let chunks: Vec<ArrayRef> = if values.hasattr("__arrow_c_stream__")? {
        values.extract::<PyChunkedArray>()?.into_inner().0
    } else {
        vec![values.extract::<PyArray>()?.into_inner().0]
    };
    let out = py.detach(|| -> PyResult<Vec<ArrayRef>> {
        chunks
            .iter()
            .map(|c| {
                let text = as_strings(c)?;
                let arr: StringArray = text
                    .iter()
                    .map(|v| v.and_then(|v| canonical(kind, v, &opts).ok()))
                    .collect();
                Ok(Arc::new(arr) as ArrayRef)
            })
            .collect()
    })?;
    let field = Arc::new(Field::new("value", DataType::Utf8, true));
    PyChunkedArray::try_new(out, field)?.into_pyarrow(py)
}

/// A name's Cyrillic↔Latin transliteration key: `Иван` and `Ivan` share it.
#[pyfunction]
fn name_key(value: &str) -> Option<String> {
    PersonName::parse(value).ok().map(|n| n.translit_key())
}

/// Pairwise and B-cubed precision/recall/F1 of predicted labels against true
/// ones (JSON text; the Python layer returns a dict).
#[pyfunction]
fn evaluate_json(py: Python<'_>, predicted: Vec<u32>, truth: Vec<u32>) -> PyResult<String> {
    let e = py
        .detach(|| evaluate_labels(&predicted, &truth))
        .map_err(py_err)?;
    serde_json::to_string(&e).map_err(|e| IdstitchError::new_err(e.to_string()))
}

/// Any string-like Arrow array as UTF-8 strings (other types are cast:
/// numbers and dates become their text).
fn as_strings(array: &ArrayRef) -> PyResult<StringArray> {
    let cast = arrow_cast::cast(array, &DataType::Utf8)
        .map_err(|e| InputError::new_err(format!("column cannot be read as text: {e}")))?;
    Ok(cast.as_string::<i32>().clone())
}

/// The whole pipeline, configured once, run on tables.
#[pyclass(module = "idstitch._native", name = "Resolver")]
struct PyResolver {
    resolver: Resolver,
    columns: HashMap<String, InputField>,
    model: Option<Model>,
    last: Option<Resolution>,
    threshold: f32,
}

/// Reads a table into records: columns by name (after `columns` overrides),
/// `;`-separated multi-values, row numbers for IDs when there is no
/// `record_id` column.
fn records_of(table: PyTable, columns: &HashMap<String, InputField>) -> PyResult<Vec<Record>> {
    let (batches, schema) = table.into_inner();
    let fields: Vec<Option<InputField>> = schema
        .fields()
        .iter()
        .map(|f| {
            let name = f.name().trim().to_lowercase();
            columns.get(&name).copied().or_else(|| name.parse().ok())
        })
        .collect();
    let id_col = fields.iter().position(|f| *f == Some(InputField::RecordId));
    let source_col = fields.iter().position(|f| *f == Some(InputField::Source));
    let mut records = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    let mut row_base = 0usize;
    for batch in &batches {
        let text: Vec<Option<StringArray>> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| f.map(|_| as_strings(batch.column(i))).transpose())
            .collect::<PyResult<_>>()?;
        let cell = |col: usize, row: usize| -> &str {
            match &text[col] {
                Some(a) if a.is_valid(row) => a.value(row).trim(),
                _ => "",
            }
        };
        for row in 0..batch.num_rows() {
            let line = row_base + row;
            let id = match id_col {
                Some(c) if cell(c, row).is_empty() => {
                    return Err(InputError::new_err(format!("row {line}: empty record_id")));
                }
                Some(c) => cell(c, row).to_owned(),
                None => format!("row{line}"),
            };
            let source = match source_col.map(|c| cell(c, row)) {
                Some(s) if !s.is_empty() => s,
                _ => "input",
            };
            let mut r = Record::new(id, source);
            for (col, f) in fields.iter().enumerate() {
                if let Some(f) = f {
                    f.apply(&mut r, source, cell(col, row))
                        .map_err(|e| InputError::new_err(format!("row {line}: {e}")))?;
                }
            }
            records.push(r);
        }
        row_base += batch.num_rows();
    }
    Ok(records)
}

#[pymethods]
impl PyResolver {
    #[new]
    #[pyo3(signature = (
        *,
        region = "RU",
        threshold = 0.5,
        rules = None,
        max_block_size = 50,
        window = 10,
        partial_max_block_size = 8,
        partial_window = 3,
        single_valued_systems = Vec::new(),
        trusted_systems = Vec::new(),
        limits = None,
        strong_link = 0.75,
        birth_dates_cannot_link = true,
        first_names_cannot_link = true,
        source_priority = Vec::new(),
        survivorship = None,
        columns = None,
        seed = None,
        u_sample_pairs = 1_000_000,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        region: &str,
        threshold: f32,
        rules: Option<Vec<String>>,
        max_block_size: usize,
        window: usize,
        partial_max_block_size: usize,
        partial_window: usize,
        single_valued_systems: Vec<String>,
        trusted_systems: Vec<String>,
        limits: Option<HashMap<String, Option<usize>>>,
        strong_link: f32,
        birth_dates_cannot_link: bool,
        first_names_cannot_link: bool,
        source_priority: Vec<String>,
        survivorship: Option<Vec<String>>,
        columns: Option<HashMap<String, String>>,
        seed: Option<u64>,
        u_sample_pairs: u64,
    ) -> PyResult<Self> {
        let mut blocking = BlockingConfig::new()
            .max_block_size(max_block_size)
            .window(window)
            .partial_max_block_size(partial_max_block_size)
            .partial_window(partial_window);
        if let Some(rules) = rules {
            let rules = rules
                .iter()
                .map(|r| parse::<BlockingRule>(r))
                .collect::<PyResult<Vec<_>>>()?;
            blocking = blocking.rules(rules);
        }
        let mut cluster = ClusterConfig::new()
            .threshold(threshold)
            .strong_link(strong_link)
            .birth_dates_cannot_link(birth_dates_cannot_link)
            .first_names_cannot_link(first_names_cannot_link);
        for s in single_valued_systems {
            cluster = cluster.single_valued_system(s);
        }
        for s in trusted_systems {
            cluster = cluster.trusted_system(s);
        }
        for (kind, max) in limits.unwrap_or_default() {
            cluster = cluster.limit(parse::<IdKind>(&kind)?, max);
        }
        let mut profile = ProfileConfig::new().source_priority(source_priority);
        if let Some(order) = survivorship {
            let order = order
                .iter()
                .map(|s| parse::<Survivorship>(s))
                .collect::<PyResult<Vec<_>>>()?;
            profile = profile.order(order);
        }
        let mut map = HashMap::new();
        for (column, field) in columns.unwrap_or_default() {
            map.insert(column.trim().to_lowercase(), parse::<InputField>(&field)?);
        }
        let resolver = Resolver::new()
            .dataset(DatasetBuilder::new().region(parse::<Region>(region)?))
            .blocking(blocking)
            .train({
                let t = TrainConfig::new().u_sample_pairs(u_sample_pairs);
                match seed {
                    Some(s) => t.seed(s),
                    None => t,
                }
            })
            .cluster(cluster)
            .profile(profile);
        // Settings are checked by each stage; one empty run surfaces a bad
        // one now rather than at the first table.
        resolver.resolve(Vec::new()).map_err(py_err)?;
        Ok(PyResolver {
            resolver,
            columns: map,
            model: None,
            last: None,
            threshold,
        })
    }

    /// Trains a model on `table` (u from random pairs, m and per-rule priors
    /// by EM) and keeps it for later `resolve` calls. Returns the training
    /// report as JSON.
    fn fit_json(&mut self, py: Python<'_>, table: PyTable) -> PyResult<String> {
        let records = records_of(table, &self.columns)?;
        let run = py
            .detach(|| self.resolver.resolve(records))
            .map_err(py_err)?;
        let report = serde_json::to_string(&run.report())
            .map_err(|e| IdstitchError::new_err(e.to_string()))?;
        self.model = Some(run.model().clone());
        self.last = Some(run);
        Ok(report)
    }

    /// Resolves `table`: a `pyarrow.Table` of `record_id` (text) and
    /// `cluster_id` (uint32), in input order. Uses the kept model if there
    /// is one (`fit`, `load_model`), else trains on this table.
    fn resolve<'py>(&mut self, py: Python<'py>, table: PyTable) -> PyResult<Bound<'py, PyAny>> {
        let records = records_of(table, &self.columns)?;
        let run = py
            .detach(|| match &self.model {
                Some(m) => self.resolver.resolve_with(records, m),
                None => self.resolver.resolve(records),
            })
            .map_err(py_err)?;
        let ds = run.dataset();
        let order = ds.input_order();
        let ids: StringArray = order
            .iter()
            .map(|&ix| Some(ds.record_ids()[ix as usize].as_str()))
            .collect();
        let labels = UInt32Array::from(run.labels_in_input_order());
        self.last = Some(run);
        let schema = Arc::new(Schema::new(vec![
            Field::new("record_id", DataType::Utf8, false),
            Field::new("cluster_id", DataType::UInt32, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(ids) as ArrayRef, Arc::new(labels) as ArrayRef],
        )
        .map_err(|e| IdstitchError::new_err(e.to_string()))?;
        PyTable::try_new(vec![batch], schema)?.into_pyarrow(py)
    }

    /// Why two records of the last resolved table were (not) linked, as
    /// JSON, or `None` when they were never compared.
    fn explain_json(&self, record_a: &str, record_b: &str) -> PyResult<Option<String>> {
        let run = self.last_run()?;
        let e = run
            .explain(&record_a.into(), &record_b.into())
            .map_err(py_err)?;
        e.map(|e| serde_json::to_string(&e).map_err(|e| IdstitchError::new_err(e.to_string())))
            .transpose()
    }

    /// Every identity's golden profile of the last resolved table, as JSON
    /// lines (one object per identity, numbered as `cluster_id`).
    fn profiles_jsonl(&self, py: Python<'_>) -> PyResult<String> {
        let run = self.last_run()?;
        py.detach(|| -> PyResult<String> {
            let profiles = run.profiles().map_err(py_err)?;
            let mut out = String::new();
            for p in &profiles {
                out.push_str(
                    &serde_json::to_string(p).map_err(|e| IdstitchError::new_err(e.to_string()))?,
                );
                out.push('\n');
            }
            Ok(out)
        })
    }

    /// Run statistics of the last resolved table, as JSON.
    fn stats_json(&self) -> PyResult<String> {
        let run = self.last_run()?;
        let stats = serde_json::json!({
            "records": run.dataset().len(),
            "candidate_pairs": run.candidates().pairs().len(),
            "generic_values": run.candidates().generic().values().len(),
            "identities": run.clusters().len(),
            "clusters": run.clusters().stats(),
            "blocking": run.candidates().stats(),
        });
        Ok(stats.to_string())
    }

    /// The kept model as JSON (`idstitch-model` format), else the model the
    /// last `resolve` trained, or `None`.
    #[getter]
    fn model_json(&self) -> Option<String> {
        self.model
            .as_ref()
            .or(self.last.as_ref().map(Resolution::model))
            .map(Model::to_json)
    }

    /// Keeps a model read from JSON for later `resolve` calls.
    fn load_model_json(&mut self, json: &str) -> PyResult<()> {
        self.model = Some(Model::from_json(json).map_err(py_err)?);
        Ok(())
    }

    /// Forgets the kept model: the next `resolve` trains again.
    fn forget_model(&mut self) {
        self.model = None;
    }

    // The distributed pieces (`idstitch::Resolver::record_keys`…): what an
    // engine such as Spark calls on each group of records.

    /// The rules' names, in the order `rule` indices refer to.
    #[getter]
    fn rules(&self) -> Vec<String> {
        self.resolver
            .blocking_rules()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect()
    }

    /// Every key each record of `table` holds: a table of `record_id`,
    /// `key`, `rule` (int16, -1 when no rule blocks on it) and `value`
    /// (whether it is an identifier value).
    fn record_keys<'py>(&self, py: Python<'py>, table: PyTable) -> PyResult<Bound<'py, PyAny>> {
        let records = records_of(table, &self.columns)?;
        let keys = py
            .detach(|| self.resolver.record_keys(records))
            .map_err(py_err)?;
        let ids: StringArray = keys.iter().map(|k| Some(k.record.as_str())).collect();
        let key: StringArray = keys.iter().map(|k| Some(k.key.as_str())).collect();
        let rule: Int16Array = keys
            .iter()
            .map(|k| Some(k.rule.map_or(-1, i16::from)))
            .collect();
        let value: BooleanArray = keys.iter().map(|k| Some(k.value)).collect();
        table_of(
            py,
            vec![
                ("record_id", Arc::new(ids) as ArrayRef),
                ("key", Arc::new(key)),
                ("rule", Arc::new(rule)),
                ("value", Arc::new(value)),
            ],
        )
    }

    /// Each record's term-frequency keys for the model's fields: a table
    /// of `field` and `key`, to be counted over all records.
    fn frequency_keys<'py>(&self, py: Python<'py>, table: PyTable) -> PyResult<Bound<'py, PyAny>> {
        let records = records_of(table, &self.columns)?;
        let fields = [
            idstitch::Field::FirstName,
            idstitch::Field::MiddleName,
            idstitch::Field::Surname,
            idstitch::Field::City,
        ];
        let keys = py
            .detach(|| self.resolver.frequency_keys(records, &fields))
            .map_err(py_err)?;
        let field: StringArray = keys.iter().map(|k| Some(k.1.as_str())).collect();
        let key: StringArray = keys.iter().map(|k| Some(k.2.as_str())).collect();
        table_of(
            py,
            vec![
                ("field", Arc::new(field) as ArrayRef),
                ("key", Arc::new(key)),
            ],
        )
    }

    /// Freezes counted term frequencies of `field` into the kept model
    /// (`keys[i]` held by `counts[i]` records, over all records).
    fn set_frequencies(
        &mut self,
        field: &str,
        keys: Vec<String>,
        counts: Vec<u32>,
    ) -> PyResult<()> {
        if keys.len() != counts.len() {
            return Err(ConfigError::new_err("keys and counts differ in length"));
        }
        let field = parse::<idstitch::Field>(field)?;
        let model = self
            .model
            .as_ref()
            .ok_or_else(|| ModelError::new_err("no model: fit or load one first"))?;
        let frozen = model
            .clone()
            .with_frequencies(field, keys.into_iter().zip(counts))
            .map_err(py_err)?;
        self.model = Some(frozen);
        Ok(())
    }

    /// Whether identifier value `key` is generic, judged over `table`:
    /// every record holding it.
    fn is_generic_value(&self, py: Python<'_>, key: &str, table: PyTable) -> PyResult<bool> {
        let records = records_of(table, &self.columns)?;
        py.detach(|| self.resolver.is_generic_value(key, records))
            .map_err(py_err)
    }

    /// The pairs one block yields: `table` holds every record with `key`
    /// under rule index `rule`. A table of `a` and `b` (record IDs).
    fn block<'py>(
        &self,
        py: Python<'py>,
        rule: u8,
        key: &str,
        table: PyTable,
    ) -> PyResult<Bound<'py, PyAny>> {
        let records = records_of(table, &self.columns)?;
        let pairs = py
            .detach(|| self.resolver.block(rule, key, records))
            .map_err(py_err)?;
        let a: StringArray = pairs.iter().map(|p| Some(p.0.as_str())).collect();
        let b: StringArray = pairs.iter().map(|p| Some(p.1.as_str())).collect();
        table_of(py, vec![("a", Arc::new(a) as ArrayRef), ("b", Arc::new(b))])
    }

    /// Scores the pairs of `pairs` (columns `a`, `b`, `rule`) with the kept
    /// model (frequencies frozen): `records` hold both records of each pair,
    /// `generic` the keys of every generic value. A table of one float32
    /// column, `probability`, in the pairs' order.
    fn score_pairs<'py>(
        &self,
        py: Python<'py>,
        records: PyTable,
        pairs: PyTable,
        generic: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let model = self
            .model
            .as_ref()
            .ok_or_else(|| ModelError::new_err("no model: fit or load one first"))?;
        let pairs = pair_columns(&pairs)?;
        let records = records_of(records, &self.columns)?;
        let generic: HashSet<String> = generic.into_iter().collect();
        let probs = py
            .detach(|| self.resolver.score_pairs(model, &generic, records, &pairs))
            .map_err(py_err)?;
        table_of(
            py,
            vec![(
                "probability",
                Arc::new(Float32Array::from(probs)) as ArrayRef,
            )],
        )
    }

    /// The identities of one link component: `records` all its records,
    /// `links` its links (columns `a`, `b`, `rule`, `probability`),
    /// `generic` the keys of every generic value. A table of `record_id`
    /// and `label` (equal labels: one identity).
    fn cluster_component<'py>(
        &self,
        py: Python<'py>,
        records: PyTable,
        links: PyTable,
        generic: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let pairs = pair_columns(&links)?;
        let probs = column(&links, "probability", &DataType::Float32)?;
        let probs: Vec<f32> = probs
            .iter()
            .flat_map(|a| a.as_primitive::<Float32Type>().values().to_vec())
            .collect();
        let links: Vec<_> = pairs
            .into_iter()
            .zip(probs)
            .map(|((a, b, r), p)| (a, b, r, p))
            .collect();
        let records = records_of(records, &self.columns)?;
        let generic: HashSet<String> = generic.into_iter().collect();
        let labels = py
            .detach(|| self.resolver.cluster_component(&generic, records, &links))
            .map_err(py_err)?;
        let ids: StringArray = labels.iter().map(|l| Some(l.0.as_str())).collect();
        let label = UInt32Array::from(labels.iter().map(|l| l.1).collect::<Vec<_>>());
        table_of(
            py,
            vec![
                ("record_id", Arc::new(ids) as ArrayRef),
                ("label", Arc::new(label)),
            ],
        )
    }

    /// The link threshold.
    #[getter]
    fn threshold(&self) -> f32 {
        self.threshold
    }

    /// `(largest block paired whole, window)` of rule index `rule`.
    fn block_bounds(&self, rule: usize) -> PyResult<(usize, usize)> {
        let r = self
            .resolver
            .blocking_rules()
            .get(rule)
            .ok_or_else(|| ConfigError::new_err("no blocking rule has this index"))?;
        Ok(self
            .resolver
            .blocking_config()
            .block_bounds(r.partial_name()))
    }

    /// The fewest holders a generic value has.
    #[getter]
    fn generic_min_records(&self) -> usize {
        self.resolver
            .blocking_config()
            .generic_config()
            .get_min_records()
    }
}

/// One column of a table by name, cast to `to`.
fn column(table: &PyTable, name: &str, to: &DataType) -> PyResult<Vec<ArrayRef>> {
    let Some(first) = table.batches().first() else {
        return Ok(Vec::new());
    };
    let i = first
        .schema()
        .index_of(name)
        .map_err(|_| InputError::new_err(format!("missing column {name}")))?;
    table
        .batches()
        .iter()
        .map(|b| {
            arrow_cast::cast(b.column(i), to)
                .map_err(|e| InputError::new_err(format!("column {name}: {e}")))
        })
        .collect()
}

/// The `a`, `b` and `rule` columns of a pairs table.
fn pair_columns(table: &PyTable) -> PyResult<Vec<(RecordId, RecordId, u8)>> {
    let (a, b) = (
        column(table, "a", &DataType::Utf8)?,
        column(table, "b", &DataType::Utf8)?,
    );
    let rule = column(table, "rule", &DataType::UInt8)?;
    let mut out = Vec::new();
    for ((a, b), rule) in a.iter().zip(&b).zip(&rule) {
        let (a, b, rule) = (
            a.as_string::<i32>(),
            b.as_string::<i32>(),
            rule.as_primitive::<UInt8Type>(),
        );
        for i in 0..a.len() {
            if a.is_null(i) || b.is_null(i) || rule.is_null(i) {
                return Err(InputError::new_err(format!("pair {i}: empty a, b or rule")));
            }
            out.push((a.value(i).into(), b.value(i).into(), rule.value(i)));
        }
    }
    Ok(out)
}

fn table_of<'py>(py: Python<'py>, columns: Vec<(&str, ArrayRef)>) -> PyResult<Bound<'py, PyAny>> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .map_err(|e| IdstitchError::new_err(e.to_string()))?;
    PyTable::try_new(vec![batch], schema)?.into_pyarrow(py)
}

impl PyResolver {
    fn last_run(&self) -> PyResult<&Resolution> {
        self.last
            .as_ref()
            .ok_or_else(|| IdstitchError::new_err("no table resolved yet: call resolve first"))
    }
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(why, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_list, m)?)?;
    m.add_function(wrap_pyfunction!(normalize_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(name_key, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_json, m)?)?;
    m.add_class::<PyResolver>()?;
    let py = m.py();
    m.add("IdstitchError", py.get_type::<IdstitchError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    Ok(())
}
