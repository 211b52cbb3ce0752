//! `generate`: a seeded synthetic population of omnichannel retail customers,
//! streamed to CSV with a separate truth file.
//!
//! ```sh
//! cargo run --release --example generate -- --people 100000 --seed 1 \
//!     --out records.csv --truth truth.csv
//! ```
//!
//! Records use the `dedup run` default columns; a cell with several values
//! separates them by `;`. Each person (about 2.8 records on average) appears
//! on the channels that really carry their identifiers: CRM profiles,
//! messenger contacts (phone), e-mail campaigns (address), till receipts
//! (loyalty card), web accounts, call-centre records and app installs
//! (device). See `synth.rs` for the hard cases it plants.

// An example binary: failures end the run with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod synth;

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

/// Generate synthetic omnichannel customer records and their truth.
#[derive(Debug, Parser)]
#[command(name = "generate", version, about)]
struct Args {
    /// Number of people.
    #[arg(long, default_value_t = 1000)]
    people: usize,
    /// Seed: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Records CSV to write.
    #[arg(long)]
    out: PathBuf,
    /// Truth CSV to write (`record_id,person_id`).
    #[arg(long)]
    truth: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let open = |p: &PathBuf| -> anyhow::Result<csv::Writer<BufWriter<File>>> {
        let f = File::create(p).with_context(|| format!("cannot create {}", p.display()))?;
        Ok(csv::Writer::from_writer(BufWriter::with_capacity(
            1 << 20,
            f,
        )))
    };
    let mut out = open(&args.out)?;
    let mut truth = open(&args.truth)?;
    out.write_record([
        "record_id",
        "source",
        "first_name",
        "last_name",
        "full_name",
        "email",
        "phone",
        "loyalty_id",
        "device_id",
        "dob",
        "city",
        "address",
    ])?;
    truth.write_record(["record_id", "person_id"])?;
    let mut error: Option<csv::Error> = None;
    let mut records = 0u64;
    synth::generate(args.people, args.seed, |row| {
        if error.is_some() {
            return;
        }
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        // Opaque IDs: nothing about the person or the record order leaks.
        let id = format!(
            "{:016x}",
            synth::Rng(args.seed ^ 0x5EED ^ records.wrapping_mul(0x9E37_79B9)).next()
        );
        let written = out
            .write_record([
                id.clone(),
                row.source.to_owned(),
                opt(&row.first_name),
                opt(&row.last_name),
                opt(&row.full_name),
                row.emails.join(";"),
                row.phones.join(";"),
                row.loyalty.join(";"),
                row.devices.join(";"),
                opt(&row.dob),
                opt(&row.city),
                opt(&row.address),
            ])
            .and_then(|()| truth.write_record([id.as_str(), &format!("person{}", row.person)]));
        match written {
            Ok(()) => records += 1,
            Err(e) => error = Some(e),
        }
    });
    if let Some(e) = error {
        return Err(e).context("write failed");
    }
    out.flush()?;
    truth.flush()?;
    eprintln!("generate: {} people, {records} records", args.people);
    Ok(())
}
