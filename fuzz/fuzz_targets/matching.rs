//! Matching core on hostile records: building, blocking, training, scoring and
//! explaining never panic; scores are probabilities; explanations add up.
#![no_main]
use idstitch::{
    BlockingConfig, Candidates, Comparator, CompareConfig, DatasetBuilder, Model, Record,
    TrainConfig, Ymd,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    // Lines are records; tab-separated fields fill the record's slots in turn.
    let mut records = Vec::new();
    for (i, line) in data.lines().take(64).enumerate() {
        let mut r = Record::new(i.to_string(), "fuzz");
        for (j, field) in line.split('\t').enumerate() {
            r = match j % 11 {
                0 => r.email(field),
                1 => r.phone(field),
                2 => r.loyalty_card(field),
                3 => r.device(field),
                4 => r.customer_id("crm", field),
                5 => r.first_name(field),
                6 => r.last_name(field),
                7 => r.full_name(field),
                8 => r.birth_date(field),
                9 => r.city(field),
                _ => r.middle_name(field),
            };
        }
        records.push(r);
    }
    let Some(today) = Ymd::new(2026, 1, 1) else { return };
    let ds = DatasetBuilder::new().today(today).build(records).expect("distinct IDs build");
    let cands = Candidates::find(&ds, &BlockingConfig::new().max_block_size(4).window(2))
        .expect("valid configuration");
    let cmp = Comparator::new(&ds, cands.generic(), CompareConfig::new()).expect("valid thresholds");
    let cfg = TrainConfig::new().u_sample_pairs(2_000).max_iterations(50);
    let (model, _) = Model::train(&cmp, &cands, &cfg).expect("valid training settings");
    let scored = model.score(&cmp, &cands).expect("model has every rule");
    for (s, p) in scored.iter().zip(cands.pairs()) {
        assert!((0.0..=1.0).contains(&s.probability), "{}", s.probability);
        let e = model.explain(&cmp, &cands, p).expect("pair in range");
        let sum = e.prior_weight + e.contributions.iter().map(|c| c.weight).sum::<f64>();
        assert!((sum - e.weight).abs() < 1e-6);
    }
    let again = Model::from_json(&model.to_json()).expect("a model's JSON reads back");
    assert_eq!(again, model);
});
