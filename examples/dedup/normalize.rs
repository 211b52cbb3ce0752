//! The `normalize` subcommand: one value per line in, one canonical value (or an
//! empty line) per line out.

use std::io::{self, BufRead, BufWriter, Write};

use anyhow::Context;
use idstitch::{
    CheckDigit, DateOrder, IdKind, NormalizeOptions, Region, Rejection, Ymd, canonical,
};

/// Arguments of `dedup normalize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The identifier type: email, phone, loyalty, device, customer_id, name, dob.
    #[arg(long)]
    kind: IdKind,
    /// Default region for phone numbers written without a country code.
    #[arg(long, default_value = "RU")]
    region: Region,
    /// Check-digit scheme for loyalty card numbers: ean13, ean8, luhn, none.
    #[arg(long, default_value = "none")]
    scheme: CheckDigit,
    /// Issuing system for customer IDs.
    #[arg(long, default_value = "default")]
    system: String,
    /// Read all-numeric dates month first (03/05/1985 = 5 March).
    #[arg(long)]
    month_first: bool,
    /// Add the reason as a second, tab-separated column (`ok` when usable).
    #[arg(long)]
    explain: bool,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    let today = Ymd::today();
    let order = if args.month_first {
        DateOrder::Mdy
    } else {
        DateOrder::Dmy
    };
    let mut line = Vec::new();
    let mut reader = io::BufReader::new(stdin);
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .context("reading standard input")?;
        if n == 0 {
            break;
        }
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let result = match std::str::from_utf8(bytes) {
            Ok(raw) => normalize_one(args, raw, order, today),
            Err(_) => Err(Reason::InvalidUtf8),
        };
        match (result, args.explain) {
            (Ok(v), false) => writeln!(out, "{v}")?,
            (Ok(v), true) => writeln!(out, "{v}\tok")?,
            (Err(_), false) => writeln!(out)?,
            (Err(r), true) => writeln!(out, "\t{}", r.code())?,
        }
    }
    out.flush()?;
    Ok(())
}

enum Reason {
    Rejected(Rejection),
    InvalidUtf8,
}

impl Reason {
    fn code(&self) -> &'static str {
        match self {
            Reason::Rejected(r) => r.code(),
            Reason::InvalidUtf8 => "invalid_utf8",
        }
    }
}

fn normalize_one(args: &Args, raw: &str, order: DateOrder, today: Ymd) -> Result<String, Reason> {
    let opts = NormalizeOptions::new()
        .region(args.region)
        .scheme(args.scheme)
        .system(args.system.as_str())
        .date_order(order)
        .today(today);
    canonical(args.kind, raw, &opts).map_err(Reason::Rejected)
}
