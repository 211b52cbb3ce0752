//! Customer IDs: never panic; parsing the parts again gives the same ID.
#![no_main]
use idstitch::CustomerId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: (&str, &str)| {
    let (system, id) = data;
    if let Ok(c) = CustomerId::parse(system, id) {
        assert_eq!(CustomerId::parse(c.system(), c.id()), Ok(c));
    }
});
