//! The `run` subcommand: a CSV of customer records in, one identity per
//! record out, with a summary (and accuracy, given the truth) on stderr.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use idstitch::{
    BlockingConfig, BlockingRule, Candidates, ClusterConfig, Clusters, Comparator, CompareConfig,
    DatasetBuilder, Event, IdKind, IdentifierHasher, IdentityStore, InputField, Model,
    NormalizeOptions, ProfileConfig, Record, Region, Resolver, RowRef, Survivorship, TrainConfig,
    evaluate,
};
use rayon::prelude::*;

/// Arguments of `dedup run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input CSV with a header row.
    input: PathBuf,
    /// Where to write `record_id,cluster_id` (atomically).
    #[arg(long)]
    out: PathBuf,
    /// A TOML file of settings (see `examples/data/idstitch.toml`); flags
    /// given on the command line win.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Read column COLUMN as FIELD (repeatable), e.g. `--map tel=phone`.
    /// Fields: record_id, source, first_name, middle_name, last_name,
    /// full_name, email, phone, loyalty_id, device_id, customer_id, dob, city, address,
    /// first_seen, last_seen (Unix seconds or YYYY-MM-DD), consent, opt_out (channels:
    /// email, sms, push, messenger, call, post), email_hash, phone_hash (64 hex
    /// digits hashed by a partner).
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    map: Vec<String>,
    /// Default region for phones written without a country code (default RU).
    #[arg(long)]
    region: Option<Region>,
    /// Blocking rules, comma-separated, in priority order (default: all but
    /// first_name_surname and birth_date). Names: email, phone, loyalty,
    /// device, customer_id, surname_birth_date, first_name_birth_date,
    /// first_name_surname, name_phonetic_city, surname_address, birth_date.
    #[arg(long, value_delimiter = ',')]
    rules: Vec<BlockingRule>,
    /// Link probability at or above which records are merged (default 0.5).
    #[arg(long)]
    threshold: Option<f32>,
    /// Also write every scored pair: `record_a,record_b,probability,rule`.
    #[arg(long)]
    pairs: Option<PathBuf>,
    /// Hash every e-mail and phone (canonical form, HMAC-SHA-256) with the
    /// key in FILE before matching: raw contacts never reach the matcher, and
    /// they meet a partner's `email_hash`/`phone_hash` columns hashed with
    /// the same key.
    #[arg(long, value_name = "FILE", conflicts_with = "hash_sha256")]
    hash_key: Option<PathBuf>,
    /// Hash e-mails and phones with unkeyed SHA-256 instead (for partner
    /// schemes that require it; enumerable for phones).
    #[arg(long)]
    hash_sha256: bool,
    /// Keep living identities in DIR: the records join those of earlier
    /// runs (same ID: replaced), identities keep stable IDs (`--out` gets
    /// every stored record with its identity ID), `DIR/events.jsonl` lists
    /// what changed, `DIR/state.idstitch` is the checksummed snapshot.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Also write one golden profile per identity as JSON lines (best name,
    /// birth date, contacts with sources and first/last seen, consent).
    #[arg(long)]
    profiles: Option<PathBuf>,
    /// Truth CSV (`record_id,person_id`): print pairwise and B-cubed accuracy.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Stop at the first malformed row instead of counting and skipping it.
    #[arg(long)]
    strict: bool,
    /// Cells longer than this many bytes make their row malformed.
    #[arg(long, default_value_t = 65_536)]
    max_cell_bytes: usize,
}

/// Settings from `--config`: every key optional.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    pub(crate) region: Option<String>,
    pub(crate) threshold: Option<f32>,
    rules: Option<Vec<BlockingRule>>,
    /// Column name → field, as `--map`.
    #[serde(default)]
    columns: HashMap<String, String>,
    #[serde(default)]
    blocking: BlockingSection,
    #[serde(default)]
    cluster: ClusterSection,
    #[serde(default)]
    profiles: ProfileSection,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileSection {
    #[serde(default)]
    source_priority: Vec<String>,
    survivorship: Option<Vec<Survivorship>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockingSection {
    max_block_size: Option<usize>,
    window: Option<usize>,
    partial_max_block_size: Option<usize>,
    partial_window: Option<usize>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterSection {
    #[serde(default)]
    single_valued_systems: Vec<String>,
    #[serde(default)]
    trusted_systems: Vec<String>,
    /// Identifier type → most values per identity (0: no limit).
    #[serde(default)]
    limits: HashMap<IdKind, usize>,
    strong_link: Option<f32>,
    birth_dates_cannot_link: Option<bool>,
    first_names_cannot_link: Option<bool>,
}

pub(crate) fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let Some(path) = path else {
        return Ok(Config::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid settings in {}", path.display()))
}

/// A spinner with the running stage's name, on a terminal only: stderr that
/// goes to a file or a pipe gets the plain summary and nothing else.
struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    fn start(stage: &str) -> Spinner {
        if !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(stage.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Spinner(Some(bar))
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

/// A row that could not be read, by line number (never its content).
struct Malformed {
    line: u64,
    reason: String,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut stage = Instant::now();
    let lap = |name: &str, stage: &mut Instant| {
        eprintln!(
            "  {name:<22} {:>9.3} s{}",
            stage.elapsed().as_secs_f64(),
            memory_note()
        );
        *stage = Instant::now();
    };
    eprintln!("dedup run: {}", args.input.display());
    let config = load_config(args.config.as_deref())?;
    let region = match (args.region, &config.region) {
        (Some(r), _) => r,
        (None, Some(r)) => r.parse().context("config: region")?,
        (None, None) => Region::RU,
    };
    let threshold = args.threshold.or(config.threshold).unwrap_or(0.5);
    let mut maps: Vec<String> = config
        .columns
        .iter()
        .map(|(c, f)| format!("{c}={f}"))
        .collect();
    maps.sort();
    maps.extend(args.map.iter().cloned());
    let hasher = match (&args.hash_key, args.hash_sha256) {
        (Some(path), _) => {
            let key = std::fs::read(path)
                .with_context(|| format!("cannot read the hash key {}", path.display()))?;
            Some(IdentifierHasher::hmac(&key)?)
        }
        (None, true) => Some(IdentifierHasher::sha256()),
        (None, false) => None,
    };
    let input = Input {
        args,
        maps: &maps,
        hasher: hasher.as_ref(),
        opts: NormalizeOptions::new().region(region),
    };

    if let Some(dir) = &args.state {
        let spin = Spinner::start("reading records");
        let mut records = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut malformed = input.read(|lines, rows, malformed, _| {
            for (&line, r) in lines.iter().zip(input.records(rows)) {
                if seen.insert(r.id()) {
                    records.push(r);
                } else {
                    malformed.push(Malformed {
                        line,
                        reason: "duplicate record_id".into(),
                    });
                }
            }
            Ok(())
        })?;
        drop(spin);
        report_read(records.len(), &mut malformed, args.strict)?;
        lap("read", &mut stage);
        let resolver = Resolver::new()
            .dataset(DatasetBuilder::new().region(region))
            .blocking(blocking_config(&args.rules, &config))
            .cluster(cluster_config(&config, threshold))
            .profile(profile_config(&config));
        run_with_state(args, dir, resolver, records)?;
        lap("resolve and write", &mut stage);
        eprintln!(
            "  total                  {:>9.3} s",
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }

    // Rows are read, normalised and interned batch by batch: the raw
    // records of the whole file never exist at once.
    let spin = Spinner::start("reading and normalising");
    let mut stream = DatasetBuilder::new().region(region).stream()?;
    let mut lines = LineIndex::default();
    let mut reserved = false;
    let mut malformed = input.read(|batch_lines, rows, _, read| {
        for (k, &line) in batch_lines.iter().enumerate() {
            lines.push((stream.len() + k) as u64, line);
        }
        // Rows are normalised where they lie; hashing needs records.
        match input.hasher {
            Some(_) => stream.push(input.records(rows))?,
            None => stream.push_rows(rows)?,
        }
        // Once a sample of records is in, room for the rest of the file's
        // records at the rate seen so far (a hint: the dataset is the
        // same). Not sooner: the stream sizes each table by what the
        // records so far needed, and a few thousand records hold nearly as
        // many distinct names as records (10M peak 3.42 -> 3.66 GB when it
        // was sized after the first 4,096).
        if !reserved && stream.len() >= RESERVE_AFTER && read > 0.0 && read < 1.0 {
            let expected = (stream.len() as f64 / read * 1.02) as usize;
            stream.reserve(expected.saturating_sub(stream.len()));
            reserved = true;
        }
        Ok(())
    })?;
    let (ds, dropped) = stream.finish_keep_first()?;
    drop(spin);
    for &pos in &dropped.duplicates {
        malformed.push(Malformed {
            line: lines.line(pos),
            reason: "duplicate record_id".into(),
        });
    }
    report_read(ds.len(), &mut malformed, args.strict)?;
    let stats = ds.stats();
    for (kind, reasons) in &stats.excluded {
        let total: u64 = reasons.values().sum();
        let detail: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
        eprintln!(
            "  unusable {:<13} {:>9}  ({})",
            kind.as_str(),
            total,
            detail.join(", ")
        );
    }
    lap("read and normalise", &mut stage);

    let blocking = blocking_config(&args.rules, &config);
    let spin = Spinner::start("blocking");
    let mut cands = Candidates::find(&ds, &blocking)?;
    drop(spin);
    let generic = cands.generic().values();
    eprintln!("  generic values         {:>9}", generic.len());
    for kind in IdKind::ALL {
        let n = generic.iter().filter(|g| g.kind == kind).count();
        if n > 0 {
            eprintln!("    {:<20} {:>9}", kind.as_str(), n);
        }
    }
    eprintln!("  candidate pairs        {:>9}", cands.pairs().len());
    lap("block", &mut stage);

    let cmp = Comparator::new(&ds, cands.generic(), CompareConfig::new())?;
    let spin = Spinner::start("comparing pairs");
    // Each pair is compared once, for training and scoring both.
    let vectors = cmp.compare_pairs(cands.pairs());
    drop(spin);
    lap("compare", &mut stage);
    let spin = Spinner::start("training (u sample, EM)");
    let (model, report) = Model::train_with_vectors(&cmp, &cands, &vectors, &TrainConfig::new())?;
    drop(spin);
    eprintln!(
        "  EM iterations          {:>9}{}",
        report.iterations,
        if report.converged {
            ""
        } else {
            " (not converged)"
        }
    );
    for (rule, prior, pairs) in &report.priors {
        eprintln!(
            "    prior {:<21} {prior:>9.4}  ({pairs} pairs)",
            rule.as_str()
        );
    }
    lap("train", &mut stage);
    let spin = Spinner::start("scoring pairs");
    let mut scored = model.score_vectors(&cmp, cands.rules(), cands.pairs(), &vectors)?;
    drop(vectors);
    // Scored, the candidate list is redundant; without `--pairs`, so are
    // the pairs clustering will not use.
    drop(cands.take_pairs());
    if args.pairs.is_none() {
        scored.retain(|p| p.probability >= threshold);
        scored.shrink_to_fit();
    }
    drop(spin);
    lap("score", &mut stage);

    let cfg = cluster_config(&config, threshold);
    let spin = Spinner::start("clustering");
    let clusters = Clusters::build(&ds, &scored, cands.rules(), cands.generic(), &cfg)?;
    drop(spin);
    let cs = clusters.stats();
    let refused: u64 = cs.refused.values().sum();
    eprintln!(
        "  links accepted         {:>9}",
        cs.links_applied + cs.trusted_merges
    );
    eprintln!("  links refused          {:>9}", refused);
    eprintln!("  weak bridges cut       {:>9}", cs.bridges_cut);
    eprintln!("  identities             {:>9}", cs.identities);
    eprintln!("  largest identity       {:>9}", cs.largest);
    eprintln!("  households             {:>9}", cs.households);
    lap("cluster", &mut stage);

    write_atomic(&args.out, |w| write_clusters(w, &ds, &clusters))?;
    if let Some(path) = &args.pairs {
        write_atomic(path, |w| {
            let mut out = csv::Writer::from_writer(w);
            out.write_record(["record_a", "record_b", "probability", "rule"])?;
            for s in &scored {
                let rule = cands
                    .rules()
                    .get(s.rule as usize)
                    .map_or("", |r| r.as_str());
                let (a, b) = (
                    ds.record_ids()[s.a as usize].as_str(),
                    ds.record_ids()[s.b as usize].as_str(),
                );
                out.write_record([a, b, &format!("{:.6}", s.probability), rule])?;
            }
            out.flush()?;
            Ok(())
        })?;
    }
    if let Some(path) = &args.profiles {
        let pc = profile_config(&config);
        let profiles = clusters.profiles(&ds, &pc)?;
        write_atomic(path, |w| {
            for p in &profiles {
                serde_json::to_writer(&mut *w, p)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })?;
        eprintln!("  profiles written       {:>9}", profiles.len());
    }
    lap("write", &mut stage);

    if let Some(path) = &args.truth {
        report_accuracy(path, &ds, &clusters)?;
    }
    eprintln!(
        "  total                  {:>9.3} s",
        started.elapsed().as_secs_f64()
    );
    // The process ends here: handing gigabytes back to the allocator value
    // by value would only delay the exit (about 2 s at 10M records).
    std::mem::forget(scored);
    std::mem::forget(clusters);
    std::mem::forget(ds);
    Ok(())
}

pub(crate) fn blocking_config(rules: &[BlockingRule], config: &Config) -> BlockingConfig {
    let mut blocking = BlockingConfig::new();
    if !rules.is_empty() {
        blocking = blocking.rules(rules.iter().copied());
    } else if let Some(rules) = &config.rules {
        blocking = blocking.rules(rules.iter().copied());
    }
    if let Some(n) = config.blocking.max_block_size {
        blocking = blocking.max_block_size(n);
    }
    if let Some(n) = config.blocking.window {
        blocking = blocking.window(n);
    }
    if let Some(n) = config.blocking.partial_max_block_size {
        blocking = blocking.partial_max_block_size(n);
    }
    if let Some(n) = config.blocking.partial_window {
        blocking = blocking.partial_window(n);
    }
    blocking
}

pub(crate) fn cluster_config(config: &Config, threshold: f32) -> ClusterConfig {
    let mut cfg = ClusterConfig::new().threshold(threshold);
    for system in &config.cluster.single_valued_systems {
        cfg = cfg.single_valued_system(system);
    }
    for system in &config.cluster.trusted_systems {
        cfg = cfg.trusted_system(system);
    }
    for (kind, &max) in &config.cluster.limits {
        cfg = cfg.limit(*kind, (max > 0).then_some(max));
    }
    if let Some(p) = config.cluster.strong_link {
        cfg = cfg.strong_link(p);
    }
    if let Some(yes) = config.cluster.birth_dates_cannot_link {
        cfg = cfg.birth_dates_cannot_link(yes);
    }
    if let Some(yes) = config.cluster.first_names_cannot_link {
        cfg = cfg.first_names_cannot_link(yes);
    }
    cfg
}

pub(crate) fn profile_config(config: &Config) -> ProfileConfig {
    let mut pc = ProfileConfig::new().source_priority(config.profiles.source_priority.iter());
    if let Some(order) = &config.profiles.survivorship {
        pc = pc.order(order.iter().copied());
    }
    pc
}

/// The state file inside a `--state` directory.
pub(crate) const STATE_FILE: &str = "state.idstitch";

/// Loads the store in `dir` (a new one if there is none yet).
pub(crate) fn load_store(dir: &Path, resolver: Resolver) -> anyhow::Result<IdentityStore> {
    let path = dir.join(STATE_FILE);
    match std::fs::read(&path) {
        // One batch per run: the incremental index would only cost memory.
        Ok(bytes) => IdentityStore::restore(resolver, &bytes)
            .map(|s| s.incremental(false))
            .with_context(|| format!("cannot load {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(IdentityStore::new(resolver).incremental(false))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes the store's snapshot and this change's events into `dir`.
pub(crate) fn save_store(
    dir: &Path,
    store: &IdentityStore,
    events: &[Event],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_atomic(&dir.join("events.jsonl"), |w| {
        for e in events {
            serde_json::to_writer(&mut *w, e)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })?;
    let snapshot = store.snapshot();
    write_atomic(&dir.join(STATE_FILE), |w| Ok(w.write_all(&snapshot)?))?;
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for e in events {
        let name = match e {
            Event::Created { .. } => "created",
            Event::Assigned { .. } => "assigned",
            Event::Merged { .. } => "merged",
            Event::Split { .. } => "split",
            Event::Unassigned { .. } => "unassigned",
            Event::Removed { .. } => "removed",
        };
        *counts.entry(name).or_default() += 1;
    }
    for (name, n) in counts {
        eprintln!("  events {name:<15} {n:>9}");
    }
    Ok(())
}

/// `dedup run --state DIR`: the records join the stored ones (replacing
/// those with the same ID), the store re-resolves with its frozen model, and
/// `--out` gets every stored record with its stable identity ID.
fn run_with_state(
    args: &Args,
    dir: &Path,
    resolver: Resolver,
    records: Vec<Record>,
) -> anyhow::Result<()> {
    let mut store = load_store(dir, resolver)?;
    let before = store.len();
    let update = store.add(records)?;
    let resolution = match update.resolution {
        Some(r) => r,
        None => store.resolution()?,
    };
    eprintln!("  records stored before  {before:>9}");
    eprintln!("  records stored now     {:>9}", store.len());
    eprintln!(
        "  identities             {:>9}",
        resolution.clusters().len()
    );
    write_atomic(&args.out, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(["record_id", "cluster_id"])?;
        for (record, identity) in store.identities().assignments() {
            out.write_record([record.as_str(), identity.as_str()])?;
        }
        out.flush()?;
        Ok(())
    })?;
    if let Some(path) = &args.profiles {
        let profiles = resolution.profiles()?;
        write_atomic(path, |w| {
            for p in &profiles {
                let id = p.records.first().and_then(|r| store.identity_of(r));
                let mut value = serde_json::to_value(p)?;
                value["identity_id"] = serde_json::json!(id.map(|i| i.as_str()));
                serde_json::to_writer(&mut *w, &value)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })?;
    }
    save_store(dir, &store, &update.events)?;
    if let Some(path) = &args.truth {
        report_accuracy(path, resolution.dataset(), resolution.clusters())?;
    }
    Ok(())
}

/// The input file and how its rows become records.
struct Input<'a> {
    args: &'a Args,
    maps: &'a [String],
    hasher: Option<&'a IdentifierHasher>,
    opts: NormalizeOptions,
}

/// Rows per batch between the reader thread and the row readers. Small:
/// a batch's cells and normalised values then stay in cache from reading
/// to interning (1M rows: 2.27 s end to end with batches of 32,768 rows,
/// 1.90 s with 4,096; 100k rows: 0.30 -> 0.24 s).
const BATCH_ROWS: usize = 1 << 12;

/// Records read before the stream is sized for the whole file.
const RESERVE_AFTER: usize = 1 << 15;

/// One row as read: its line and cells, or why it could not be read.
type RawRow = (u64, Result<csv::ByteRecord, &'static str>);

impl Input<'_> {
    /// Reads the CSV on a thread of its own, a batch of rows at a time, reads
    /// each batch's rows in parallel and hands them, borrowed from the
    /// batch, with their line numbers, to `each` in file order. Returns the
    /// malformed rows (`each` may add to them).
    fn read(
        &self,
        mut each: impl FnMut(&[u64], &[RowRef<'_>], &mut Vec<Malformed>, f64) -> anyhow::Result<()>,
    ) -> anyhow::Result<Vec<Malformed>> {
        let args = self.args;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            // A read call per 64 KiB rather than per 8 KiB (the default):
            // the reader thread's CSV parse of 99k rows 11.1 -> 10.3 ms.
            .buffer_capacity(64 << 10)
            .from_path(&args.input)
            .with_context(|| format!("cannot open {}", args.input.display()))?;
        let mut header = csv::ByteRecord::new();
        match reader.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => bail!("the input is empty: a header row is required"),
            Err(e) => return Err(e).context("cannot read the header row"),
        }
        let columns = self.columns(&header)?;
        let mut malformed = Vec::new();
        std::thread::scope(|scope| {
            // Each batch with the fraction of the file read by its end.
            let file_len = std::fs::metadata(&args.input).map_or(0, |m| m.len());
            let (tx, rx) = std::sync::mpsc::sync_channel::<anyhow::Result<(Vec<RawRow>, f64)>>(2);
            let (row_bytes, fields) = (header.as_slice().len().max(256), header.len());
            // Read batches come back once turned into records, so the
            // reader refills their rows' buffers instead of allocating.
            let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<RawRow>>();
            scope.spawn(move || {
                let mut line = 1u64;
                let mut spare: Vec<RawRow> = Vec::new();
                loop {
                    let mut batch = Vec::with_capacity(BATCH_ROWS);
                    while batch.len() < BATCH_ROWS {
                        if spare.is_empty() {
                            spare = back_rx.try_recv().unwrap_or_default();
                        }
                        let mut row = match spare.pop() {
                            Some((_, Ok(row))) => row,
                            // Room for a typical row, so reading it does not
                            // grow the buffers step by step.
                            _ => csv::ByteRecord::with_capacity(row_bytes, fields),
                        };
                        line += 1;
                        match reader.read_byte_record(&mut row) {
                            Ok(false) => break,
                            Ok(true) => {
                                if let Some(pos) = row.position() {
                                    line = pos.line();
                                }
                                batch.push((line, Ok(row)));
                            }
                            Err(e) => {
                                if let csv::ErrorKind::Io(_) = e.kind() {
                                    let _ = tx.send(Err(e).context("read failed"));
                                    return;
                                }
                                batch.push((line, Err("unreadable CSV row")));
                            }
                        }
                    }
                    let last = batch.len() < BATCH_ROWS;
                    let read = if last || file_len == 0 {
                        1.0
                    } else {
                        (reader.position().byte() as f64 / file_len as f64).min(1.0)
                    };
                    // A closed channel: the consumer stopped (`--strict`).
                    if tx.send(Ok((batch, read))).is_err() || last {
                        return;
                    }
                }
            });
            // What stands in for a malformed row until it is taken out: a
            // row of no cells (which `new` cannot refuse).
            let blank = RowRef::new(&[], std::iter::empty(), String::new)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            for batch in rx {
                let (batch, read) = batch?;
                // Rows read from the cells in place, in parallel, each
                // written straight into its place (moving rows one by one on
                // this thread was 5 % of a 100k run); a malformed row's
                // reason is set aside, and only then (rarely) is its place
                // taken out.
                let failed = std::sync::Mutex::new(Vec::new());
                let mut rows: Vec<RowRef<'_>> = Vec::with_capacity(batch.len());
                batch
                    .par_iter()
                    .enumerate()
                    .map(|(k, (line, row))| match self.row(row, &columns, *line) {
                        Ok(r) => r,
                        Err(reason) => {
                            failed
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .push((
                                    k,
                                    Malformed {
                                        line: *line,
                                        reason,
                                    },
                                ));
                            blank.clone()
                        }
                    })
                    .collect_into_vec(&mut rows);
                let mut lines: Vec<u64> = batch.iter().map(|(line, _)| *line).collect();
                let mut failed = failed
                    .into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if !failed.is_empty() {
                    failed.sort_unstable_by_key(|(k, _)| *k);
                    let bad: Vec<usize> = failed.iter().map(|(k, _)| *k).collect();
                    remove_at(&mut rows, &bad);
                    remove_at(&mut lines, &bad);
                    for (_, m) in failed {
                        if args.strict {
                            bail!("line {}: {} (--strict)", m.line, m.reason);
                        }
                        malformed.push(m);
                    }
                }
                each(&lines, &rows, &mut malformed, read)?;
                drop(rows);
                // The buffers go back for the reader to refill (it may have
                // finished: then they are dropped).
                let _ = back_tx.send(batch);
                if args.strict
                    && let Some(m) = malformed.first()
                {
                    bail!("line {}: {} (--strict)", m.line, m.reason);
                }
            }
            Ok(())
        })?;
        Ok(malformed)
    }

    /// The field each column is read as (`None`: ignored).
    fn columns(&self, header: &csv::ByteRecord) -> anyhow::Result<Vec<Option<InputField>>> {
        let mut overrides: HashMap<String, InputField> = HashMap::new();
        for m in self.maps {
            let (col, field) = m
                .split_once('=')
                .with_context(|| format!("--map {m}: expected COLUMN=FIELD"))?;
            let field: InputField = field
                .parse()
                .with_context(|| format!("--map {m}: unknown field"))?;
            overrides.insert(col.trim().to_lowercase(), field);
        }
        Ok(header
            .iter()
            .map(|h| {
                let name = String::from_utf8_lossy(h)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_lowercase();
                overrides.get(&name).copied().or_else(|| name.parse().ok())
            })
            .collect())
    }

    /// One row read from its cells where the reader put them, or why it
    /// is malformed. Rows without a `record_id` column are named by their
    /// line.
    fn row<'t>(
        &self,
        row: &'t Result<csv::ByteRecord, &'static str>,
        columns: &[Option<InputField>],
        line: u64,
    ) -> Result<RowRef<'t>, String> {
        let row = row.as_ref().map_err(|e| (*e).to_owned())?;
        if row.len() != columns.len() {
            return Err("wrong number of fields".into());
        } else if row.iter().any(|c| c.len() > self.args.max_cell_bytes) {
            return Err("cell too large".into());
        }
        // One UTF-8 check per row (an all-ASCII row in one pass); each cell
        // is then a slice of the checked text, and a cell that would cut a
        // character in two (valid text as a whole, not cell by cell) is
        // invalid too. Cells found in one pass over their ranges.
        let text = std::str::from_utf8(row.as_slice()).map_err(|_| "invalid UTF-8".to_owned())?;
        let mut cells: smallvec::SmallVec<[&str; 16]> = smallvec::SmallVec::new();
        for i in 0..row.len() {
            // `None` where the cell's range does not fall on character
            // boundaries.
            cells.push(
                row.range(i)
                    .and_then(|r| text.get(r))
                    .ok_or("invalid UTF-8")?,
            );
        }
        RowRef::new(columns, cells, || format!("line{line}")).map_err(|e| e.to_string())
    }

    /// Owned records of `rows` (hashed, with `--hash-key`).
    fn records(&self, rows: &[RowRef<'_>]) -> Vec<Record> {
        rows.par_iter()
            .map(|r| match self.hasher {
                Some(h) => r.to_record().hash_identifiers(h, &self.opts),
                None => r.to_record(),
            })
            .collect()
    }
}

/// Removes the elements at `positions` (ascending) from `v`.
fn remove_at<T>(v: &mut Vec<T>, positions: &[usize]) {
    let mut positions = positions.iter().peekable();
    let mut k = 0;
    v.retain(|_| {
        let bad = positions.next_if_eq(&&k).is_some();
        k += 1;
        !bad
    });
}

/// Prints the read summary; with `--strict`, fails on the first malformed row.
fn report_read(records: usize, malformed: &mut [Malformed], strict: bool) -> anyhow::Result<()> {
    malformed.sort_by_key(|m| m.line);
    if strict && let Some(m) = malformed.first() {
        bail!("line {}: {} (--strict)", m.line, m.reason);
    }
    eprintln!("  records read           {records:>9}");
    eprintln!("  malformed rows         {:>9}", malformed.len());
    for m in malformed.iter().take(10) {
        eprintln!("    line {}: {}", m.line, m.reason);
    }
    if malformed.len() > 10 {
        eprintln!("    … and {} more", malformed.len() - 10);
    }
    Ok(())
}

/// Line numbers of records by arrival position, stored only where a line
/// does not follow from the previous one (multi-line cells, skipped rows).
#[derive(Default)]
struct LineIndex {
    /// `(position, line)` checkpoints, ascending.
    marks: Vec<(u64, u64)>,
}

impl LineIndex {
    fn push(&mut self, pos: u64, line: u64) {
        if self.line(pos) != line {
            self.marks.push((pos, line));
        }
    }

    fn line(&self, pos: u64) -> u64 {
        let i = self.marks.partition_point(|&(p, _)| p <= pos);
        match i.checked_sub(1).and_then(|i| self.marks.get(i)) {
            Some(&(p, line)) => line + (pos - p),
            None => pos + 2,
        }
    }
}

fn report_accuracy(path: &Path, ds: &idstitch::Dataset, clusters: &Clusters) -> anyhow::Result<()> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut persons: HashMap<String, u32> = HashMap::new();
    let index: HashMap<&str, u32> = ds
        .record_ids()
        .iter()
        .enumerate()
        // Record indices fit u32 (the dataset's invariant).
        .map(|(i, id)| (id.as_str(), i as u32))
        .collect();
    let (mut predicted, mut truth) = (Vec::new(), Vec::new());
    let mut unknown = 0u64;
    for row in reader.records() {
        let row = row.context("truth file")?;
        let (Some(id), Some(person)) = (row.get(0), row.get(1)) else {
            continue;
        };
        let Some(&ix) = index.get(id) else {
            unknown += 1;
            continue;
        };
        let next = persons.len() as u32;
        truth.push(*persons.entry(person.to_owned()).or_insert(next));
        predicted.push(clusters.identity(ix).context("record without identity")?);
    }
    let e = evaluate(&predicted, &truth)?;
    eprintln!(
        "accuracy against {} ({} records, {} persons; {unknown} truth rows not in the input)",
        path.display(),
        e.records,
        e.persons
    );
    eprintln!(
        "  pairwise  precision {:.4}  recall {:.4}  F1 {:.4}",
        e.pairwise.precision, e.pairwise.recall, e.pairwise.f1
    );
    eprintln!(
        "  B-cubed   precision {:.4}  recall {:.4}  F1 {:.4}",
        e.bcubed.precision, e.bcubed.recall, e.bcubed.f1
    );
    eprintln!("  identities mixing persons {}", e.mixed_identities);
    Ok(())
}

/// The process's resident memory now and at its peak, where the system
/// tells (Linux `/proc`); empty elsewhere.
fn memory_note() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(rss), Some(peak)) => {
            format!("   rss {:>6} MB, peak {:>6} MB", rss / 1024, peak / 1024)
        }
        _ => String::new(),
    }
}

/// Writes `record_id,cluster_id` rows in input order. Rows are formatted in
/// parallel, a group of chunks at a time (the output is the same as one
/// writer's), and written in order.
fn write_clusters(
    w: &mut impl Write,
    ds: &idstitch::Dataset,
    clusters: &Clusters,
) -> anyhow::Result<()> {
    const CHUNK: usize = 1 << 16;
    let mut out = csv::Writer::from_writer(&mut *w);
    out.write_record(["record_id", "cluster_id"])?;
    out.flush()?;
    drop(out);
    let (ids, labels) = (ds.record_ids(), clusters.labels());
    let format = |chunk: &[u32]| -> anyhow::Result<Vec<u8>> {
        // Each record's ID and label first, by independent loads the CPU
        // overlaps (at millions of records each is a cache miss), then the
        // formatting over what is now in cache.
        let rows: Vec<(&str, u32)> = chunk
            .iter()
            .map(|&ix| {
                let (id, l) = (ids.get(ix as usize), labels.get(ix as usize));
                let (Some(id), Some(&l)) = (id, l) else {
                    bail!("record without identity");
                };
                Ok((id.as_str(), l))
            })
            .collect::<anyhow::Result<_>>()?;
        let mut out = csv::Writer::from_writer(Vec::with_capacity(chunk.len() * 32));
        let mut label = String::new();
        for (id, l) in rows {
            label.clear();
            std::fmt::Write::write_fmt(&mut label, format_args!("{l}"))?;
            out.write_record([id, label.as_str()])?;
        }
        Ok(out.into_inner().map_err(|e| e.into_error())?)
    };
    for group in ds.input_order().chunks(CHUNK * 16) {
        let parts: Vec<Vec<u8>> = group
            .par_chunks(CHUNK)
            .map(format)
            .collect::<anyhow::Result<_>>()?;
        for part in parts {
            w.write_all(&part)?;
        }
    }
    Ok(())
}

/// Writes `path` through a temporary file in the same directory and renames
/// it into place, so a failed run never leaves a half-written file.
pub(crate) fn write_atomic(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().context("output path has no file name")?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        body(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot move the output into {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
