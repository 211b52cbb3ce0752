//! Normaliser throughput on realistic, seeded mixes (single core).
//!
//! Each benchmark normalises a batch of 1,000 values generated outside the
//! timed loop; criterion reports the time per batch, so ns per value is the
//! reported time divided by 1,000 (also shown as elements/s).

// Tests and benchmarks may panic on a broken invariant: that is their report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use idstitch::{CheckDigit, DeviceId, Email, LoyaltyId, PersonName, Phone, Region};

const N: usize = 1000;

/// A small deterministic generator (SplitMix64) so the mixes are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const FIRST: &[&str] = &[
    "Ivan",
    "Иван",
    "Elena",
    "Елена",
    "Sergey",
    "Сергей",
    "Юлия",
    "Yulia",
    "Dmitriy",
    "Дмитрий",
    "Anna",
    "Анна",
    "Alexander",
    "Александр",
    "Наталья",
    "Natalya",
];
const LAST: &[&str] = &[
    "Ivanov",
    "Иванов",
    "Petrova",
    "Петрова",
    "Smirnov",
    "Смирнов",
    "Shchukin",
    "Щукин",
    "Kuznetsova",
    "Кузнецова",
    "Sokolov",
    "Соколов",
];

fn emails(rng: &mut Rng) -> Vec<String> {
    let domains = [
        "gmail.com",
        "mail.ru",
        "yandex.ru",
        "ya.ru",
        "bk.ru",
        "inbox.ru",
        "icloud.com",
        "outlook.com",
        "rambler.ru",
        "list.ru",
        "firma.ru",
        "почта.рф",
    ];
    (0..N)
        .map(|_| {
            let first = rng.pick(&[
                "ivan", "elena", "sergey", "yulia", "dmitry", "anna", "alex", "natasha",
            ]);
            let last = rng.pick(&["ivanov", "petrova", "smirnov", "shchukin", "kuznetsova"]);
            let sep = rng.pick(&[".", "", "_", "-"]);
            let tag = if rng.below(10) == 0 { "+shop" } else { "" };
            let mut local = format!("{first}{sep}{last}{}{tag}", rng.below(100));
            if rng.below(4) == 0 {
                local = local.to_uppercase();
            }
            format!("{local}@{}", rng.pick(&domains))
        })
        .collect()
}

fn phones(rng: &mut Rng) -> Vec<String> {
    (0..N)
        .map(|_| {
            let (a, b, c) = (rng.below(1000), rng.below(100), rng.below(100));
            let mobile = 900 + rng.below(100);
            match rng.below(20) {
                0..=4 => format!("8 ({mobile}) {a:03}-{b:02}-{c:02}"),
                5..=8 => format!("+7 {mobile} {a:03} {b:02} {c:02}"),
                9..=10 => format!("8{mobile}{a:03}{b:02}{c:02}"),
                11 => format!("{mobile}{a:03}{b:02}{c:02}"),
                12..=13 => format!("+7 (812) {a:03}-{b:02}-{c:02}"),
                14 => format!("8 (495) {a:03}-{b:02}-{c:02} доб. {b}"),
                15 => format!("+375 29 {a:03}-{b:02}-{c:02}"),
                16 => format!("+7 701 {a:03} {b:02}{c:02}"),
                17 => format!("+49 30 {a:03}{b:02}"),
                18 => format!("+1 650 {a:03} {b:02}{c:02}"),
                _ => format!("8 800 {a:03}-{b:02}-{c:02}"),
            }
        })
        .collect()
}

fn devices(rng: &mut Rng) -> Vec<String> {
    (0..N)
        .map(|_| {
            let (hi, lo) = (rng.next(), rng.next());
            let u = format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                hi >> 32,
                (hi >> 16) & 0xffff,
                hi & 0xffff,
                lo >> 48,
                lo & 0xffff_ffff_ffff
            );
            match rng.below(5) {
                0 => u.to_uppercase(),
                1 => format!("{{{u}}}"),
                2 => u.replace('-', ""),
                3 => format!("{:016x}", rng.next()),
                _ => u,
            }
        })
        .collect()
}

fn names(rng: &mut Rng) -> Vec<String> {
    (0..N)
        .map(|_| {
            let (f, l) = (rng.pick(FIRST), rng.pick(LAST));
            match rng.below(3) {
                0 => format!("{l} {f}"),
                1 => format!("{}  {}", f.to_uppercase(), l),
                _ => format!("{f} {l}"),
            }
        })
        .collect()
}

fn loyalty(rng: &mut Rng) -> Vec<String> {
    (0..N)
        .map(|_| {
            let body: String = (0..12)
                .map(|_| char::from(b'0' + rng.below(10) as u8))
                .collect();
            let sum: usize = body
                .bytes()
                .rev()
                .enumerate()
                .map(|(i, d)| usize::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
                .sum();
            format!("{body}{}", (10 - sum % 10) % 10)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(20_261_124);
    let (emails, phones, devices, names, cards) = (
        emails(&mut rng),
        phones(&mut rng),
        devices(&mut rng),
        names(&mut rng),
        loyalty(&mut rng),
    );
    let mut g = c.benchmark_group("normalize_1000");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("email", |b| {
        b.iter(|| {
            emails
                .iter()
                .filter(|s| Email::parse(black_box(s)).is_ok())
                .count()
        })
    });
    g.bench_function("phone_ru_mix", |b| {
        b.iter(|| {
            phones
                .iter()
                .filter(|s| Phone::parse(black_box(s), Region::RU).is_ok())
                .count()
        })
    });
    g.bench_function("phone_ru_mix_full_parser", |b| {
        b.iter(|| {
            phones
                .iter()
                .filter(|s| Phone::parse_full(black_box(s), Region::RU).is_ok())
                .count()
        })
    });
    g.bench_function("device", |b| {
        b.iter(|| {
            devices
                .iter()
                .filter(|s| DeviceId::parse(black_box(s)).is_ok())
                .count()
        })
    });
    g.bench_function("name_key", |b| {
        b.iter(|| {
            names
                .iter()
                .filter_map(|s| PersonName::parse(black_box(s)).ok())
                .map(|n| {
                    n.tokens()
                        .iter()
                        .map(|t| t.phonetic_key().len())
                        .sum::<usize>()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("loyalty_ean13", |b| {
        b.iter(|| {
            cards
                .iter()
                .filter(|s| LoyaltyId::parse(black_box(s), CheckDigit::Ean13).is_ok())
                .count()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
