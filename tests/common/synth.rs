//! A synthetic omnichannel population for tests and benchmarks.
//!
//! Each person has a name (with nicknames, Latin transliterations, typos and
//! gendered surnames), a birth date, one or two phones, an e-mail, a loyalty
//! card, a device and a city, and appears as several channel records. Most
//! records carry one identifier, as real channels do: a messenger contact has
//! a phone, a till receipt a loyalty card, an e-mail campaign an address.
//! Some couples share a home phone; some people change phone; a call-centre
//! number is typed into some CRM records.
//!
//! Record IDs are `p{person}-{n}`, so truth is the prefix.

#![allow(dead_code)]

use idstitch::Record;

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// Zipf-like: index i with weight 1/(i+1).
    pub fn zipf(&mut self, n: usize) -> usize {
        let h: f64 = (1..=n).map(|i| 1.0 / i as f64).sum();
        let mut x = (self.next() >> 11) as f64 / (1u64 << 53) as f64 * h;
        for i in 0..n {
            x -= 1.0 / (i + 1) as f64;
            if x <= 0.0 {
                return i;
            }
        }
        n - 1
    }
}

/// (full name, nicknames)
const MALE: &[(&str, &[&str])] = &[
    ("Александр", &["Саша", "Шура"]),
    ("Алексей", &["Лёша", "Алёша"]),
    ("Андрей", &["Андрюша"]),
    ("Дмитрий", &["Дима"]),
    ("Сергей", &["Серёжа"]),
    ("Иван", &["Ваня"]),
    ("Михаил", &["Миша"]),
    ("Николай", &["Коля"]),
    ("Павел", &["Паша"]),
    ("Владимир", &["Вова", "Володя"]),
    ("Евгений", &["Женя"]),
    ("Артём", &["Тёма"]),
    ("Максим", &["Макс"]),
    ("Игорь", &[]),
    ("Олег", &[]),
    ("Роман", &["Рома"]),
    ("Константин", &["Костя"]),
    ("Виктор", &["Витя"]),
    ("Юрий", &["Юра"]),
    ("Тимур", &[]),
];

const FEMALE: &[(&str, &[&str])] = &[
    ("Анна", &["Аня"]),
    ("Мария", &["Маша"]),
    ("Елена", &["Лена"]),
    ("Ольга", &["Оля"]),
    ("Наталья", &["Наташа"]),
    ("Татьяна", &["Таня"]),
    ("Екатерина", &["Катя"]),
    ("Ирина", &["Ира"]),
    ("Юлия", &["Юля"]),
    ("Светлана", &["Света"]),
    ("Анастасия", &["Настя"]),
    ("Дарья", &["Даша"]),
    ("Ксения", &["Ксюша"]),
    ("Полина", &[]),
    ("Алина", &[]),
    ("Виктория", &["Вика"]),
    ("Марина", &[]),
    ("Людмила", &["Люда"]),
    ("Галина", &["Галя"]),
    ("Вера", &[]),
];

/// Masculine surnames; feminine forms add `а`.
const SURNAMES: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
    "Медведев",
    "Антонов",
    "Тарасов",
    "Жуков",
    "Баранов",
    "Филиппов",
    "Комаров",
    "Давыдов",
    "Беляев",
    "Герасимов",
    "Богданов",
    "Осипов",
    "Сидоров",
    "Матвеев",
    "Титов",
    "Марков",
    "Миронов",
    "Крылов",
    "Куликов",
    "Карпов",
    "Власов",
    "Мельников",
    "Денисов",
    "Гаврилов",
    "Тихонов",
    "Казаков",
    "Афанасьев",
    "Данилов",
    "Савельев",
    "Тимофеев",
    "Фомин",
    "Чернов",
    "Абрамов",
];

const ROOTS: &[&str] = &[
    "Бар", "Бел", "Бор", "Вар", "Вес", "Гал", "Гор", "Дар", "Дол", "Жур", "Зар", "Кал", "Кар",
    "Кол", "Кор", "Кур", "Лам", "Лар", "Лес", "Мал", "Мар", "Мор", "Нар", "Нес", "Пал", "Пер",
    "Пол", "Рад", "Рам", "Сав", "Сел", "Сол", "Там", "Тар", "Тор", "Фил", "Хар", "Чер", "Шал",
    "Шер",
];
const MIDDLES: &[&str] = &[
    "", "ан", "ен", "ин", "ов", "уш", "ыш", "ич", "ал", "от", "ык", "ьян",
];
const ENDINGS: &[&str] = &[
    "ов",
    "ев",
    "ин",
    "ский",
    "енко",
    "ук",
    "цев",
    "ников",
    "кин",
    "ецкий",
];

/// The feminine form of a Russian surname.
fn feminine(s: &str) -> String {
    if let Some(stem) = s.strip_suffix("ий") {
        format!("{stem}ая")
    } else if s.ends_with("ов") || s.ends_with("ев") || s.ends_with("ин") {
        format!("{s}а")
    } else {
        s.to_owned()
    }
}

const CITIES: &[(&str, &str)] = &[
    ("Москва", "Moskva"),
    ("Санкт-Петербург", "Sankt-Peterburg"),
    ("Новосибирск", "Novosibirsk"),
    ("Екатеринбург", "Ekaterinburg"),
    ("Казань", "Kazan"),
    ("Нижний Новгород", "Nizhniy Novgorod"),
    ("Самара", "Samara"),
    ("Краснодар", "Krasnodar"),
];

const DOMAINS: &[&str] = &[
    "gmail.com",
    "yandex.ru",
    "mail.ru",
    "bk.ru",
    "list.ru",
    "inbox.ru",
    "rambler.ru",
];

/// The call-centre number operators type when the caller gives none.
pub const CALL_CENTRE: &str = "+7 495 777-00-00";

pub fn translit(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let lower = c.to_lowercase().next().unwrap_or(c);
        let t = match lower {
            'а' => "a",
            'б' => "b",
            'в' => "v",
            'г' => "g",
            'д' => "d",
            'е' => "e",
            'ё' => "e",
            'ж' => "zh",
            'з' => "z",
            'и' => "i",
            'й' => "y",
            'к' => "k",
            'л' => "l",
            'м' => "m",
            'н' => "n",
            'о' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' => "u",
            'ф' => "f",
            'х' => "kh",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ъ' => "",
            'ы' => "y",
            'ь' => "",
            'э' => "e",
            'ю' => "yu",
            'я' => "ya",
            _ => {
                out.push(lower);
                continue;
            }
        };
        if c.is_uppercase() {
            let mut it = t.chars();
            if let Some(f) = it.next() {
                out.extend(f.to_uppercase());
                out.push_str(it.as_str());
            }
        } else {
            out.push_str(t);
        }
    }
    out
}

/// One typo: a dropped, doubled or swapped letter.
fn typo(rng: &mut Rng, s: &str) -> String {
    let mut cs: Vec<char> = s.chars().collect();
    if cs.len() < 4 {
        return s.to_owned();
    }
    let i = 1 + rng.below(cs.len() - 2);
    match rng.below(3) {
        0 => {
            cs.remove(i);
        }
        1 => cs.insert(i, cs[i]),
        _ => cs.swap(i, i + 1),
    }
    cs.into_iter().collect()
}

fn phone_number(rng: &mut Rng) -> u64 {
    79_000_000_000
        + [0u64, 1, 2, 3, 5, 6, 8][rng.below(7)] * 100_000_000
        + (rng.next() % 100_000_000)
}

fn format_phone(rng: &mut Rng, n: u64) -> String {
    let s = n.to_string();
    let (code, a, b, c) = (&s[1..4], &s[4..7], &s[7..9], &s[9..11]);
    match rng.below(5) {
        0 => format!("+7 ({code}) {a}-{b}-{c}"),
        1 => format!("8{code}{a}{b}{c}"),
        2 => format!("+7{code}{a}{b}{c}"),
        3 => format!("8 ({code}) {a} {b} {c}"),
        _ => format!("7{code}{a}{b}{c}"),
    }
}

fn luhn_card(rng: &mut Rng) -> String {
    // A 13-digit card with an EAN-13 check digit.
    let mut d: Vec<u32> = vec![2, 7];
    for _ in 0..10 {
        d.push((rng.next() % 10) as u32);
    }
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { x } else { 3 * x })
        .sum();
    d.push((10 - sum % 10) % 10);
    d.iter().map(|x| char::from(b'0' + *x as u8)).collect()
}

pub struct Person {
    pub male: bool,
    pub first: usize,
    /// Masculine form.
    pub surname: String,
    pub dob: (u32, u32, u32),
    pub phones: Vec<u64>,
    pub email: String,
    pub loyalty: String,
    pub device: String,
    pub city: usize,
}

fn person(rng: &mut Rng, index: usize) -> Person {
    let male = rng.chance(0.5);
    let first = rng.zipf(if male { MALE.len() } else { FEMALE.len() });
    // Half the population shares the 80 commonest surnames (Zipf); the other
    // half has one of ~5,000 rarer ones, as in real name distributions.
    let surname = if rng.chance(0.5) {
        SURNAMES[rng.zipf(SURNAMES.len())].to_string()
    } else {
        format!(
            "{}{}{}",
            rng.pick(ROOTS),
            rng.pick(MIDDLES),
            rng.pick(ENDINGS)
        )
    };
    let dob = (
        1 + rng.below(28) as u32,
        1 + rng.below(12) as u32,
        1950 + rng.below(55) as u32,
    );
    let mut phones = vec![phone_number(rng)];
    if rng.chance(0.15) {
        phones.push(phone_number(rng));
    }
    let names = if male { MALE } else { FEMALE };
    let f = translit(names[first].0).to_lowercase();
    let l = translit(&surname).to_lowercase();
    // One mailbox has one owner: the person's index keeps local parts unique.
    let local = match rng.below(4) {
        0 => format!("{f}.{l}{index}"),
        1 => format!("{}{l}{index}", &f[..1]),
        2 => format!("{l}{index}.{f}"),
        _ => format!("{f}_{index}"),
    };
    let email = format!("{local}@{}", rng.pick(DOMAINS));
    let loyalty = luhn_card(rng);
    let device = {
        let a = rng.next();
        let b = rng.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0xFFF,
            b >> 52,
            b & 0xFFFF_FFFF_FFFF
        )
    };
    Person {
        male,
        first,
        surname,
        dob,
        phones,
        email,
        loyalty,
        device,
        city: rng.zipf(CITIES.len()),
    }
}

/// How a record writes a person's first name and surname.
fn names(rng: &mut Rng, p: &Person) -> (String, String) {
    let table = if p.male { MALE } else { FEMALE };
    let (full, nicks) = table[p.first];
    let mut first = if !nicks.is_empty() && rng.chance(0.2) {
        rng.pick(nicks).to_string()
    } else {
        full.to_string()
    };
    let mut last = if p.male {
        p.surname.clone()
    } else {
        feminine(&p.surname)
    };
    if rng.chance(0.15) {
        first = translit(&first);
        last = translit(&last);
    }
    if rng.chance(0.05) {
        last = typo(rng, &last);
    }
    if rng.chance(0.03) {
        first = typo(rng, &first);
    }
    (first, last)
}

fn dob_text(rng: &mut Rng, (d, m, y): (u32, u32, u32)) -> String {
    match rng.below(3) {
        0 => format!("{d:02}.{m:02}.{y}"),
        1 => format!("{y}-{m:02}-{d:02}"),
        _ => format!("{d}.{m}.{y}"),
    }
}

fn email_text(rng: &mut Rng, e: &str) -> String {
    if rng.chance(0.2) {
        e.to_uppercase()
    } else {
        e.to_owned()
    }
}

pub struct Population {
    pub records: Vec<Record>,
    /// Person index per record, in `records` order.
    pub person: Vec<usize>,
    pub people: usize,
}

/// `people` persons, seeded. About 2.8 records per person; three in four
/// records carry exactly one identifier.
pub fn population(people: usize, seed: u64) -> Population {
    let mut rng = Rng(seed);
    let persons: Vec<Person> = (0..people).map(|i| person(&mut rng, i)).collect();
    // Couples share a home phone: person i and i+1 for 4 % of i.
    let mut home: Vec<Option<u64>> = vec![None; people];
    let mut i = 0;
    while i + 1 < people {
        if rng.chance(0.04) {
            let n = phone_number(&mut rng);
            home[i] = Some(n);
            home[i + 1] = Some(n);
            i += 2;
        } else {
            i += 1;
        }
    }
    let mut records = Vec::new();
    let mut owner = Vec::new();
    for (pi, p) in persons.iter().enumerate() {
        let n = 1 + rng.zipf(8);
        // Two in five people have a CRM profile; everyone else is known only
        // from channel records.
        let crm = rng.chance(0.4);
        for k in 0..n {
            let id = format!("p{pi}-{k}");
            let channel = if k == 0 && crm { 0 } else { 1 + rng.below(5) };
            let latest = *p.phones.last().unwrap_or(&0);
            let r = match channel {
                // CRM: full profile.
                0 => {
                    let (f, l) = names(&mut rng, p);
                    let mut r = Record::new(id, "crm")
                        .first_name(f)
                        .last_name(l)
                        .birth_date(dob_text(&mut rng, p.dob))
                        .city(if rng.chance(0.2) {
                            CITIES[p.city].1
                        } else {
                            CITIES[p.city].0
                        });
                    if rng.chance(0.02) {
                        r = r.phone(CALL_CENTRE);
                    } else {
                        let ph = p.phones[0];
                        r = r.phone(format_phone(&mut rng, ph));
                    }
                    if let Some(h) = home[pi] {
                        r = r.phone(format_phone(&mut rng, h));
                    }
                    if rng.chance(0.7) {
                        r = r.email(email_text(&mut rng, &p.email));
                    }
                    if rng.chance(0.3) {
                        r = r.loyalty_card(p.loyalty.clone());
                    }
                    r
                }
                // Messenger contact: the current phone, sometimes a first name.
                1 => {
                    let mut r = Record::new(id, *rng.pick(&["telegram", "whatsapp", "viber"]))
                        .phone(format_phone(&mut rng, latest));
                    if rng.chance(0.4) {
                        let (f, _) = names(&mut rng, p);
                        r = r.first_name(f);
                    }
                    r
                }
                // E-mail campaign: the address only.
                2 => Record::new(id, "email").email(email_text(&mut rng, &p.email)),
                // Till: the loyalty card, sometimes the phone it is linked to.
                3 => {
                    let mut r = Record::new(id, "pos").loyalty_card(p.loyalty.clone());
                    if rng.chance(0.2) {
                        r = r.phone(format_phone(&mut rng, latest));
                    }
                    r
                }
                // Web shop account: name, often a birth date, e-mail or phone.
                5 => {
                    let (f, l) = names(&mut rng, p);
                    let mut r = Record::new(id, "web").first_name(f).last_name(l);
                    if rng.chance(0.6) {
                        r = r.birth_date(dob_text(&mut rng, p.dob));
                    }
                    if rng.chance(0.5) {
                        r.email(email_text(&mut rng, &p.email))
                    } else {
                        r.phone(format_phone(&mut rng, latest))
                    }
                }
                // App: the device, with the account's e-mail or phone.
                _ => {
                    let r = Record::new(id, "app").device(p.device.clone());
                    if rng.chance(0.5) {
                        r.email(email_text(&mut rng, &p.email))
                    } else {
                        r.phone(format_phone(&mut rng, latest))
                    }
                }
            };
            records.push(r);
            owner.push(pi);
        }
    }
    Population {
        records,
        person: owner,
        people,
    }
}

/// The person behind a record ID written by [`population`].
pub fn person_of(id: &str) -> usize {
    id.trim_start_matches('p')
        .split('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX)
}
