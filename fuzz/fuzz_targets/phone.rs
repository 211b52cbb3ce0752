//! Phone: never panics; the fast path agrees with libphonenumber; valid numbers
//! re-parse from their E.164 form to the same number.
#![no_main]
use idstitch::{Phone, Region};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    for region in [Region::RU, Region::US] {
        let fast = Phone::parse(data, region);
        let full = Phone::parse_full(data, region);
        assert_eq!(fast, full);
        if let Ok(p) = fast
            && p.is_valid()
        {
            let again = Phone::parse(&p.to_string(), region).expect("E.164 parses");
            assert_eq!(again.e164(), p.e164());
        }
    }
});
