use proptest::prelude::*;

use super::em::SplitMix64;
use super::*;
use crate::block::{BlockingConfig, GenericValues};
use crate::compare::{CompareConfig, PhoneLevel};
use crate::record::{Dataset, DatasetBuilder, Record};

/// Draws a level code from a distribution over codes `1..=probs.len()`.
fn draw(rng: &mut SplitMix64, probs: &[f64]) -> u8 {
    let x = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    let mut acc = 0.0;
    for (i, p) in probs.iter().enumerate() {
        acc += p;
        if x < acc {
            return (i + 1) as u8;
        }
    }
    probs.len() as u8
}

fn normalise(v: &mut [f64]) {
    let s: f64 = v.iter().sum();
    v.iter_mut().for_each(|x| *x /= s);
}

/// The simulated fields: (field, number of evidence levels).
const SIM: [(Field, usize); 5] = [
    (Field::FirstName, 7),
    (Field::Surname, 7),
    (Field::BirthDate, 5),
    (Field::City, 2),
    (Field::MiddleName, 7),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Simulated comparison vectors from known m, u and λ: EM recovers them.
    #[test]
    fn em_recovers_simulated_m_and_u(seed in any::<u64>(), lambda in 0.15f64..0.6) {
        let mut rng = SplitMix64(seed);
        let mut truth_m: Vec<Vec<f64>> = Vec::new();
        let mut truth_u: Vec<Vec<f64>> = Vec::new();
        for &(_, n) in &SIM {
            // Matches mostly agree, non-matches mostly disagree.
            let mut m: Vec<f64> = (0..n).map(|i| if i == 0 { 6.0 } else { 0.3 + (rng.next() % 100) as f64 / 100.0 }).collect();
            let mut u: Vec<f64> = (0..n).map(|i| if i == n - 1 { 6.0 } else { 0.1 + (rng.next() % 100) as f64 / 200.0 }).collect();
            normalise(&mut m);
            normalise(&mut u);
            truth_m.push(m);
            truth_u.push(u);
        }
        let mut patterns = Patterns::default();
        for _ in 0..200_000 {
            let is_match = ((rng.next() >> 11) as f64 / (1u64 << 53) as f64) < lambda;
            let mut v = ComparisonVector::default();
            for (i, &(f, _)) in SIM.iter().enumerate() {
                let probs = if is_match { &truth_m[i] } else { &truth_u[i] };
                v.0[f as usize] = draw(&mut rng, probs);
            }
            patterns.add(BlockingRule::Device, v, 1);
        }
        let cfg = TrainConfig::new().estimate_u(true).max_iterations(2_000).tolerance(1e-9);
        let (model, report) = Model::fit(&patterns, &UCounts::default(), 1_000_000, &cfg).unwrap();
        prop_assert!(report.converged);
        for (i, &(f, _)) in SIM.iter().enumerate() {
            let codes: Vec<usize> = trainable_codes(f).collect();
            for (j, &c) in codes.iter().enumerate() {
                let (m, u) = (model.m[f as usize][c], model.u[f as usize][c]);
                prop_assert!((m - truth_m[i][j]).abs() < 0.02, "{f:?} level {c}: m {m} vs {}", truth_m[i][j]);
                prop_assert!((u - truth_u[i][j]).abs() < 0.02, "{f:?} level {c}: u {u} vs {}", truth_u[i][j]);
            }
        }
        let prior = model.prior(BlockingRule::Device).unwrap();
        prop_assert!((prior - lambda).abs() < 0.02, "prior {prior} vs {lambda}");
    }
}

fn dataset(records: Vec<Record>) -> Dataset {
    DatasetBuilder::new()
        .today(crate::Ymd::new(2026, 1, 1).unwrap())
        .build(records)
        .unwrap()
}

#[test]
fn json_round_trip_and_refusals() {
    let mut model = Model::default().with_mode(PriorMode::Global);
    model.priors[0].1 = 0.987_654_321;
    model.m[Field::Surname as usize][3] = 0.123_456_789;
    model.presence[Field::Email as usize] = 0.25;
    let json = model.to_json();
    assert!(json.contains("\"version\": 2"));
    assert_eq!(Model::from_json(&json).unwrap(), model);
    // Version 1 files (no presence) still read, as presence 1.
    let v1 = json
        .replace("\"version\": 2", "\"version\": 1")
        .replace("\"presence\": 0.25,", "")
        .replace("\"presence\": 1.0,", "");
    let old = Model::from_json(&v1).unwrap();
    assert_eq!(old.presence, [1.0; crate::compare::FIELDS]);

    let refuse = |text: String| {
        let err = Model::from_json(&text).unwrap_err();
        assert!(
            matches!(err.kind(), crate::ErrorKind::ModelFormat { .. }),
            "{text}"
        );
    };
    refuse("not json".into());
    refuse(json.replace("\"version\": 2", "\"version\": 3"));
    refuse(json.replace("\"presence\": 0.25", "\"presence\": 1.5"));
    refuse(json.replace("idstitch-model", "other"));
    refuse(json.replace("\"level\": \"same_last7\"", "\"level\": \"nearly\""));
    refuse(json.replace("\"global_prior\": ", "\"global_prior\": -"));
    refuse(json.replacen("\"m\": 0.", "\"m\": 7.", 1));
    refuse(json.replace("\"mode\"", "\"extra\": 1, \"mode\""));
}

#[test]
fn a_pair_found_by_phone_alone_scores_the_rule_prior() {
    let ds = dataset(vec![
        Record::new("1", "telegram").phone("+7 912 345-67-89"),
        Record::new("2", "crm").phone("8 912 345 67 89"),
    ]);
    let generic = GenericValues::default();
    let cmp = Comparator::new(&ds, &generic, CompareConfig::new()).unwrap();
    let mut model = Model::default();
    model.priors.retain(|(r, _)| *r != BlockingRule::Phone);
    assert!(
        model
            .score_records(&cmp, 0, 1, BlockingRule::Phone)
            .is_err()
    );
    model.priors.push((BlockingRule::Phone, 0.97));
    let s = model
        .score_records(&cmp, 0, 1, BlockingRule::Phone)
        .unwrap();
    assert!((f64::from(s.probability) - 0.97).abs() < 1e-6);
    // Splink-style: a tiny global prior and the phone counted as evidence.
    let global = model.clone().with_mode(PriorMode::Global);
    let g = global
        .score_records(&cmp, 0, 1, BlockingRule::Phone)
        .unwrap();
    assert!(g.probability < 0.6, "{}", g.probability);
}

#[test]
fn a_rare_surname_counts_more_than_a_common_one() {
    let mut records = Vec::new();
    for i in 0..200 {
        records.push(Record::new(format!("x{i:03}"), "crm").last_name("Иванов"));
    }
    records.push(
        Record::new("r1", "crm")
            .last_name("Шпаковский")
            .first_name("Олег"),
    );
    records.push(
        Record::new("r2", "web")
            .last_name("Шпаковский")
            .first_name("Олег"),
    );
    records.push(
        Record::new("c1", "crm")
            .last_name("Иванов")
            .first_name("Олег"),
    );
    records.push(
        Record::new("c2", "web")
            .last_name("Иванов")
            .first_name("Олег"),
    );
    let ds = dataset(records);
    let generic = GenericValues::default();
    let cmp = Comparator::new(&ds, &generic, CompareConfig::new()).unwrap();
    let ix = |id: &str| ds.index_of(&id.into()).unwrap();
    let model = Model::default();
    let rare = model
        .explain_records(&cmp, ix("r1"), ix("r2"), BlockingRule::Email)
        .unwrap();
    let common = model
        .explain_records(&cmp, ix("c1"), ix("c2"), BlockingRule::Email)
        .unwrap();
    assert!(
        rare.weight > common.weight + 5.0,
        "{} vs {}",
        rare.weight,
        common.weight
    );
    let surname = |e: &Explanation| e.contributions[Field::Surname as usize].clone();
    assert!(surname(&rare).tf_adjustment > 0.0);
    assert!(surname(&common).tf_adjustment < 0.0);
    // Common or not, agreement never counts against.
    assert!(surname(&common).weight >= 0.0);
}

#[test]
fn explanations_add_up_and_mark_conditioned_fields() {
    let ds = dataset(vec![
        Record::new("1", "crm")
            .phone("+79123456789")
            .first_name("Ольга")
            .birth_date("01.05.1990"),
        Record::new("2", "pos")
            .phone("89123456789")
            .first_name("Olga")
            .birth_date("02.07.1990"),
    ]);
    let generic = GenericValues::default();
    let cmp = Comparator::new(&ds, &generic, CompareConfig::new()).unwrap();
    let model = Model::default();
    let e = model
        .explain_records(&cmp, 0, 1, BlockingRule::Phone)
        .unwrap();
    let sum = e.prior_weight + e.contributions.iter().map(|c| c.weight).sum::<f64>();
    assert!((sum - e.weight).abs() < 1e-9);
    let phone = &e.contributions[Field::Phone as usize];
    assert!(phone.conditioned);
    assert_eq!(phone.weight, 0.0);
    let dob = &e.contributions[Field::BirthDate as usize];
    assert_eq!(dob.level, Level::Date(crate::DateLevel::SameYear));
    assert!(dob.weight < 0.0);
    let s = model
        .score_records(&cmp, 1, 0, BlockingRule::Phone)
        .unwrap();
    assert!((f64::from(s.weight) - e.weight).abs() < 1e-4);
    assert_eq!((s.a, s.b), (0, 1));
    let back: Explanation = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(back.contributions.len(), FIELDS);
    assert!(
        model
            .explain_records(&cmp, 0, 9, BlockingRule::Phone)
            .is_err()
    );
}

#[test]
fn training_learns_that_shared_phones_mean_the_same_person() {
    // 400 people, each with a CRM record (name, birth date, phone) and a
    // messenger record (phone only, or phone and first name).
    let first = [
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
    ];
    let last = [
        "Иванов",
        "Петров",
        "Сидоров",
        "Кузнецов",
        "Смирнов",
        "Попов",
        "Лебедев",
        "Козлов",
    ];
    let mut records = Vec::new();
    for i in 0..400u32 {
        let phone = format!("+7912{:07}", 1_000_000 + i * 7919 % 9_000_000);
        let f = first[(i % 10) as usize];
        let l = last[(i / 10 % 8) as usize];
        let dob = format!("{:02}.{:02}.{}", 1 + i % 28, 1 + i / 28 % 12, 1960 + i % 40);
        records.push(
            Record::new(format!("crm{i}"), "crm")
                .phone(&phone)
                .first_name(f)
                .last_name(l)
                .birth_date(dob),
        );
        let mut tg = Record::new(format!("tg{i}"), "telegram").phone(&phone);
        if i % 2 == 0 {
            tg = tg.first_name(f);
        }
        records.push(tg);
    }
    let ds = dataset(records);
    let c = Candidates::find(&ds, &BlockingConfig::new()).unwrap();
    let cmp = Comparator::new(&ds, c.generic(), CompareConfig::new()).unwrap();
    let (model, report) =
        Model::train(&cmp, &c, &TrainConfig::new().u_sample_pairs(100_000)).unwrap();
    assert!(report.converged);
    assert!(
        model.prior(BlockingRule::Phone).unwrap() > 0.9,
        "{report:?}"
    );
    let scored = model.score(&cmp, &c).unwrap();

    // Compared once, the pairs train and score to the same model and scores.
    let vectors = cmp.compare_pairs(c.pairs());
    assert_eq!(
        Patterns::from_vectors(c.rules(), c.pairs(), &vectors).unwrap(),
        Patterns::from_candidates(&cmp, &c)
    );
    let (again, _) = Model::train_with_vectors(
        &cmp,
        &c,
        &vectors,
        &TrainConfig::new().u_sample_pairs(100_000),
    )
    .unwrap();
    assert_eq!(again, model);
    assert_eq!(
        model
            .score_vectors(&cmp, c.rules(), c.pairs(), &vectors)
            .unwrap(),
        scored
    );
    let short = &vectors[..vectors.len() - 1];
    assert!(Patterns::from_vectors(c.rules(), c.pairs(), short).is_err());
    assert!(
        model
            .score_vectors(&cmp, c.rules(), c.pairs(), short)
            .is_err()
    );

    for s in &scored {
        let (a, b) = (
            &ds.record_ids()[s.a as usize],
            &ds.record_ids()[s.b as usize],
        );
        let same = a.as_str().trim_start_matches(char::is_alphabetic)
            == b.as_str().trim_start_matches(char::is_alphabetic);
        if c.rules()[s.rule as usize] == BlockingRule::Phone {
            assert!(same);
            assert!(s.probability > 0.9, "{a} {b} {}", s.probability);
        }
    }
}

#[test]
fn default_parameters_cover_every_level_of_every_field() {
    let model = Model::default();
    for f in Field::ALL {
        let (mut m_sum, mut u_sum) = (0.0, 0.0);
        for &l in f.levels() {
            let (Some(m), Some(u)) = (model.m(f, l), model.u(f, l)) else {
                assert!(l.is_neutral(), "{f:?} {l:?}");
                continue;
            };
            assert!(m > 0.0 && u > 0.0, "{f:?} {l:?}: m {m} u {u}");
            m_sum += m;
            u_sum += u;
        }
        assert!((m_sum - 1.0).abs() < 1e-9, "{f:?}: m sums to {m_sum}");
        assert!((u_sum - 1.0).abs() < 1e-9, "{f:?}: u sums to {u_sum}");
    }
}

#[test]
fn the_u_sample_counts_each_pair_as_adding_its_vector_would() {
    // Every pair of these records compares alike (first name and birth
    // date exact, a generic phone, all else missing), so whichever pairs
    // the sample draws, it must count what adding that vector as often does,
    // neutral generic level left out and missing fields counted as missing.
    let records: Vec<Record> = (0..6)
        .map(|i| {
            Record::new(i.to_string(), "call")
                .phone("+7 495 223-45-67")
                .first_name("Анна")
                .birth_date("1990-05-01")
        })
        .collect();
    let ds = dataset(records);
    // Six holders make the phone generic outright.
    let config = crate::block::GenericConfig::new()
        .min_records(2)
        .max_records(6);
    let generic = GenericValues::detect(&ds, &config).unwrap();
    let cmp = Comparator::new(&ds, &generic, CompareConfig::new()).unwrap();
    let v = cmp.compare(0, 1);
    assert_eq!(v.level(Field::Phone), Level::Phone(PhoneLevel::Generic));
    let mut expected = UCounts::default();
    for _ in 0..40_000 {
        expected.add(&v);
    }
    assert_eq!(UCounts::sample(&cmp, 40_000, 11), expected);
    assert_eq!(expected.pairs(), 40_000);
    // What counts, by field (vector order) and level code: the exact first
    // name and birth date, e-mail as missing, the generic phone not at all.
    let json = serde_json::to_value(&expected).unwrap();
    let row = |f: Field| json["counts"][f as usize].clone();
    assert_eq!(row(Field::FirstName)[1], 40_000);
    assert_eq!(row(Field::BirthDate)[1], 40_000);
    assert_eq!(row(Field::Email)[0], 40_000);
    let phone: Vec<u64> = serde_json::from_value(row(Field::Phone)).unwrap();
    assert_eq!(phone, vec![0; phone.len()]);
}
