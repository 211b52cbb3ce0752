//! Loyalty card numbers: never panic; canonical digits re-parse to themselves.
#![no_main]
use idstitch::{CheckDigit, LoyaltyId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    for scheme in [CheckDigit::Ean13, CheckDigit::Ean8, CheckDigit::Luhn, CheckDigit::None] {
        if let Ok(card) = LoyaltyId::parse(data, scheme) {
            assert!(card.as_str().bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(LoyaltyId::parse(card.as_str(), scheme), Ok(card));
        }
    }
});
