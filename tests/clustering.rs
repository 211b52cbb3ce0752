//! Clustering end to end on adversarial cases embedded in a synthetic
//! population: the whole pipeline (normalise, block, train, score, cluster).

// Tests may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../examples/generate/synth.rs"]
mod synth;

use idstitch::{
    BlockingConfig, Candidates, ClusterConfig, Clusters, Comparator, CompareConfig, Dataset,
    DatasetBuilder, HouseholdKey, Model, Record, TrainConfig, Ymd,
};

struct Run {
    ds: Dataset,
    clusters: Clusters,
}

impl Run {
    fn new(records: Vec<Record>) -> Run {
        let ds = DatasetBuilder::new()
            .today(Ymd::new(2026, 1, 1).unwrap())
            .build(records)
            .unwrap();
        let cands = Candidates::find(&ds, &BlockingConfig::new()).unwrap();
        let cmp = Comparator::new(&ds, cands.generic(), CompareConfig::new()).unwrap();
        let (model, _) =
            Model::train(&cmp, &cands, &TrainConfig::new().u_sample_pairs(200_000)).unwrap();
        let scored = model.score(&cmp, &cands).unwrap();
        let clusters = Clusters::build(
            &ds,
            &scored,
            cands.rules(),
            cands.generic(),
            &ClusterConfig::new(),
        )
        .unwrap();
        Run { ds, clusters }
    }

    fn identity(&self, id: &str) -> u32 {
        let ix = self
            .ds
            .index_of(&id.into())
            .unwrap_or_else(|| panic!("no record {id}"));
        self.clusters.identity(ix).unwrap()
    }

    fn size(&self, identity: u32) -> usize {
        self.clusters
            .labels()
            .iter()
            .filter(|&&l| l == identity)
            .count()
    }
}

fn background(records: &mut Vec<Record>) {
    records.extend(synth::population(1_500, 99).records);
}

#[test]
fn a_household_landline_shared_by_four_people() {
    let mut records = Vec::new();
    background(&mut records);
    let people = [
        ("Анна", "Белова", "12.03.1961", "+7 912 001-11-11"),
        ("Пётр", "Белов", "30.08.1958", "+7 912 001-22-22"),
        ("Дарья", "Белова", "05.05.1989", "+7 912 001-33-33"),
        ("Илья", "Белов", "17.11.1992", "+7 912 001-44-44"),
    ];
    for (i, (first, last, dob, mobile)) in people.iter().enumerate() {
        records.push(
            Record::new(format!("home{i}-crm"), "crm")
                .first_name(*first)
                .last_name(*last)
                .birth_date(*dob)
                .phone(*mobile)
                .phone("+7 495 600-70-80"),
        );
        records.push(
            Record::new(format!("home{i}-tg"), "telegram")
                .phone(*mobile)
                .first_name(*first),
        );
    }
    let run = Run::new(records);
    let ids: Vec<u32> = (0..4)
        .map(|i| run.identity(&format!("home{i}-crm")))
        .collect();
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "four people, four identities");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(run.identity(&format!("home{i}-tg")), *id);
    }
    let household = run
        .clusters
        .households()
        .iter()
        .find(|h| h.identities.contains(&ids[0]))
        .expect("the four form a household");
    assert!(ids.iter().all(|i| household.identities.contains(i)));
    assert!(
        household
            .shared
            .iter()
            .any(|(k, _)| *k == HouseholdKey::Phone)
    );
}

#[test]
fn a_recycled_phone_does_not_join_its_two_owners() {
    let mut records = Vec::new();
    background(&mut records);
    let phone = "+7 916 555-01-02";
    records.push(
        Record::new("old-crm", "crm")
            .full_name("Смирнов Олег Петрович")
            .birth_date("04.04.1970")
            .phone(phone)
            .seen(1_546_300_800, 1_609_459_200),
    );
    records.push(
        Record::new("old-tg", "telegram")
            .phone(phone)
            .first_name("Олег")
            .seen(1_577_836_800, 1_600_000_000),
    );
    records.push(
        Record::new("new-crm", "crm")
            .full_name("Кузнецова Мария")
            .birth_date("21.09.1995")
            .phone(phone)
            .seen(1_672_531_200, 1_704_067_200),
    );
    records.push(
        Record::new("new-web", "web")
            .phone(phone)
            .first_name("Маша")
            .last_name("Kuznetsova"),
    );
    let run = Run::new(records);
    assert_ne!(run.identity("old-crm"), run.identity("new-crm"));
    assert_eq!(run.identity("old-crm"), run.identity("old-tg"));
    assert_eq!(run.identity("new-crm"), run.identity("new-web"));
}

#[test]
fn a_stores_default_loyalty_card_on_a_thousand_receipts() {
    let mut records = Vec::new();
    background(&mut records);
    let mut rng = synth::Rng(7);
    for i in 0..1_000 {
        let mut r = Record::new(format!("till{i:04}"), "pos").loyalty_card("2000000000015");
        // Two in five receipts carry the buyer's phone for an e-receipt.
        if rng.chance(0.4) {
            r = r.phone(format!(
                "+7 903 {:03}-{:02}-{:02}",
                100 + rng.below(900),
                rng.below(100),
                rng.below(100)
            ));
        }
        records.push(r);
    }
    let run = Run::new(records);
    let largest = run.clusters.stats().largest;
    assert!(largest < 30, "largest identity {largest}");
    let till0 = run.identity("till0000");
    assert!(run.size(till0) < 30);
}

#[test]
fn fifty_different_ivan_ivanovs_stay_fifty_people() {
    let mut records = Vec::new();
    background(&mut records);
    for i in 0..50u32 {
        let phone = format!("+7 925 {:03}-{:02}-{:02}", 100 + i, i, 99 - i);
        let email = format!("ivanov.{}@mail.ru", 1000 + i * 37);
        records.push(
            Record::new(format!("ivan{i:02}-crm"), "crm")
                .first_name("Иван")
                .last_name("Иванов")
                .birth_date(format!("{:02}.{:02}.{}", 1 + i % 28, 1 + i % 12, 1960 + i))
                .phone(&phone)
                .email(&email)
                .city("Москва"),
        );
        records.push(
            Record::new(format!("ivan{i:02}-tg"), "telegram")
                .phone(&phone)
                .first_name("Ваня"),
        );
        records.push(Record::new(format!("ivan{i:02}-mail"), "email").email(&email));
    }
    let run = Run::new(records);
    let mut ids: Vec<u32> = (0..50)
        .map(|i| run.identity(&format!("ivan{i:02}-crm")))
        .collect();
    for i in 0..50 {
        let own = run.identity(&format!("ivan{i:02}-crm"));
        assert_eq!(run.identity(&format!("ivan{i:02}-tg")), own);
        assert_eq!(run.identity(&format!("ivan{i:02}-mail")), own);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50);
}

#[test]
fn a_customer_who_changed_phone_is_linked_through_email() {
    let mut records = Vec::new();
    background(&mut records);
    records.push(
        Record::new("mover-crm", "crm")
            .full_name("Орлова Екатерина")
            .birth_date("08.02.1984")
            .phone("+7 921 300-40-50")
            .email("k.orlova84@yandex.ru"),
    );
    records.push(
        Record::new("mover-app", "app")
            .email("K.Orlova84@ya.ru")
            .phone("+7 999 123-45-00"),
    );
    records.push(
        Record::new("mover-tg", "telegram")
            .phone("8 999 123 45 00")
            .first_name("Катя"),
    );
    let run = Run::new(records);
    let crm = run.identity("mover-crm");
    assert_eq!(run.identity("mover-app"), crm);
    assert_eq!(run.identity("mover-tg"), crm);
    let why = run.clusters.explain(&run.ds, crm).unwrap();
    // The anchor is the first record by ID: the app account, which holds both
    // the e-mail (shared with the CRM) and the new phone (shared with Telegram).
    assert_eq!(why.anchor.as_str(), "mover-app");
    let path = |id: &str| {
        why.members
            .iter()
            .find(|m| m.record.as_str() == id)
            .unwrap()
            .path
            .clone()
    };
    assert_eq!(path("mover-crm").len(), 1);
    assert_eq!(
        path("mover-crm")[0].rule,
        Some(idstitch::BlockingRule::Email)
    );
    assert_eq!(
        path("mover-tg")[0].rule,
        Some(idstitch::BlockingRule::Phone)
    );
}

#[test]
fn the_same_records_in_a_hundred_orders_give_one_partition() {
    let base = synth::population(150, 17).records;
    let partition = |records: Vec<Record>| {
        let run = Run::new(records);
        let mut groups: Vec<Vec<String>> = run
            .clusters
            .members()
            .into_iter()
            .map(|m| {
                m.into_iter()
                    .map(|r| run.ds.record_ids()[r as usize].to_string())
                    .collect()
            })
            .collect();
        groups.sort();
        groups
    };
    let reference = partition(base.clone());
    let mut rng = synth::Rng(2026);
    for _ in 0..100 {
        let mut shuffled = base.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i + 1));
        }
        assert_eq!(partition(shuffled), reference);
    }
}
