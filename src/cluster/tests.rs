use proptest::prelude::*;

use super::*;
use crate::record::{DatasetBuilder, Record};

fn build(records: Vec<Record>) -> Dataset {
    DatasetBuilder::new()
        .today(crate::Ymd::new(2026, 1, 1).unwrap())
        .build(records)
        .unwrap()
}

fn pair(a: u32, b: u32, p: f32) -> ScoredPair {
    ScoredPair {
        a,
        b,
        rule: 0,
        weight: 0.0,
        probability: p,
    }
}

fn cluster(ds: &Dataset, scored: &[ScoredPair], cfg: &ClusterConfig) -> Clusters {
    Clusters::build(
        ds,
        scored,
        &[BlockingRule::Phone],
        &GenericValues::default(),
        cfg,
    )
    .unwrap()
}

/// Records with no values: only the links decide.
fn blank(n: usize) -> Dataset {
    build(
        (0..n)
            .map(|i| Record::new(format!("{i:04}"), "x"))
            .collect(),
    )
}

#[test]
fn links_below_the_threshold_are_ignored() {
    let ds = blank(3);
    let c = cluster(
        &ds,
        &[pair(0, 1, 0.49), pair(1, 2, 0.5)],
        &ClusterConfig::new(),
    );
    assert_eq!(c.labels(), [0, 1, 1]);
    assert_eq!(c.stats().links_considered, 1);
    assert_eq!(c.stats().size_histogram, BTreeMap::from([(1, 1), (2, 1)]));
}

#[test]
fn cardinality_limits_refuse_the_merge_that_would_break_them() {
    // A chain of records, each with its own phone, linked strongly.
    let ds = build(
        (0..6)
            .map(|i| Record::new(i.to_string(), "x").phone(format!("+7912345670{i}")))
            .collect(),
    );
    let scored: Vec<_> = (1..6)
        .map(|i| pair(i - 1, i, 0.99 - i as f32 * 0.01))
        .collect();
    let c = cluster(
        &ds,
        &scored,
        &ClusterConfig::new().limit(IdKind::Phone, Some(3)),
    );
    assert_eq!(c.labels(), [0, 0, 0, 1, 1, 1]);
    assert_eq!(c.refused().len(), 1);
    assert_eq!(
        c.refused()[0].reason,
        Refusal::CardinalityLimit(IdKind::Phone)
    );
    assert_eq!((c.refused()[0].link.a, c.refused()[0].link.b), (2, 3));
    assert_eq!(c.stats().refused["cardinality_limit"], 1);
}

#[test]
fn single_valued_systems_and_birth_dates_cannot_link() {
    let ds = build(vec![
        Record::new("a", "crm")
            .customer_id("crm", "1")
            .birth_date("01.02.1990"),
        Record::new("b", "crm")
            .customer_id("crm", "2")
            .birth_date("01.02.1990"),
        Record::new("c", "web").birth_date("02.01.1990"),
        Record::new("d", "web").birth_date("01.02.1991"),
        Record::new("e", "web").birth_date("15.07.1975"),
    ]);
    // Two CRM IDs: refused only once the system is declared single-valued.
    let open = cluster(&ds, &[pair(0, 1, 0.9)], &ClusterConfig::new());
    assert_eq!(open.identity(0), open.identity(1));
    let strict = cluster(
        &ds,
        &[pair(0, 1, 0.9)],
        &ClusterConfig::new().single_valued_system("CRM"),
    );
    assert_ne!(strict.identity(0), strict.identity(1));
    assert_eq!(
        strict.refused()[0].reason,
        Refusal::SingleValued(IdKind::CustomerId)
    );
    // Swapped day/month and a one-digit typo are not conflicts; 1975 is,
    // when it comes through a chain: c links to e, and c's identity holds a's date.
    let chain = [pair(0, 2, 0.9), pair(0, 3, 0.9), pair(2, 4, 0.8)];
    let ds2 = build(vec![
        Record::new("a", "crm").birth_date("01.02.1990"),
        Record::new("b", "crm"),
        Record::new("c", "web"),
        Record::new("d", "web").birth_date("01.02.1991"),
        Record::new("e", "web").birth_date("15.07.1975"),
    ]);
    let c = cluster(&ds2, &chain, &ClusterConfig::new());
    assert_eq!(c.identity(0), c.identity(2));
    assert_eq!(c.identity(0), c.identity(3));
    assert_ne!(c.identity(0), c.identity(4));
    assert_eq!(c.refused()[0].reason, Refusal::ConflictingBirthDates);
    let off = cluster(
        &ds2,
        &chain,
        &ClusterConfig::new().birth_dates_cannot_link(false),
    );
    assert_eq!(off.identity(0), off.identity(4));
    // A link whose own records disagree was scored knowing it: applied.
    let direct = cluster(&ds, &[pair(0, 4, 0.9)], &ClusterConfig::new());
    assert_eq!(direct.identity(0), direct.identity(4));
}

#[test]
fn first_names_no_variant_explains_cannot_link_through_a_nameless_link() {
    // A family tablet: Михаил's app record (a) and Timur's app record (b)
    // share it; each is linked to its owner's named profile.
    let ds = build(vec![
        Record::new("a", "app"),
        Record::new("b", "app"),
        Record::new("c", "crm").first_name("Михаил"),
        Record::new("d", "crm").first_name("Timur"),
        Record::new("e", "web").first_name("Misha"),
        Record::new("f", "web").first_name("Тимур"),
        Record::new("g", "web").first_name("Михаил"),
        Record::new("h", "web").first_name("Михиал"),
    ]);
    let links = [
        pair(0, 2, 0.99),
        pair(1, 3, 0.99),
        pair(0, 1, 0.95),
        pair(2, 4, 0.9),
        pair(3, 5, 0.9),
    ];
    let c = cluster(&ds, &links, &ClusterConfig::new());
    assert_ne!(c.identity(0), c.identity(1));
    assert_eq!(c.refused()[0].reason, Refusal::ConflictingFirstNames);
    // Nicknames, transliterations and typos explain each other.
    assert_eq!(c.identity(2), c.identity(4));
    assert_eq!(c.identity(3), c.identity(5));
    let typo = cluster(
        &ds,
        &[pair(0, 6, 0.9), pair(0, 7, 0.9)],
        &ClusterConfig::new(),
    );
    assert_eq!(typo.identity(6), typo.identity(7));
    let off = cluster(
        &ds,
        &links,
        &ClusterConfig::new().first_names_cannot_link(false),
    );
    assert_eq!(off.identity(0), off.identity(1));
    // A link whose own records both have first names was scored on them.
    let direct = cluster(&ds, &[pair(2, 3, 0.9)], &ClusterConfig::new());
    assert_eq!(direct.identity(2), direct.identity(3));
}

#[test]
fn a_family_tablet_links_last_so_each_record_stays_with_its_contact() {
    // b: Михаил's phone on the tablet; c: Timur's e-mail on the tablet.
    let ds = build(vec![
        Record::new("a", "crm").first_name("Михаил"),
        Record::new("b", "app"),
        Record::new("c", "app"),
        Record::new("d", "crm").first_name("Timur"),
    ]);
    let rules = [
        BlockingRule::Phone,
        BlockingRule::Email,
        BlockingRule::Device,
    ];
    let link = |a, b, rule, p| ScoredPair {
        a,
        b,
        rule,
        weight: 0.0,
        probability: p,
    };
    // The tablet link is the strongest, yet it is applied last.
    let scored = [
        link(1, 2, 2, 0.995),
        link(0, 1, 0, 0.98),
        link(2, 3, 1, 0.98),
    ];
    let c = Clusters::build(
        &ds,
        &scored,
        &rules,
        &GenericValues::default(),
        &ClusterConfig::new(),
    )
    .unwrap();
    assert_eq!(c.identity(0), c.identity(1));
    assert_eq!(c.identity(2), c.identity(3));
    assert_ne!(c.identity(1), c.identity(2));
    assert_eq!(c.refused()[0].reason, Refusal::ConflictingFirstNames);
}

#[test]
fn trusted_keys_merge_whatever_the_score() {
    let ds = build(vec![
        Record::new("a", "app").customer_id("loyalty_app", "777"),
        Record::new("b", "pos").customer_id("loyalty_app", "777"),
        Record::new("c", "pos").customer_id("loyalty_app", "778"),
    ]);
    let c = cluster(
        &ds,
        &[],
        &ClusterConfig::new().trusted_system("loyalty_app"),
    );
    assert_eq!(c.labels(), [0, 0, 1]);
    assert_eq!(c.stats().trusted_merges, 1);
    assert_eq!(c.links()[0].rule, None);
    assert_eq!(c.links()[0].probability, 1.0);
}

#[test]
fn a_weak_bridge_between_two_people_is_cut_and_reported() {
    let ds = blank(6);
    let scored = [
        pair(0, 1, 0.99),
        pair(1, 2, 0.98),
        pair(0, 2, 0.97),
        pair(3, 4, 0.99),
        pair(4, 5, 0.98),
        pair(2, 3, 0.6),
    ];
    let c = cluster(&ds, &scored, &ClusterConfig::new());
    assert_eq!(c.labels(), [0, 0, 0, 1, 1, 1]);
    assert_eq!(c.cuts().len(), 1);
    assert_eq!((c.cuts()[0].a, c.cuts()[0].b), (2, 3));
    assert_eq!(c.stats().bridges_cut, 1);
    let kept = cluster(&ds, &scored, &ClusterConfig::new().strong_link(0.5));
    assert_eq!(kept.len(), 1);
}

#[test]
fn identities_sharing_a_phone_or_address_form_households() {
    let ds = build(vec![
        Record::new("a", "crm")
            .phone("+74951234567")
            .first_name("Анна"),
        Record::new("b", "crm")
            .phone("+74951234567")
            .first_name("Борис"),
        Record::new("c", "crm")
            .address("ул. Ленина, 5-12")
            .first_name("Вера"),
        Record::new("d", "crm")
            .address("Ленина ул 5 12")
            .first_name("Глеб")
            .phone("+74951234567"),
        Record::new("e", "crm").first_name("Дина"),
    ]);
    let c = cluster(&ds, &[], &ClusterConfig::new());
    assert_eq!(c.len(), 5);
    let h = c.households();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].identities, [0, 1, 2, 3]);
    assert!(h[0].shared.iter().any(|(k, _)| *k == HouseholdKey::Phone));
    assert!(h[0].shared.iter().any(|(k, _)| *k == HouseholdKey::Address));
    assert_eq!(c.stats().households, 1);
}

#[test]
fn bad_input_is_a_typed_error() {
    let ds = blank(2);
    let err = Clusters::build(
        &ds,
        &[pair(0, 5, 0.9)],
        &[],
        &GenericValues::default(),
        &ClusterConfig::new(),
    )
    .unwrap_err();
    assert!(matches!(err.kind(), crate::ErrorKind::RecordIndex { .. }));
    for cfg in [
        ClusterConfig::new().threshold(0.0),
        ClusterConfig::new().limit(IdKind::Email, Some(0)),
        ClusterConfig::new().min_bridge_side(0),
        ClusterConfig::new().max_household(1),
    ] {
        assert!(Clusters::build(&ds, &[], &[], &GenericValues::default(), &cfg).is_err());
    }
    let c = cluster(&ds, &[], &ClusterConfig::new());
    assert!(c.explain(&ds, 7).is_err());
}

#[test]
fn birth_date_conflicts() {
    let d = |y: u32, m: u32, day: u32| y * 10_000 + m * 100 + day;
    assert!(!clearly_different(d(1990, 2, 1), d(1990, 2, 1)));
    assert!(!clearly_different(d(1990, 2, 1), d(1990, 1, 2)));
    assert!(!clearly_different(d(1990, 2, 1), d(1991, 2, 1)));
    assert!(!clearly_different(d(1990, 2, 1), d(1990, 2, 7)));
    assert!(clearly_different(d(1990, 2, 1), d(1989, 2, 1)));
    assert!(clearly_different(d(1990, 2, 1), d(1975, 7, 15)));
}

/// Connected components by breadth-first search: the reference.
fn bfs_components(n: usize, edges: &[(u32, u32)]) -> Vec<u32> {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in edges {
        adj[a as usize].push(b as usize);
        adj[b as usize].push(a as usize);
    }
    let mut label = vec![u32::MAX; n];
    let mut next = 0;
    for s in 0..n {
        if label[s] != u32::MAX {
            continue;
        }
        let mut queue = std::collections::VecDeque::from([s]);
        label[s] = next;
        while let Some(v) = queue.pop_front() {
            for &w in &adj[v] {
                if label[w] == u32::MAX {
                    label[w] = next;
                    queue.push_back(w);
                }
            }
        }
        next += 1;
    }
    label
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Without constraints, clustering is exactly connected components.
    #[test]
    fn without_constraints_identities_are_connected_components(
        n in 1usize..40,
        raw in proptest::collection::vec((0u32..40, 0u32..40, 0.0f32..1.0), 0..80),
    ) {
        let ds = blank(n);
        let scored: Vec<ScoredPair> = raw
            .iter()
            .filter(|(a, b, _)| (*a as usize) < n && (*b as usize) < n && a != b)
            .map(|&(a, b, p)| pair(a.min(b), a.max(b), p))
            .collect();
        let mut cfg = ClusterConfig::new().strong_link(0.0).birth_dates_cannot_link(false);
        for k in ID_SLOTS {
            cfg = cfg.limit(k, None);
        }
        let c = cluster(&ds, &scored, &cfg);
        let edges: Vec<(u32, u32)> = scored.iter().filter(|p| p.probability >= 0.5).map(|p| (p.a, p.b)).collect();
        let reference = bfs_components(n, &edges);
        prop_assert_eq!(c.labels(), reference.as_slice());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Components are clustered in parallel: with constraints refusing
    /// links, the identities, links and refusals are the same on one thread
    /// and on several, whatever order the scored pairs come in.
    #[test]
    fn clustering_does_not_depend_on_threads_or_pair_order(
        people in proptest::collection::vec((0u8..4, 0u8..3, 0u8..3), 2..40),
        raw in proptest::collection::vec((0u32..40, 0u32..40, 0.5f32..1.0), 0..120),
        rotate in 0usize..120,
    ) {
        let first = ["Анна", "Ольга", "Мария", "Ирина"];
        let dob = ["1990-01-01", "1975-06-30", "2001-12-12"];
        let phone = ["+79120000001", "+79120000002", "+79120000003"];
        let ds = build(
            people
                .iter()
                .enumerate()
                .map(|(i, &(f, d, p))| {
                    Record::new(format!("{i:04}"), "crm")
                        .first_name(first[f as usize])
                        .birth_date(dob[d as usize])
                        .phone(phone[p as usize])
                })
                .collect(),
        );
        let n = people.len();
        let mut scored: Vec<ScoredPair> = raw
            .iter()
            .filter(|(a, b, _)| (*a as usize) < n && (*b as usize) < n && a != b)
            .map(|&(a, b, p)| pair(a.min(b), a.max(b), p))
            .collect();
        scored.sort_by_key(|p| (p.a, p.b));
        scored.dedup_by_key(|p| (p.a, p.b));
        let cfg = ClusterConfig::new().limit(IdKind::Phone, Some(1));
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let reference = one.install(|| cluster(&ds, &scored, &cfg));
        let len = scored.len().max(1);
        scored.rotate_left(rotate % len);
        let parallel = cluster(&ds, &scored, &cfg);
        prop_assert_eq!(reference.labels(), parallel.labels());
        prop_assert_eq!(reference.links(), parallel.links());
        prop_assert_eq!(reference.refused(), parallel.refused());
        prop_assert_eq!(reference.stats(), parallel.stats());
    }
}

proptest! {
    /// The counting sort of links by identity orders as a comparison sort
    /// on (identity, a, b) does, and keeps every link.
    #[test]
    fn links_sorted_by_identity_as_by_comparison(
        labels in proptest::collection::vec(0u32..20, 1..60),
        pairs in proptest::collection::vec((0usize..60, 0usize..60, 0.0f32..1.0), 0..200),
    ) {
        let n = labels.len();
        // Dense labels, as `Clusters::build` makes them.
        let mut dense = std::collections::BTreeMap::new();
        let labels: Vec<u32> = labels
            .iter()
            .map(|l| {
                let next = dense.len() as u32;
                *dense.entry(*l).or_insert(next)
            })
            .collect();
        let links: Vec<Link> = pairs
            .iter()
            .map(|&(a, b, p)| Link { a: (a % n) as u32, b: (b % n) as u32, probability: p, rule: None })
            .collect();
        let key = |l: &Link| (labels[l.a as usize], l.a, l.b);
        let mut expected = links.clone();
        expected.sort_by(|x, y| key(x).cmp(&key(y)).then(x.probability.total_cmp(&y.probability)));
        let mut got = sort_by_identity(links, &labels, dense.len() as u32);
        prop_assert!(got.windows(2).all(|w| key(&w[0]) <= key(&w[1])));
        got.sort_by(|x, y| key(x).cmp(&key(y)).then(x.probability.total_cmp(&y.probability)));
        prop_assert_eq!(got, expected);
    }
}
