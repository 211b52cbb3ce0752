//! `dedup run` end to end: CSV in, clusters out, summary and accuracy on stderr.

// Tests may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::dedup;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/customers.csv");
const TRUTH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/data/customers_truth.csv"
);

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("idstitch-cli-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(dedup())
        .arg("run")
        .args(args)
        .output()
        .expect("dedup runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn clusters(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("record_id,cluster_id"));
    lines
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.to_owned(), b.to_owned())
        })
        .collect()
}

#[test]
fn the_bundled_sample_resolves_every_record_once_and_deterministically() {
    let (out1, out2) = (scratch("a.csv"), scratch("b.csv"));
    let (ok, stderr) = run(&[SAMPLE, "--out", out1.to_str().unwrap(), "--truth", TRUTH]);
    assert!(ok, "{stderr}");
    let (ok, _) = run(&[SAMPLE, "--out", out2.to_str().unwrap()]);
    assert!(ok);
    assert_eq!(std::fs::read(&out1).unwrap(), std::fs::read(&out2).unwrap());
    let rows = clusters(&out1);
    let input_ids: Vec<String> = std::fs::read_to_string(SAMPLE)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        rows.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        input_ids
    );
    assert!(stderr.contains("identities"));
    assert!(
        !stderr.contains('\u{1b}'),
        "no progress bars when stderr is not a terminal"
    );
    let f1: f64 = stderr
        .lines()
        .find(|l| l.trim_start().starts_with("B-cubed"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .expect("B-cubed line");
    assert!(f1 > 0.95, "{stderr}");
}

#[test]
fn malformed_rows_are_counted_by_line_and_skipped() {
    let input = scratch("bad.csv");
    let mut bytes = b"record_id,source,first_name,phone\n".to_vec();
    bytes.extend_from_slice(b"1,crm,\xD0\x90\xD0\xBD\xD0\xBD\xD0\xB0,+79123456789\n");
    bytes.extend_from_slice(b"2,tg,,89123456789,extra\n");
    bytes.extend_from_slice(b"3,tg,\xFF\xFE,89123456789\n");
    bytes.extend_from_slice(format!("4,tg,{},89123456789\n", "x".repeat(10 << 20)).as_bytes());
    bytes.extend_from_slice(b"1,tg,,89123456789\n");
    bytes.extend_from_slice(b"5,telegram,,8 912 345-67-89\n");
    // Valid UTF-8 as a whole, not cell by cell: a character cut in two by
    // the comma between two cells.
    bytes.extend_from_slice(b"6,tg\xD0,\x90,89123456789");
    std::fs::write(&input, bytes).unwrap();
    let out = scratch("bad-out.csv");
    let (ok, stderr) = run(&[input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    for expected in [
        "line 3: wrong number of fields",
        "line 4: invalid UTF-8",
        "line 5: cell too large",
        "line 6: duplicate record_id",
        "line 8: invalid UTF-8",
    ] {
        assert!(stderr.contains(expected), "{expected} in {stderr}");
    }
    assert!(!stderr.contains("xxxx"), "no cell content in reports");
    let rows = clusters(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].1, rows[1].1, "records 1 and 5 share a phone");

    let strict = scratch("strict-out.csv");
    let (ok, stderr) = run(&[
        input.to_str().unwrap(),
        "--out",
        strict.to_str().unwrap(),
        "--strict",
    ]);
    assert!(!ok);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(!strict.exists(), "a failed run writes nothing");
}

#[test]
fn columns_map_to_fields() {
    let input = scratch("mapped.csv");
    std::fs::write(
        &input,
        "id;x,tel,mail\na,+79123456789,\nb,,olga@mail.ru\nc,89123456789,olga@mail.ru\n",
    )
    .unwrap();
    let out = scratch("mapped-out.csv");
    let (ok, stderr) = run(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--map",
        "id;x=record_id",
        "--map",
        "tel=phone",
        "--map",
        "mail=email",
    ]);
    assert!(ok, "{stderr}");
    let rows = clusters(&out);
    let ids: HashSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(ids.len(), 1, "{rows:?}");
    let (ok, stderr) = run(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--map",
        "tel=nonsense",
    ]);
    assert!(!ok);
    assert!(stderr.contains("unknown field"));
}

#[test]
fn settings_come_from_a_toml_file_and_flags_win() {
    const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/idstitch.toml");
    let (plain, configured) = (scratch("plain.csv"), scratch("configured.csv"));
    assert!(run(&[SAMPLE, "--out", plain.to_str().unwrap()]).0);
    let (ok, stderr) = run(&[
        SAMPLE,
        "--out",
        configured.to_str().unwrap(),
        "--config",
        CONFIG,
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(
        std::fs::read(&plain).unwrap(),
        std::fs::read(&configured).unwrap(),
        "the bundled file spells out the defaults"
    );

    let input = scratch("cfg.csv");
    std::fs::write(&input, "id,tel\na,+79123456789\nb,89123456789\n").unwrap();
    let config = scratch("cfg.toml");
    std::fs::write(&config, "[columns]\ntel = \"phone\"\nid = \"record_id\"\n").unwrap();
    let out = scratch("cfg-out.csv");
    let (ok, stderr) = run(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let rows = clusters(&out);
    assert_eq!(rows[0].1, rows[1].1, "mapped through the file: {rows:?}");
    // A flag beats the file: at threshold 1 the shared phone alone is not enough.
    let (ok, _) = run(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--threshold",
        "1",
    ]);
    assert!(ok);
    let rows = clusters(&out);
    assert_ne!(rows[0].1, rows[1].1);

    std::fs::write(&config, "treshold = 0.5\n").unwrap();
    let (ok, stderr) = run(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("unknown field"), "{stderr}");
}

#[test]
fn profiles_carry_the_best_values_their_sources_times_and_consent() {
    let input = scratch("profiles.csv");
    std::fs::write(
        &input,
        "record_id,source,first_name,last_name,phone,email,last_seen,consent,opt_out\n\
         a,crm,Александр,Иванов,+79123456789,ivanov@mail.ru,2024-05-01,email;sms,\n\
         b,telegram,Саша,,8 912 345-67-89,,1717200000,messenger,\n\
         c,web,Alexander,Ivanov,,ivanov@mail.ru,2023-01-01T10:00:00Z,,sms\n\
         d,web,Ольга,Петрова,+79991234567,,,,\n",
    )
    .unwrap();
    let (out, prof) = (scratch("profiles-out.csv"), scratch("profiles.jsonl"));
    let (ok, stderr) = run(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--profiles",
        prof.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let rows = clusters(&out);
    let profiles: Vec<serde_json::Value> = std::fs::read_to_string(&prof)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let identities: HashSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(profiles.len(), identities.len());
    let ivanov = profiles
        .iter()
        .find(|p| p["records"].as_array().unwrap().len() == 3)
        .expect("a, b and c are one person");
    // Most recent first: b (2024-06-01) over a (2024-05-01) over c (2023).
    assert_eq!(ivanov["first_names"][0]["value"], "Саша");
    assert_eq!(ivanov["phones"][0]["value"], "+79123456789");
    assert_eq!(
        ivanov["phones"][0]["sources"],
        serde_json::json!(["crm", "telegram"])
    );
    assert_eq!(ivanov["emails"][0]["records"], 2);
    assert_eq!(ivanov["first_seen"], 1_672_531_200);
    assert_eq!(ivanov["consent"]["email"], "granted");
    assert_eq!(ivanov["consent"]["sms"], "refused");
    assert_eq!(ivanov["consent"]["messenger"], "granted");
    // A bad time is a malformed row, counted, not a crash.
    std::fs::write(&input, "record_id,last_seen\nx,yesterday\ny,2024-01-01\n").unwrap();
    let (ok, stderr) = run(&[input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("last_seen is not Unix seconds or YYYY-MM-DD"),
        "{stderr}"
    );
}

#[test]
fn a_state_directory_keeps_ids_across_runs_and_answers_erasure() {
    let dir = scratch("state");
    let _ = std::fs::remove_dir_all(&dir);
    let (day1, day2) = (scratch("day1.csv"), scratch("day2.csv"));
    std::fs::write(
        &day1,
        "record_id,source,first_name,phone,email\n\
         a,crm,Анна,+79123456789,anna@mail.ru\n\
         b,web,Борис,+79991112233,\n",
    )
    .unwrap();
    std::fs::write(
        &day2,
        "record_id,source,phone,email\nc,telegram,8 912 345-67-89,\nd,email,,anna@mail.ru\n",
    )
    .unwrap();
    let out = scratch("state-out.csv");
    let state = dir.to_str().unwrap();
    let (ok, stderr) = run(&[
        day1.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--state",
        state,
    ]);
    assert!(ok, "{stderr}");
    let first = clusters(&out);
    let anna = first.iter().find(|r| r.0 == "a").unwrap().1.clone();
    assert!(anna.starts_with("id-"));
    let (ok, stderr) = run(&[
        day2.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--state",
        state,
    ]);
    assert!(ok, "{stderr}");
    let second = clusters(&out);
    assert_eq!(second.len(), 4, "every stored record is written");
    for r in ["a", "c", "d"] {
        assert_eq!(second.iter().find(|x| x.0 == r).unwrap().1, anna, "{r}");
    }
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert!(
        events.contains(r#""event":"assigned""#) && events.contains(&anna),
        "{events}"
    );
    // Erasure of Anna's e-mail: its records go, the phone records remain.
    let out = Command::new(dedup())
        .args(["erase", "--state", state, "--email", "ANNA@mail.ru"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert!(events.contains(r#""event":"unassigned""#), "{events}");
    assert!(
        !String::from_utf8_lossy(&std::fs::read(dir.join("state.idstitch")).unwrap())
            .contains("anna@mail.ru")
    );
    // A damaged state is refused, not half-loaded.
    let path = dir.join("state.idstitch");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
    let x = scratch("after-damage.csv");
    let (ok, stderr) = run(&[
        day2.to_str().unwrap(),
        "--out",
        x.to_str().unwrap(),
        "--state",
        state,
    ]);
    assert!(!ok);
    assert!(stderr.contains("invalid state snapshot"), "{stderr}");
}

#[test]
fn hashed_contacts_meet_a_partners_hashes_under_one_key() {
    let key = b"a key both parties hold, 32 byte";
    let key_file = scratch("hash.key");
    std::fs::write(&key_file, key).unwrap();
    let partner = idstitch::IdentifierHasher::hmac(key).unwrap();
    let input = scratch("hashed.csv");
    std::fs::write(
        &input,
        format!(
            "record_id,source,phone,email,phone_hash,email_hash\n\
             a,shop,8 (912) 345-67-89,,,\n\
             b,partner,,,{},\n\
             c,shop,,Ivan.Petrov@gmail.com,,\n\
             d,partner,,,,{}\n\
             e,partner,,,{},\n",
            partner.hash("+79123456789"),
            partner.hash("ivanpetrov@gmail.com"),
            idstitch::IdentifierHasher::sha256().hash("+79123456789"),
        ),
    )
    .unwrap();
    let out = scratch("hashed-out.csv");
    let (ok, stderr) = run(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--hash-key",
        key_file.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let rows: std::collections::HashMap<String, String> = clusters(&out).into_iter().collect();
    assert_eq!(rows["a"], rows["b"]);
    assert_eq!(rows["c"], rows["d"]);
    assert_ne!(rows["a"], rows["c"]);
    // Another key's (or no key's) hash does not meet.
    assert_ne!(rows["a"], rows["e"]);
    // A malformed hash is a malformed row, and a short key is refused.
    std::fs::write(&input, "record_id,phone_hash\nx,abc\n").unwrap();
    let (ok, stderr) = run(&[input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(
        ok && stderr.contains("phone_hash is not 64 hex digits"),
        "{stderr}"
    );
    std::fs::write(&key_file, b"short").unwrap();
    let (ok, stderr) = run(&[
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--hash-key",
        key_file.to_str().unwrap(),
    ]);
    assert!(!ok && stderr.contains("at least 16 bytes"), "{stderr}");
}
