//! Properties of scoring: symmetric in the pair, and an agreeing field never
//! lowers a score.

// Tests may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use idstitch::{
    BlockingRule, Comparator, CompareConfig, DatasetBuilder, Field, GenericValues, Model, Record,
    Ymd,
};
use proptest::prelude::*;

const FIRST: [&str; 6] = ["Александр", "Саша", "Alexander", "Анна", "Anya", "Олег"];
const LAST: [&str; 5] = ["Иванов", "Иванова", "Ivanov", "Шпаковский", "Петров"];
const DOB: [&str; 4] = ["01.02.1990", "02.01.1990", "1990-07-15", "03.03.1985"];
const PHONE: [&str; 3] = ["+7 912 345-67-89", "+7 926 345-67-89", "8 903 111 22 33"];
const EMAIL: [&str; 3] = ["ivan@mail.ru", "ivan@bk.ru", "olga.p@gmail.com"];
const CITY: [&str; 3] = ["Москва", "Moskva", "Казань"];

#[derive(Debug, Clone, Default)]
struct Spec {
    first: Option<usize>,
    last: Option<usize>,
    dob: Option<usize>,
    phone: Option<usize>,
    email: Option<usize>,
    city: Option<usize>,
}

impl Spec {
    fn record(&self, id: &str) -> Record {
        let mut r = Record::new(id, "test");
        if let Some(i) = self.first {
            r = r.first_name(FIRST[i]);
        }
        if let Some(i) = self.last {
            r = r.last_name(LAST[i]);
        }
        if let Some(i) = self.dob {
            r = r.birth_date(DOB[i]);
        }
        if let Some(i) = self.phone {
            r = r.phone(PHONE[i]);
        }
        if let Some(i) = self.email {
            r = r.email(EMAIL[i]);
        }
        if let Some(i) = self.city {
            r = r.city(CITY[i]);
        }
        r
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::option::of(0..FIRST.len()),
        proptest::option::of(0..LAST.len()),
        proptest::option::of(0..DOB.len()),
        proptest::option::of(0..PHONE.len()),
        proptest::option::of(0..EMAIL.len()),
        proptest::option::of(0..CITY.len()),
    )
        .prop_map(|(first, last, dob, phone, email, city)| Spec {
            first,
            last,
            dob,
            phone,
            email,
            city,
        })
}

/// Scores record "a" against "b" (and "b" against "a") under `rule`.
fn scores(a: &Spec, b: &Spec, rule: BlockingRule) -> (f32, f32) {
    let ds = DatasetBuilder::new()
        .today(Ymd::new(2026, 1, 1).unwrap())
        .build(vec![a.record("a"), b.record("b")])
        .unwrap();
    let generic = GenericValues::default();
    let cmp = Comparator::new(&ds, &generic, CompareConfig::new()).unwrap();
    let model = Model::default();
    let ab = model.score_records(&cmp, 0, 1, rule).unwrap();
    let ba = model.score_records(&cmp, 1, 0, rule).unwrap();
    (ab.weight, ba.weight)
}

/// Makes field `which` agree: copied from the side that has it, or set on both.
fn agree(a: &mut Spec, b: &mut Spec, which: usize) {
    fn set(x: &mut Option<usize>, y: &mut Option<usize>) {
        let v = x.or(*y).unwrap_or(0);
        *x = Some(v);
        *y = Some(v);
    }
    match which {
        0 => set(&mut a.first, &mut b.first),
        1 => set(&mut a.last, &mut b.last),
        2 => set(&mut a.dob, &mut b.dob),
        3 => set(&mut a.phone, &mut b.phone),
        4 => set(&mut a.email, &mut b.email),
        _ => set(&mut a.city, &mut b.city),
    }
}

fn missing(a: &Spec, b: &Spec, which: usize) -> bool {
    let (x, y) = match which {
        0 => (a.first, b.first),
        1 => (a.last, b.last),
        2 => (a.dob, b.dob),
        3 => (a.phone, b.phone),
        4 => (a.email, b.email),
        _ => (a.city, b.city),
    };
    x.is_none() || y.is_none()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn scores_are_symmetric(a in spec(), b in spec(), rule in 0..BlockingRule::ALL.len()) {
        let (ab, ba) = scores(&a, &b, BlockingRule::ALL[rule]);
        prop_assert_eq!(ab.to_bits(), ba.to_bits());
    }

    #[test]
    fn adding_an_agreeing_field_never_lowers_the_score(
        a in spec(),
        b in spec(),
        which in 0..6usize,
        rule in 0..BlockingRule::ALL.len(),
    ) {
        prop_assume!(missing(&a, &b, which));
        let rule = BlockingRule::ALL[rule];
        // A pair found by a rule already agrees on the rule's fields; for
        // those, the term-frequency adjustment may rightly lower a common
        // value's score below the rule's average.
        let field = [Field::FirstName, Field::Surname, Field::BirthDate, Field::Phone, Field::Email, Field::City][which];
        prop_assume!(!rule.conditioned_fields().contains(&field));
        let (before, _) = scores(&a, &b, rule);
        let (mut a2, mut b2) = (a.clone(), b.clone());
        agree(&mut a2, &mut b2, which);
        let (after, _) = scores(&a2, &b2, rule);
        prop_assert!(after >= before - 1e-6, "{before} -> {after}");
    }
}
