use super::*;
use crate::block::{GenericConfig, GenericValues};
use crate::record::{DatasetBuilder, Record};

fn pair(a: Record, b: Record) -> ComparisonVector {
    let ds = DatasetBuilder::new()
        .today(crate::Ymd::new(2026, 1, 1).unwrap())
        .build(vec![a.clone_with_id("a"), b.clone_with_id("b")])
        .unwrap();
    let generic = GenericValues::default();
    let cmp = Comparator::new(&ds, &generic, CompareConfig::new()).unwrap();
    let v = cmp.compare(0, 1);
    assert_eq!(v, cmp.compare(1, 0), "comparison is symmetric");
    v
}

trait WithId {
    fn clone_with_id(&self, id: &str) -> Record;
}

impl WithId for Record {
    fn clone_with_id(&self, id: &str) -> Record {
        let mut r = self.clone();
        r.id = id.to_owned();
        r
    }
}

fn r() -> Record {
    Record::new("", "test")
}

#[test]
fn name_levels() {
    let first =
        |a: &str, b: &str| pair(r().first_name(a), r().first_name(b)).level(Field::FirstName);
    let last = |a: &str, b: &str| pair(r().last_name(a), r().last_name(b)).level(Field::Surname);
    assert_eq!(first("Иван", "иван"), Level::Name(NameLevel::Exact));
    assert_eq!(first("Иван", "Ivan"), Level::Name(NameLevel::Translit));
    assert_eq!(first("Александр", "Саша"), Level::Name(NameLevel::Nickname));
    assert_eq!(first("Елена", "Lena"), Level::Name(NameLevel::Nickname));
    assert_eq!(
        last("Иванов", "Иванова"),
        Level::Name(NameLevel::GenderForm)
    );
    assert_eq!(
        last("Иванов", "Ivanova"),
        Level::Name(NameLevel::GenderForm)
    );
    assert_eq!(
        last("Константинопольский", "Константинапольский"),
        Level::Name(NameLevel::JaroWinklerHigh)
    );
    assert_eq!(
        last("Павлов", "Павленко"),
        Level::Name(NameLevel::JaroWinklerLow)
    );
    assert_eq!(last("Иванов", "Сидоров"), Level::Name(NameLevel::Different));
    // Nicknames are a first-name notion only.
    assert_ne!(last("Саша", "Александр"), Level::Name(NameLevel::Nickname));
    assert_eq!(
        pair(r().first_name("Иван"), r()).level(Field::FirstName),
        Level::Missing
    );
}

#[test]
fn names_typed_in_each_others_fields_compare_swapped() {
    let both = |f: &str, l: &str| r().first_name(f).last_name(l);
    let v = pair(both("brandon", "white"), both("whtie", "brandon"));
    assert_eq!(v.level(Field::FirstName), Level::Name(NameLevel::Exact));
    assert_eq!(
        v.level(Field::Surname),
        Level::Name(NameLevel::JaroWinklerHigh)
    );
    let v = pair(both("Иван", "Петров"), both("Petrov", "Ivan"));
    assert_eq!(v.level(Field::FirstName), Level::Name(NameLevel::Translit));
    assert_eq!(v.level(Field::Surname), Level::Name(NameLevel::Translit));
    // Only one name crossing over is a coincidence, not a swap.
    let v = pair(both("Иван", "Петров"), both("Петров", "Сидор"));
    assert_eq!(v.level(Field::FirstName), Level::Name(NameLevel::Different));
    assert_eq!(v.level(Field::Surname), Level::Name(NameLevel::Different));
    // A direct agreement on either name is kept as it is.
    let v = pair(both("Иван", "Петров"), both("Иван", "Иванов"));
    assert_eq!(v.level(Field::FirstName), Level::Name(NameLevel::Exact));
}

#[test]
fn date_levels() {
    let d = |a: &str, b: &str| pair(r().birth_date(a), r().birth_date(b)).level(Field::BirthDate);
    assert_eq!(d("03.04.1990", "1990-04-03"), Level::Date(DateLevel::Exact));
    assert_eq!(
        d("03.04.1990", "04.03.1990"),
        Level::Date(DateLevel::DayMonthSwapped)
    );
    assert_eq!(
        d("03.04.1990", "17.11.1990"),
        Level::Date(DateLevel::SameYear)
    );
    assert_eq!(
        d("03.04.1990", "03.04.1991"),
        Level::Date(DateLevel::OneDigit)
    );
    assert_eq!(
        d("03.04.1990", "08.04.1990"),
        Level::Date(DateLevel::OneDigit)
    );
    assert_eq!(
        d("03.04.1990", "03.04.1985"),
        Level::Date(DateLevel::Different)
    );
    assert_eq!(
        pair(r(), r().birth_date("03.04.1990")).level(Field::BirthDate),
        Level::Missing
    );
}

#[test]
fn email_levels() {
    let e = |a: &[&str], b: &[&str]| {
        let ra = a.iter().fold(r(), |r, v| r.email(*v));
        let rb = b.iter().fold(r(), |r, v| r.email(*v));
        pair(ra, rb).level(Field::Email)
    };
    assert_eq!(
        e(&["I.van@gmail.com"], &["ivan+shop@googlemail.com"]),
        Level::Email(EmailLevel::Exact)
    );
    assert_eq!(
        e(&["a@x.ru", "ivan@mail.ru"], &["ivan@mail.ru"]),
        Level::Email(EmailLevel::Exact)
    );
    assert_eq!(
        e(&["ivan@mail.ru"], &["ivan@bk.ru"]),
        Level::Email(EmailLevel::SameLocalPart)
    );
    assert_eq!(
        e(&["ivan@mail.ru"], &["petr@mail.ru"]),
        Level::Email(EmailLevel::Different)
    );
    assert_eq!(e(&[], &["petr@mail.ru"]), Level::Missing);
}

#[test]
fn phone_levels() {
    let p = |a: &str, b: &str| pair(r().phone(a), r().phone(b)).level(Field::Phone);
    assert_eq!(
        p("+7 912 345-67-89", "8 (912) 3456789"),
        Level::Phone(PhoneLevel::Exact)
    );
    assert_eq!(
        p("+7 912 345-67-89", "+7 926 345-67-89"),
        Level::Phone(PhoneLevel::SameLast7)
    );
    assert_eq!(
        p("+7 912 345-67-89", "+7 912 111-22-33"),
        Level::Phone(PhoneLevel::Different)
    );
}

#[test]
fn identifier_levels() {
    let l = pair(
        r().loyalty_card("2000000000015"),
        r().loyalty_card("2000000000015"),
    );
    assert_eq!(l.level(Field::Loyalty), Level::Id(IdLevel::Exact));
    let d = pair(
        r().device("6D92078A-8246-4BA4-AE5B-76104861E7DC"),
        r().device("6d92078a-8246-4ba4-ae5b-76104861e7dd"),
    );
    assert_eq!(d.level(Field::Device), Level::Id(IdLevel::Different));
    let c = |a: (&str, &str), b: (&str, &str)| {
        pair(r().customer_id(a.0, a.1), r().customer_id(b.0, b.1)).level(Field::CustomerId)
    };
    assert_eq!(
        c(("crm", "42"), ("crm", "42")),
        Level::CustomerId(CustomerIdLevel::Exact)
    );
    assert_eq!(
        c(("crm", "42"), ("crm", "43")),
        Level::CustomerId(CustomerIdLevel::DifferentSameSystem)
    );
    // A slip in a longer ID: one substitution or one adjacent swap.
    let one_edit = Level::CustomerId(CustomerIdLevel::OneEdit);
    assert_eq!(c(("crm", "4817613"), ("crm", "4816613")), one_edit);
    assert_eq!(c(("crm", "6794161"), ("crm", "6794611")), one_edit);
    let different = Level::CustomerId(CustomerIdLevel::DifferentSameSystem);
    assert_eq!(c(("crm", "6794161"), ("crm", "6749611")), different);
    assert_eq!(c(("crm", "6794161"), ("crm", "679416")), different);
    assert_eq!(c(("crm", "1234"), ("crm", "1235")), different);
    assert_eq!(c(("crm", "4817613"), ("shop", "4816613")), Level::Missing);
    // IDs of different systems say nothing about each other.
    assert_eq!(c(("crm", "42"), ("shop", "42")), Level::Missing);
}

#[test]
fn address_levels() {
    let a = |x: &str, y: &str| pair(r().address(x), r().address(y)).level(Field::Address);
    assert_eq!(
        a("ул. Ленина, д. 5, кв. 12", "Ленина 5-12"),
        Level::Address(AddressLevel::Exact)
    );
    // A typo in the street, the same numbers.
    assert_eq!(
        a(
            "7 dixonddrive jestarlei 2208",
            "7 dixondrive jestarlei 2208"
        ),
        Level::Address(AddressLevel::SameNumbers)
    );
    assert_eq!(
        a("ул. Садовая, д. 5, кв. 12", "ул. Садовоя, д. 5, кв. 12"),
        Level::Address(AddressLevel::SameNumbers)
    );
    // The same building without the flat; one number mistyped.
    assert_eq!(
        a("ул. Ленина, д. 5, кв. 12", "ул. Ленина, д. 5"),
        Level::Address(AddressLevel::Similar)
    );
    assert_eq!(
        a(
            "8 everard street strathalan community 3219",
            "14 everard street strathalan community 3219"
        ),
        Level::Address(AddressLevel::Similar)
    );
    // The same street, another house: different.
    assert_eq!(
        a("ул. Ленина, д. 5, кв. 12", "ул. Ленина, д. 7, кв. 3"),
        Level::Address(AddressLevel::Different)
    );
    assert_eq!(
        a("ул. Ленина, д. 5, кв. 12", "ул. Мира, д. 5, кв. 12"),
        Level::Address(AddressLevel::Different)
    );
    assert_eq!(
        pair(r().address("ул. Ленина, д. 5"), r()).level(Field::Address),
        Level::Missing
    );
}

#[test]
fn city_levels() {
    let c = |a: &str, b: &str| pair(r().city(a), r().city(b)).level(Field::City);
    assert_eq!(c("Москва", "Moskva"), Level::City(CityLevel::Exact));
    assert_eq!(c("Москва", "Казань"), Level::City(CityLevel::Different));
}

#[test]
fn agreement_on_a_generic_value_is_its_own_neutral_level() {
    let names = ["Анна", "Борис", "Вера", "Глеб", "Дина", "Егор"];
    let mut records: Vec<Record> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            Record::new(i.to_string(), "call")
                .phone("+7 495 223-45-67")
                .first_name(*n)
        })
        .collect();
    records[0] = records[0].clone().phone("+7 912 345-67-89");
    records[1] = records[1].clone().phone("+7 926 345-67-89");
    let ds = DatasetBuilder::new().build(records).unwrap();
    let generic = GenericValues::detect(&ds, &GenericConfig::new()).unwrap();
    let cmp = Comparator::new(&ds, &generic, CompareConfig::new()).unwrap();
    assert_eq!(
        cmp.compare(2, 3).level(Field::Phone),
        Level::Phone(PhoneLevel::Generic)
    );
    assert!(cmp.compare(2, 3).level(Field::Phone).is_neutral());
    // A real near-match wins over the shared generic number.
    assert_eq!(
        cmp.compare(0, 1).level(Field::Phone),
        Level::Phone(PhoneLevel::SameLast7)
    );
}

#[test]
fn vectors_set_and_reject_foreign_levels() {
    let mut v = ComparisonVector::default();
    v.set(Field::BirthDate, Level::Date(DateLevel::SameYear))
        .unwrap();
    assert_eq!(v.level(Field::BirthDate), Level::Date(DateLevel::SameYear));
    assert!(v.set(Field::Phone, Level::Date(DateLevel::Exact)).is_err());
    assert!(
        CompareConfig::new()
            .jaro_winkler(0.8, 0.9)
            .validate()
            .is_err()
    );
    let ds = DatasetBuilder::new().build(vec![]).unwrap();
    let g = GenericValues::default();
    let cmp = Comparator::new(&ds, &g, CompareConfig::new()).unwrap();
    assert_eq!(cmp.compare(5, 9), ComparisonVector::default());
}

#[test]
fn prefetching_changes_no_vector() {
    // Records that agree and disagree in every way the loop reads: shared
    // and near e-mails and phones, several values, names, dates, addresses.
    let records: Vec<Record> = (0..300)
        .map(|i| {
            let mut r = Record::new(i.to_string(), "crm")
                .email(format!("user{}@mail.ru", i / 2))
                .phone(format!("+7 912 {:03}-{:02}-{:02}", i / 3, i % 7, i % 13))
                .first_name(["Анна", "Anna", "Иван", "Олег", "Ольга"][i % 5])
                .last_name(["Иванова", "Ivanova", "Петров", "Сидоров"][i % 4])
                .birth_date(format!("19{:02}-0{}-1{}", 50 + i % 40, 1 + i % 9, i % 10))
                .address(format!("ул. Ленина, д. {}", i % 23));
            if i % 3 == 0 {
                r = r
                    .email(format!("other{}@bk.ru", i % 11))
                    .phone("+7 495 223-45-67");
            }
            r
        })
        .collect();
    let ds = DatasetBuilder::new().build(records).unwrap();
    let generic = GenericValues::detect(&ds, &GenericConfig::new()).unwrap();
    let pairs: Vec<CandidatePair> = (0..ds.len() as u32)
        .flat_map(|a| {
            (0..ds.len() as u32)
                .step_by(7)
                .map(move |b| CandidatePair { a, b, rule: 0 })
        })
        .collect();
    let cmp = || Comparator::new(&ds, &generic, CompareConfig::new()).unwrap();
    let with = cmp().prefetching(Prefetch::Full).compare_pairs(&pairs);
    let without = cmp().prefetching(Prefetch::Off).compare_pairs(&pairs);
    assert_eq!(with, without);
    let rows = cmp().prefetching(Prefetch::Rows).compare_pairs(&pairs);
    assert_eq!(with, rows);
    let one_by_one: Vec<ComparisonVector> = pairs.iter().map(|p| cmp().compare(p.a, p.b)).collect();
    assert_eq!(with, one_by_one);
    // Not every vector alike: the data exercises the levels.
    for (field, level) in [
        (Field::Email, Level::Email(EmailLevel::Exact)),
        (Field::Phone, Level::Phone(PhoneLevel::Exact)),
        (Field::Phone, Level::Phone(PhoneLevel::Different)),
        (Field::Phone, Level::Phone(PhoneLevel::Generic)),
    ] {
        assert!(with.iter().any(|v| v.level(field) == level), "{level:?}");
    }
}

proptest::proptest! {
    /// The integer bound lets through every pair of addresses that agree at
    /// any level better than `Different`.
    #[test]
    fn address_bound_never_refuses_an_agreeing_pair(
        x in proptest::collection::vec(0usize..12, 1..6),
        y in proptest::collection::vec(0usize..12, 1..6),
    ) {
        // Words, near spellings, short words and house numbers.
        const TOKENS: [&str; 12] = [
            "ленина", "ленена", "лениня", "мира", "мирра", "ул", "д", "5", "12", "12а",
            "садовая", "садавая",
        ];
        let key = |ix: &[usize]| {
            let mut t: Vec<&str> = ix.iter().map(|&i| TOKENS[i]).collect();
            t.sort_unstable();
            t.dedup();
            t.join(" ")
        };
        let (kx, ky) = (key(&x), key(&y));
        let hashes = |k: &str| {
            let mut out = Vec::new();
            crate::record::address_token_hashes(k, &mut out);
            out
        };
        if kx != ky && address_level(&kx, &ky) != AddressLevel::Different as u8 {
            proptest::prop_assert!(address_could_agree(&hashes(&kx), &hashes(&ky)));
        }
    }

    /// Two records' e-mail lists agree exactly when they share an address,
    /// whatever the lists' lengths and orders (the merge walk over their
    /// sorted IDs).
    #[test]
    fn e_mail_lists_agree_exactly_when_they_share_one(
        x in proptest::collection::vec(0usize..8, 1..5),
        y in proptest::collection::vec(0usize..8, 1..5),
    ) {
        let email = |i: usize| format!("user{i}@host{i}.ru");
        let record = |ix: &[usize]| ix.iter().fold(r(), |r, &i| r.email(email(i)));
        let level = pair(record(&x), record(&y)).level(Field::Email);
        let shared = x.iter().any(|i| y.contains(i));
        let expected = if shared { EmailLevel::Exact } else { EmailLevel::Different };
        proptest::prop_assert_eq!(level, Level::Email(expected));
    }
}
