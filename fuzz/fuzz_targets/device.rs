//! Device IDs: never panic; the canonical form re-parses to the same ID.
#![no_main]
use idstitch::DeviceId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(d) = DeviceId::parse(data) {
        assert_eq!(DeviceId::parse(&d.to_string()), Ok(d));
    }
});
