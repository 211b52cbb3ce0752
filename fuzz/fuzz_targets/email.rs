//! Email: never panics; a canonical address re-parses to itself with the same flag.
#![no_main]
use idstitch::{Email, Identifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(e) = Email::parse(data) {
        let again = Email::parse(e.as_str()).expect("canonical address parses");
        assert_eq!(again.as_str(), e.as_str());
        assert_eq!(again.flag(), e.flag());
        assert_eq!(format!("{}@{}", e.local(), e.domain()), e.as_str());
    }
});
