//! Dates of birth: never panic; the ISO form re-parses to the same date.
#![no_main]
use idstitch::{BirthDate, DateOrder, Ymd};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let today = Ymd::new(2026, 11, 24).expect("a real date");
    for order in [DateOrder::Dmy, DateOrder::Mdy] {
        if let Ok(d) = BirthDate::parse_at(data, order, today) {
            assert_eq!(BirthDate::parse_at(&d.to_string(), order, today), Ok(d));
        }
    }
});
