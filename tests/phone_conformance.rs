//! Phone conformance: every vector generated from Google's libphonenumber
//! (Python `phonenumbers` 9.0.42, `tests/data/gen_phone_vectors.py`) must give
//! the same E.164 and validity here, through both the fast path and the full parser.

// Tests and benchmarks may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idstitch::{Invalid, Phone, Region};

#[test]
fn agrees_with_libphonenumber_on_every_vector() {
    let data = include_str!("data/phone_vectors.tsv");
    let mut n_vectors = 0;
    let mut regions = std::collections::BTreeSet::new();
    let mut mismatches = Vec::new();
    for (line_no, line) in data.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "line {}", line_no + 1);
        let (input, region, e164, valid) = (cols[0], cols[1], cols[2], cols[3] == "1");
        let region: Region = region.parse().expect("vector regions are supported");
        regions.insert(region.as_str());
        n_vectors += 1;
        for (path, got) in [
            ("parse", Phone::parse(input, region)),
            ("parse_full", Phone::parse_full(input, region)),
        ] {
            let ok = match (&got, e164) {
                (Err(_), "ERR") => true,
                (Ok(p), _) => p.to_string() == e164 && p.is_valid() == valid,
                // E.164 has at most 15 digits; longer parses are refused as too long.
                (Err(Invalid::TooLong), _) => !valid && e164.len() > 20,
                (Err(_), _) => false,
            };
            if !ok {
                mismatches.push(format!(
                    "line {}: {path}({input:?}, {region}) = {:?}, libphonenumber: {e164} valid={valid}",
                    line_no + 1,
                    got.map(|p| (p.to_string(), p.is_valid()))
                ));
            }
        }
    }
    assert!(n_vectors >= 1000, "{n_vectors}");
    assert!(regions.len() >= 50, "{}", regions.len());
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(30)].join("\n")
    );
}
