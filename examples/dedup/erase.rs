//! `dedup erase`: a data-subject erasure request against a `--state` store.

use std::path::PathBuf;

use anyhow::{Context, bail};
use idstitch::{DatasetBuilder, IdKind, NormalizeOptions, RecordId, Region, Resolver};

use crate::run::{
    blocking_config, cluster_config, load_config, load_store, profile_config, save_store,
};

/// Arguments of `dedup erase`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store directory of `dedup run --state`.
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The same settings file the runs use.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Erase this record (repeatable).
    #[arg(long = "record", value_name = "ID")]
    records: Vec<String>,
    /// Erase every record holding this e-mail (repeatable).
    #[arg(long = "email")]
    emails: Vec<String>,
    /// Erase every record holding this phone (repeatable).
    #[arg(long = "phone")]
    phones: Vec<String>,
    /// Erase every record holding this loyalty card (repeatable).
    #[arg(long = "loyalty")]
    loyalty: Vec<String>,
    /// Erase every record holding this device ID (repeatable).
    #[arg(long = "device")]
    devices: Vec<String>,
    /// Region phones are read in (default RU).
    #[arg(long)]
    region: Option<Region>,
    /// Do not put erased identifiers on the suppression list.
    #[arg(long)]
    no_suppress: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = load_config(args.config.as_deref())?;
    let region = match (args.region, &config.region) {
        (Some(r), _) => r,
        (None, Some(r)) => r.parse().context("config: region")?,
        (None, None) => Region::RU,
    };
    let threshold = config.threshold.unwrap_or(0.5);
    let resolver = Resolver::new()
        .dataset(DatasetBuilder::new().region(region))
        .blocking(blocking_config(&[], &config))
        .cluster(cluster_config(&config, threshold))
        .profile(profile_config(&config));
    if !args.state.join(crate::run::STATE_FILE).exists() {
        bail!("no store in {}", args.state.display());
    }
    let mut store = load_store(&args.state, resolver)?;
    let before = store.len();
    let mut events = Vec::new();
    if !args.records.is_empty() {
        let ids: Vec<RecordId> = args
            .records
            .iter()
            .map(|r| RecordId::from(r.as_str()))
            .collect();
        events.extend(store.erase_records(&ids)?.events);
    }
    let opts = NormalizeOptions::new().region(region);
    let values = [
        (IdKind::Email, &args.emails),
        (IdKind::Phone, &args.phones),
        (IdKind::Loyalty, &args.loyalty),
        (IdKind::Device, &args.devices),
    ];
    for (kind, list) in values {
        for v in list {
            let update = store
                .erase_identifier(kind, v, &opts, !args.no_suppress)
                .with_context(|| format!("--{}", kind.as_str()))?;
            events.extend(update.events);
        }
    }
    eprintln!("dedup erase: {}", args.state.display());
    eprintln!("  records erased         {:>9}", before - store.len());
    eprintln!("  records stored now     {:>9}", store.len());
    save_store(&args.state, &store, &events)
}
