//! The `dedup normalize` example binary, end to end: stdin in, one line out per line in.

// Tests and benchmarks may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

mod common;
use common::dedup;

fn run(args: &[&str], stdin: &[u8]) -> (String, bool) {
    let mut child = Command::new(dedup())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dedup example is built by cargo test");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(stdin)
        .expect("write stdin");
    let out = child.wait_with_output().expect("dedup runs");
    (
        String::from_utf8(out.stdout).expect("utf-8 output"),
        out.status.success(),
    )
}

fn check(args: &[&str], input: &str, expected: &str) {
    let (out, ok) = run(args, input.as_bytes());
    assert!(ok, "{args:?}");
    assert_eq!(out, expected, "{args:?}");
}

#[test]
fn every_kind_line_for_line() {
    check(
        &["normalize", "--kind", "phone", "--explain"],
        "8 (812) 123-45-67\n+7 999 999-99-99\nnot a phone\n\n",
        "+78121234567\tok\n\tplaceholder\n\tsyntax\n\tempty\n",
    );
    check(
        &["normalize", "--kind", "phone", "--region", "DE"],
        "030 123456\n",
        "+4930123456\n",
    );
    check(
        &["normalize", "--kind", "email"],
        "Ivan.Petrov+x@googlemail.com\r\ninfo@shop.ru\nbad@\n",
        "ivanpetrov@gmail.com\n\n\n",
    );
    check(
        &[
            "normalize",
            "--kind",
            "loyalty",
            "--scheme",
            "ean13",
            "--explain",
        ],
        "4006381333931\n4006381333932\n",
        "4006381333931\tok\n\tcheck_digit\n",
    );
    check(
        &["normalize", "--kind", "device", "--explain"],
        "{6F9619FF-8B86-D011-B42D-00C04FC964FF}\n00000000-0000-0000-0000-000000000000\n",
        "6f9619ff-8b86-d011-b42d-00c04fc964ff\tok\n\topt_out\n",
    );
    check(
        &["normalize", "--kind", "name"],
        "ЩУКИНА  Юлия\nтест\n",
        "щукина юлия\n\n",
    );
    check(
        &["normalize", "--kind", "dob"],
        "5 марта 1985 г.\n01.01.1900\n",
        "1985-03-05\n\n",
    );
    check(
        &["normalize", "--kind", "dob", "--month-first"],
        "03/05/1985\n",
        "1985-03-05\n",
    );
}

#[test]
fn invalid_utf8_and_missing_final_newline() {
    let (out, ok) = run(
        &["normalize", "--kind", "email", "--explain"],
        b"\xff\xfe@x.ru\nivan@mail.ru",
    );
    assert!(ok);
    assert_eq!(out, "\tinvalid_utf8\nivan@mail.ru\tok\n");
}

#[test]
fn bad_arguments_fail_without_echoing_values() {
    let (_, ok) = run(&["normalize", "--kind", "passport"], b"");
    assert!(!ok);
    let (_, ok) = run(&["normalize", "--kind", "phone", "--region", "XX"], b"");
    assert!(!ok);
}

#[test]
fn bundled_sample_normalizes() {
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/phones.txt"
    ))
    .expect("bundled sample");
    let (out, ok) = run(&["normalize", "--kind", "phone"], sample.as_bytes());
    assert!(ok);
    assert_eq!(out.lines().count(), sample.lines().count());
    assert!(out.lines().filter(|l| !l.is_empty()).count() >= sample.lines().count() / 2);
}
