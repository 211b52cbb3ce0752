//! Property tests for the normalisers: parsing never panics on arbitrary
//! Unicode, canonical values are fixed points, and the Russian phone fast
//! path agrees with libphonenumber on arbitrary formattings.

// Tests and benchmarks may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idstitch::{
    BirthDate, CheckDigit, CustomerId, DateOrder, DeviceId, Email, Identifier, LoyaltyId,
    PersonName, Phone, Region, Ymd,
};
use proptest::prelude::*;

const TODAY: fn() -> Ymd = || Ymd::new(2026, 11, 24).expect("a real date");

fn email_like() -> impl Strategy<Value = String> {
    let local = "[A-Za-zА-Яа-я0-9._+-]{1,20}";
    let domain = prop::sample::select(vec![
        "gmail.com",
        "GoogleMail.com",
        "yandex.ru",
        "ya.ru",
        "yandex.kz",
        "me.com",
        "pm.me",
        "outlook.com",
        "mail.ru",
        "bk.ru",
        "почта.рф",
        "firma.example.ru",
        "xn--80a1acny.xn--p1ai",
    ]);
    (local, domain).prop_map(|(l, d)| format!("{l}@{d}"))
}

fn phone_like() -> impl Strategy<Value = String> {
    let sep = prop::sample::select(vec!["", " ", "-", ".", "(", ")", "  ", "--", "/", "+"]);
    (
        prop::sample::select(vec![
            "", "+7", "8", "7", "+", "+1", "+49", "8 ", "+7 ", "00", "810",
        ]),
        prop::collection::vec(("[0-9]", sep), 6..13),
    )
        .prop_map(|(prefix, groups)| {
            let mut s = prefix.to_owned();
            for (d, sep) in groups {
                s.push_str(&d);
                s.push_str(sep);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn nothing_panics_on_arbitrary_unicode(s in any::<String>(), region in prop::sample::select(vec![Region::RU, Region::US, Region::DE, Region::KZ])) {
        let _ = Email::parse(&s);
        let _ = Phone::parse(&s, region);
        let _ = LoyaltyId::parse(&s, CheckDigit::Luhn);
        let _ = LoyaltyId::parse(&s, CheckDigit::Ean13);
        let _ = DeviceId::parse(&s);
        let _ = CustomerId::parse("crm", &s);
        let _ = CustomerId::parse(&s, "1");
        let _ = PersonName::parse(&s);
        let _ = BirthDate::parse_at(&s, DateOrder::Dmy, TODAY());
        let _ = BirthDate::parse_at(&s, DateOrder::Mdy, TODAY());
    }

    #[test]
    fn email_is_idempotent(s in prop_oneof![email_like(), any::<String>()]) {
        if let Ok(e) = Email::parse(&s) {
            let again = Email::parse(e.as_str());
            prop_assert_eq!(again.as_ref().map(Email::as_str), Ok(e.as_str()));
            prop_assert_eq!(again.map(|a| a.flag()), Ok(e.flag()));
        }
    }

    #[test]
    fn phone_is_idempotent_and_paths_agree(s in prop_oneof![phone_like(), any::<String>()], region in prop::sample::select(vec![Region::RU, Region::KZ, Region::US])) {
        let fast = Phone::parse(&s, region);
        let full = Phone::parse_full(&s, region);
        prop_assert_eq!(&fast, &full);
        // libphonenumber re-reads some invalid numbers differently (a German
        // trunk zero inside "+49000000"); valid numbers are fixed points.
        if let Some(p) = fast.ok().filter(Phone::is_valid) {
            let again = Phone::parse(&p.to_string(), region).expect("E.164 output parses");
            prop_assert_eq!(again.e164(), p.e164());
            prop_assert_eq!(again.is_valid(), p.is_valid());
        }
    }

    #[test]
    fn loyalty_is_idempotent(s in "[0-9 -]{0,40}", scheme in prop::sample::select(vec![CheckDigit::None, CheckDigit::Luhn, CheckDigit::Ean13, CheckDigit::Ean8])) {
        if let Ok(c) = LoyaltyId::parse(&s, scheme) {
            prop_assert_eq!(LoyaltyId::parse(c.as_str(), scheme), Ok(c));
        }
    }

    #[test]
    fn device_is_idempotent(s in prop_oneof!["[0-9a-fA-F]{32}", "[0-9a-fA-F]{16}", "\\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\}?"]) {
        if let Ok(d) = DeviceId::parse(&s) {
            prop_assert_eq!(DeviceId::parse(&d.to_string()), Ok(d));
        }
    }

    #[test]
    fn customer_id_is_idempotent(system in "[A-Za-z-]{1,10}", id in any::<String>()) {
        if let Ok(c) = CustomerId::parse(&system, &id) {
            prop_assert_eq!(CustomerId::parse(c.system(), c.id()), Ok(c));
        }
    }

    #[test]
    fn name_is_idempotent(s in prop_oneof!["[A-Za-zА-Яа-яЁё' .-]{0,30}", any::<String>()]) {
        if let Ok(n) = PersonName::parse(&s) {
            let again = PersonName::parse(&n.to_string()).expect("canonical names parse");
            prop_assert_eq!(again.to_string(), n.to_string());
            prop_assert_eq!(again.translit_key(), n.translit_key());
        }
    }

    #[test]
    fn date_is_idempotent(d in 1u8..=31, m in 1u8..=12, y in 1890u16..=2026, sep in prop::sample::select(vec![".", "/", "-", " "])) {
        let s = format!("{d:02}{sep}{m:02}{sep}{y}");
        if let Ok(b) = BirthDate::parse_at(&s, DateOrder::Dmy, TODAY()) {
            prop_assert_eq!(BirthDate::parse_at(&b.to_string(), DateOrder::Dmy, TODAY()), Ok(b));
            prop_assert_eq!((b.date().day(), b.date().month(), b.date().year()), (d, m, y));
        }
    }
}
