//! Helpers shared by the command-line tests.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The example binary, built once per test run.
///
/// `cargo test --all-targets` compiles examples in test mode (a harness, not
/// the program), so the test builds the real binary itself with the same
/// cargo, profile and target directory.
pub fn dedup() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let mut dir = std::env::current_exe().expect("test executable path");
            dir.pop();
            if dir.ends_with("deps") {
                dir.pop();
            }
            // Build with the profile this test was built with (`debug` is the
            // directory of the `dev` profile).
            let profile = match dir.file_name().and_then(|name| name.to_str()) {
                Some("debug") | None => "dev".to_owned(),
                Some(other) => other.to_owned(),
            };
            let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
            let status = Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--quiet",
                    "--example",
                    "dedup",
                    "--profile",
                    &profile,
                ])
                .args(["--manifest-path", manifest])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo build --example dedup failed");
            dir.join("examples")
                .join(format!("dedup{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}
