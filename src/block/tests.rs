use super::*;
use crate::record::{DatasetBuilder, Record, RecordId};

fn build(records: Vec<Record>) -> Dataset {
    DatasetBuilder::new()
        .today(crate::Ymd::new(2026, 1, 1).unwrap())
        .build(records)
        .unwrap()
}

fn ids(ds: &Dataset, c: &Candidates) -> Vec<(String, String, BlockingRule)> {
    let mut out: Vec<_> = c
        .pairs()
        .iter()
        .map(|p| {
            let a = ds.record_ids()[p.a as usize].to_string();
            let b = ds.record_ids()[p.b as usize].to_string();
            (a, b, c.rule(p).unwrap())
        })
        .collect();
    out.sort();
    out
}

const NAMES: [&str; 12] = [
    "Анна",
    "Борис",
    "Вера",
    "Глеб",
    "Дина",
    "Егор",
    "Жанна",
    "Зоя",
    "Игорь",
    "Кира",
    "Лев",
    "Мария",
];

#[test]
fn pairs_are_distinct_sorted_and_credited_to_the_first_rule() {
    let ds = build(vec![
        Record::new("1", "web")
            .email("anna@mail.ru")
            .phone("+79123456789"),
        Record::new("2", "app")
            .email("anna@mail.ru")
            .phone("89123456789"),
        Record::new("3", "crm").email("anna@mail.ru"),
    ]);
    let cfg = BlockingConfig::new().rules([BlockingRule::Phone, BlockingRule::Email]);
    let c = Candidates::find(&ds, &cfg).unwrap();
    assert_eq!(
        ids(&ds, &c),
        [
            ("1".into(), "2".into(), BlockingRule::Phone),
            ("1".into(), "3".into(), BlockingRule::Email),
            ("2".into(), "3".into(), BlockingRule::Email),
        ]
    );
    assert!(
        c.pairs()
            .windows(2)
            .all(|w| (w[0].a, w[0].b) < (w[1].a, w[1].b))
    );
    assert!(c.pairs().iter().all(|p| p.a < p.b));
    let email = &c.stats().rules[1];
    assert_eq!((email.pairs, email.new_pairs), (3, 2));
    assert_eq!(c.stats().pairs, 3);
}

#[test]
fn ten_thousand_records_on_one_placeholder_phone_give_no_pairs_through_it() {
    // A call-centre number typed for every caller: valid, not a pattern the
    // normaliser knows, but its records name thousands of different people.
    let records: Vec<Record> = (0..10_000)
        .map(|i| {
            Record::new(format!("r{i:05}"), "call")
                .phone("+7 495 223-45-67")
                .first_name(NAMES[i % NAMES.len()])
                .last_name(format!("Фамилия{}", ["ов", "ин", "ев", "ский"][i % 4]))
                .birth_date(format!(
                    "{:02}.{:02}.19{}",
                    1 + i % 28,
                    1 + i % 12,
                    50 + i % 40
                ))
        })
        .collect();
    let ds = build(records);
    let cfg = BlockingConfig::new().rules([BlockingRule::Phone]);
    let c = Candidates::find(&ds, &cfg).unwrap();
    assert!(c.pairs().is_empty());
    let g = c.generic().values();
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].kind, IdKind::Phone);
    assert_eq!(g[0].records, 10_000);
    assert_eq!(g[0].reason, GenericReason::ConflictingNames);
    assert!(c.generic().is_generic(IdKind::Phone, g[0].value));
    assert_eq!(
        ds.value_text(IdKind::Phone, g[0].value).as_deref(),
        Some("+74952234567")
    );
    let st = &c.stats().rules[0];
    assert_eq!(st.generic_blocks, 1);
    assert_eq!(st.pairs_skipped_generic, 10_000 * 9_999 / 2);
    assert_eq!(c.stats().generic_values[&IdKind::Phone], 1);
}

#[test]
fn a_household_phone_is_not_generic() {
    let records = ["Анна", "Борис", "Вера", "Глеб"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            Record::new(i.to_string(), "crm")
                .phone("+79123456789")
                .first_name(*n)
        })
        .collect();
    let ds = build(records);
    let c = Candidates::find(&ds, &BlockingConfig::new()).unwrap();
    assert!(c.generic().values().is_empty());
    assert_eq!(c.pairs().len(), 6);
}

#[test]
fn typos_of_one_name_and_date_are_one_person_not_a_generic_value() {
    // One customer ID on six records of one person, the name and date typed
    // with a different slip each time; then six real strangers.
    let one = [
        ("alexa-rose", "16.08.1916"),
        ("alexa-rxose", "16.08.1916"),
        ("alexa-ose", "16.08.1961"),
        ("alexa-rose", "16.09.1916"),
        ("aelxa-rose", "17.08.1916"),
        ("renee", "16.08.1916"),
    ];
    let strangers = ["Анна", "Борис", "Вера", "Глеб", "Дина", "Егор"];
    let mut records: Vec<Record> = one
        .iter()
        .enumerate()
        .map(|(i, (n, d))| {
            Record::new(format!("a{i}"), "crm")
                .customer_id("crm", "2502613")
                .first_name(*n)
                .birth_date(*d)
        })
        .collect();
    records.extend(strangers.iter().enumerate().map(|(i, n)| {
        Record::new(format!("b{i}"), "crm")
            .customer_id("crm", "7777777")
            .first_name(*n)
            .birth_date(format!("0{}.01.1980", i + 1))
    }));
    let ds = build(records);
    let c = Candidates::find(&ds, &BlockingConfig::new()).unwrap();
    let g = c.generic().values();
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0].records, 6);
    assert_eq!(g[0].distinct_first_names, 6);
    let a_pairs = ids(&ds, &c)
        .iter()
        .filter(|(a, b, _)| a.starts_with('a') && b.starts_with('a'))
        .count();
    assert_eq!(a_pairs, 15);
}

#[test]
fn one_persons_many_records_are_windowed_not_generic_and_stay_chained() {
    // 300 till receipts on one loyalty card, the name in a few spellings.
    let spellings = ["Иван", "Ваня", "Ivan", "Иван"];
    let records = (0..300)
        .map(|i| {
            Record::new(format!("{i:03}"), "pos")
                .loyalty_card("2000000000015")
                .first_name(spellings[i % spellings.len()])
        })
        .collect();
    let ds = build(records);
    let cfg = BlockingConfig::new()
        .rules([BlockingRule::Loyalty])
        .window(4);
    let c = Candidates::find(&ds, &cfg).unwrap();
    assert!(c.generic().values().is_empty());
    let st = &c.stats().rules[0];
    assert_eq!(st.windowed_blocks, 1);
    assert!(c.pairs().len() <= 300 * 4);
    assert_eq!(
        st.pairs_skipped_by_window,
        300 * 299 / 2 - c.pairs().len() as u64
    );
    // Every record is reachable from record 0 through candidate pairs.
    let mut parent: Vec<usize> = (0..300).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for p in c.pairs() {
        let (a, b) = (
            find(&mut parent, p.a as usize),
            find(&mut parent, p.b as usize),
        );
        parent[a] = b;
    }
    let root = find(&mut parent, 0);
    assert!((0..300).all(|i| find(&mut parent, i) == root));
}

#[test]
fn a_value_with_no_evidence_is_generic_past_max_records() {
    let records = (0..120)
        .map(|i| Record::new(i.to_string(), "pos").loyalty_card("4600000000008"))
        .collect();
    let ds = build(records);
    let cfg = BlockingConfig::new().generic(GenericConfig::new().max_records(100));
    let c = Candidates::find(&ds, &cfg).unwrap();
    assert!(c.pairs().is_empty());
    assert_eq!(
        c.generic().values()[0].reason,
        GenericReason::TooManyRecords
    );
}

#[test]
fn pairs_stay_within_the_documented_bound() {
    // Everyone shares surname and birth date: one block of 2,000 records.
    let records = (0..2_000)
        .map(|i| {
            Record::new(format!("{i:04}"), "crm")
                .last_name("Иванов")
                .first_name(NAMES[i % NAMES.len()])
                .birth_date("01.01.1980")
        })
        .collect();
    let ds = build(records);
    let cfg = BlockingConfig::new().rules([BlockingRule::SurnameBirthDate]);
    let c = Candidates::find(&ds, &cfg).unwrap();
    let k = cfg.pair_bound_per_key();
    assert!(
        c.pairs().len() <= 2_000 * k / 2,
        "{} pairs",
        c.pairs().len()
    );
    let st = &c.stats().rules[0];
    assert_eq!(st.largest_block, 2_000);
    assert_eq!(
        st.pairs_skipped_by_window + c.pairs().len() as u64,
        2_000 * 1_999 / 2
    );
}

#[test]
fn name_rules_find_transliterated_and_nickname_matches() {
    let ds = build(vec![
        Record::new("1", "crm")
            .last_name("Щукина")
            .first_name("Юлия")
            .birth_date("05.06.1991"),
        Record::new("2", "web")
            .last_name("Shchukina")
            .first_name("Yulia")
            .birth_date("1991-06-05"),
        Record::new("3", "app")
            .last_name("Петрова")
            .first_name("Юля")
            .birth_date("05.06.1991"),
        Record::new("4", "pos")
            .last_name("Щукин")
            .first_name("Саша")
            .city("Москва"),
        Record::new("5", "pos")
            .last_name("Shchukin")
            .first_name("Alexander")
            .city("Moskva"),
    ]);
    let c = Candidates::find(&ds, &BlockingConfig::new()).unwrap();
    let got = ids(&ds, &c);
    assert!(
        got.contains(&("1".into(), "2".into(), BlockingRule::SurnameBirthDate)),
        "{got:?}"
    );
    // A changed surname: same first name (nickname-equivalent) and birth date.
    assert!(
        got.contains(&("1".into(), "3".into(), BlockingRule::FirstNameBirthDate)),
        "{got:?}"
    );
    assert!(
        got.contains(&("4".into(), "5".into(), BlockingRule::NamePhoneticCity)),
        "{got:?}"
    );
}

#[test]
fn surname_and_a_number_of_the_address_find_records_with_typos_everywhere() {
    let ds = build(vec![
        Record::new("1", "crm")
            .first_name("imogen")
            .last_name("akroyd")
            .birth_date("18.12.1936")
            .address("8 everard street strathalan community 3219"),
        Record::new("2", "crm")
            .first_name("imzogen")
            .last_name("akroyd")
            .birth_date("06.12.1930")
            .address("14 everard street strathalan co mmunity 3219"),
        // Another surname at the same numbers: no pair.
        Record::new("3", "crm")
            .first_name("imogen")
            .last_name("waller")
            .address("8 tullaroop street willaroo 3219"),
    ]);
    let c = Candidates::find(&ds, &BlockingConfig::new()).unwrap();
    assert_eq!(
        ids(&ds, &c),
        [("1".into(), "2".into(), BlockingRule::SurnameAddress)]
    );
}

#[test]
fn input_order_does_not_change_the_pairs() {
    let mut records: Vec<Record> = (0..200)
        .map(|i| {
            Record::new(format!("id{i}"), "web")
                .phone(format!("+7912000{:04}", i / 3))
                .email(format!("user{}@mail.ru", i / 5))
                .last_name(["Иванов", "Петров", "Сидоров"][i % 3])
                .birth_date("01.01.1990")
        })
        .collect();
    let ds1 = build(records.clone());
    records.reverse();
    let ds2 = build(records);
    let cfg = BlockingConfig::new().max_block_size(10).window(3);
    let (c1, c2) = (
        Candidates::find(&ds1, &cfg).unwrap(),
        Candidates::find(&ds2, &cfg).unwrap(),
    );
    assert_eq!(ids(&ds1, &c1), ids(&ds2, &c2));
    assert_eq!(c1.stats(), c2.stats());
}

#[test]
fn bad_settings_are_typed_errors() {
    let ds = build(vec![]);
    for cfg in [
        BlockingConfig::new().rules([]),
        BlockingConfig::new().rules([BlockingRule::Phone, BlockingRule::Phone]),
        BlockingConfig::new().max_block_size(1),
        BlockingConfig::new().window(0),
        BlockingConfig::new().generic(GenericConfig::new().max_top_share(1.5)),
        BlockingConfig::new().generic(GenericConfig::new().min_records(10).max_records(5)),
    ] {
        let err = Candidates::find(&ds, &cfg).unwrap_err();
        assert!(
            matches!(err.kind(), crate::ErrorKind::Config { .. }),
            "{cfg:?}"
        );
    }
    assert!("nope".parse::<BlockingRule>().is_err());
    for r in BlockingRule::ALL {
        assert_eq!(r.as_str().parse::<BlockingRule>().unwrap(), r);
    }
    let _ = RecordId::from("x");
}

#[test]
fn set_operations() {
    let pair = |b: u32, rule: u8| CandidatePair { a: 0, b, rule };
    // Three rules' pairs: the sorted union, each pair credited to the first
    // rule that found it.
    let merged = merge_first(vec![
        (0, vec![2, 3, 7]),
        (1, vec![1, 3, 5, 7]),
        (2, vec![5, 9]),
    ]);
    assert_eq!(
        merged,
        [
            pair(1, 1),
            pair(2, 0),
            pair(3, 0),
            pair(5, 1),
            pair(7, 0),
            pair(9, 2)
        ]
    );
    assert!(merge_first(Vec::new()).is_empty());
    assert_eq!(merge_first(vec![(4, vec![1])]), [pair(1, 4)]);
    assert_eq!(all_pairs(0), 0);
    assert_eq!(all_pairs(1), 0);
    assert_eq!(all_pairs(4), 6);
}

#[test]
fn large_first_name_blocks_are_windowed_in_surname_order() {
    // Twenty Анна born on one day: strangers with different surnames, and
    // one person's two records whose surnames are two spellings of one
    // (Петрова / Petrova: the same transliteration key, so sorted together).
    let surnames = [
        "Смирнова",
        "Кузнецова",
        "Попова",
        "Васильева",
        "Соколова",
        "Михайлова",
        "Новикова",
        "Фёдорова",
        "Морозова",
        "Волкова",
        "Алексеева",
        "Лебедева",
        "Семёнова",
        "Егорова",
        "Павлова",
        "Козлова",
        "Зайцева",
        "Белова",
    ];
    let mut records: Vec<Record> = surnames
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Record::new(format!("s{i:02}"), "crm")
                .first_name("Анна")
                .last_name(*s)
                .birth_date("1990-05-17")
        })
        .collect();
    records.push(
        Record::new("p1", "crm")
            .first_name("Анна")
            .last_name("Петрова")
            .birth_date("1990-05-17"),
    );
    records.push(
        Record::new("p2", "web")
            .first_name("Anna")
            .last_name("Petrova")
            .birth_date("17.05.1990"),
    );
    let ds = build(records);
    let rule = BlockingRule::FirstNameBirthDate;
    let c = Candidates::find(&ds, &BlockingConfig::new().rules([rule])).unwrap();
    // n · w − w(w + 1) / 2 pairs of 20 records with a window of 3.
    assert_eq!(c.pairs().len(), 20 * 3 - 6);
    // One block per nickname group of Анна, each windowed alike.
    let st = &c.stats().rules[0];
    assert!(st.windowed_blocks >= 1);
    assert_eq!(
        st.pairs_skipped_by_window,
        st.windowed_blocks * (20 * 19 / 2 - 54)
    );
    assert!(
        ids(&ds, &c)
            .iter()
            .any(|(a, b, _)| (a.as_str(), b.as_str()) == ("p1", "p2"))
    );
    let tight = BlockingConfig::new().rules([rule]).partial_window(1);
    assert_eq!(Candidates::find(&ds, &tight).unwrap().pairs().len(), 19);

    // With the partial-name bound raised, or under a whole-name rule, the
    // block keeps every pair.
    let all = BlockingConfig::new()
        .rules([rule])
        .partial_max_block_size(20);
    assert_eq!(
        Candidates::find(&ds, &all).unwrap().pairs().len(),
        20 * 19 / 2
    );
    let whole = BlockingConfig::new().rules([BlockingRule::SurnameBirthDate]);
    assert_eq!(Candidates::find(&ds, &whole).unwrap().pairs().len(), 1);
}

proptest::proptest! {
    /// Merging gives what one sort of every rule's pairs does,
    /// each pair credited to the lowest rule that found it.
    #[test]
    fn merged_pairs_keep_their_first_rule(
        lists in proptest::collection::vec(proptest::collection::btree_set(0u64..64, 0..20), 0..9),
    ) {
        let mut all: Vec<(u64, u8)> = Vec::new();
        let mut tagged = Vec::new();
        for (rule, l) in lists.iter().enumerate() {
            all.extend(l.iter().map(|&p| (p, rule as u8)));
            tagged.push((rule as u8, l.iter().copied().collect::<Vec<u64>>()));
        }
        all.sort_unstable();
        all.dedup_by_key(|x| x.0);
        let expected: Vec<CandidatePair> = all
            .into_iter()
            .map(|(p, rule)| CandidatePair { a: (p >> 32) as u32, b: p as u32, rule })
            .collect();
        proptest::prop_assert_eq!(&merge_first(tagged.clone()), &expected);
        // Cut into parts of every size down to one pair.
        for part in [1, 2, 3, 7] {
            proptest::prop_assert_eq!(&merge_first_in(tagged.clone(), part), &expected);
        }
    }
}
