//! Names: never panic; canonical tokens re-parse to the same tokens and keys.
#![no_main]
use idstitch::PersonName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(n) = PersonName::parse(data) {
        let again = PersonName::parse(&n.to_string()).expect("canonical name parses");
        assert_eq!(again.to_string(), n.to_string());
        assert_eq!(again.translit_key(), n.translit_key());
        for t in n.tokens() {
            let _ = (t.phonetic_key(), t.surname_gender(), t.nickname_groups());
        }
    }
});
