//! A synthetic omnichannel population for tests and benchmarks.
//!
//! Each person has a name (with nicknames, Latin transliterations, typos and
//! gendered surnames), a birth date, one or two phones, an e-mail, a loyalty
//! card, a device and a city, and appears as several channel records. About
//! half the records carry one identifier, as real channels do: a messenger contact has
//! a phone, a till receipt a loyalty card, an e-mail or SMS campaign the
//! address or number on file.
//! Some couples share a home phone; some people change phone; a call-centre
//! number is typed into some CRM records.
//!
//! Record IDs are `p{person}-{n}`, so truth is the prefix (the `generate`
//! binary writes opaque IDs and a separate truth file instead).
//!
//! Not every record can be linked: about 6 % of true record pairs share no
//! identifier, directly or through the person's other records (a receipt on
//! the store's card or on a card never registered to a profile, a new phone
//! seen only on channels that carry nothing else). Campaign records only
//! reach addresses a profile holds, as a real campaign does. Measured on
//! 10,000 people, linking every pair of a person's records that share a
//! value gives pairwise recall 0.938: that is the ceiling for identifier
//! evidence, and the reference for accuracy figures on this data (names and
//! birth dates take a run slightly past it).

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
    let device = synth_device(rng);
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

/// One generated record, as strings a channel would export.
#[derive(Debug, Clone, Default)]
pub struct SynthRow {
    pub id: String,
    pub source: &'static str,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub full_name: Option<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub loyalty: Vec<String>,
    pub devices: Vec<String>,
    pub dob: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    /// The true person.
    pub person: usize,
}

impl SynthRow {
    pub fn to_record(&self) -> Record {
        let mut r = Record::new(self.id.clone(), self.source);
        if let Some(v) = &self.first_name {
            r = r.first_name(v.clone());
        }
        if let Some(v) = &self.last_name {
            r = r.last_name(v.clone());
        }
        if let Some(v) = &self.full_name {
            r = r.full_name(v.clone());
        }
        for v in &self.emails {
            r = r.email(v.clone());
        }
        for v in &self.phones {
            r = r.phone(v.clone());
        }
        for v in &self.loyalty {
            r = r.loyalty_card(v.clone());
        }
        for v in &self.devices {
            r = r.device(v.clone());
        }
        if let Some(v) = &self.dob {
            r = r.birth_date(v.clone());
        }
        if let Some(v) = &self.city {
            r = r.city(v.clone());
        }
        if let Some(v) = &self.address {
            r = r.address(v.clone());
        }
        r
    }
}

/// The loyalty card a store's cashiers scan when the customer has none.
pub const STORE_CARD: &str = "2700000000015";

/// Junk typed into mandatory fields.
const JUNK_PHONES: &[&str] = &[
    "+7 999 999-99-99",
    "0000000000",
    "+7 (000) 000-00-00",
    "1234567",
];
const JUNK_EMAILS: &[&str] = &["test@test.ru", "noemail@mail.ru", "no@no.ru", "a@a.ru"];
const STREETS: &[&str] = &[
    "Ленина",
    "Мира",
    "Советская",
    "Гагарина",
    "Лесная",
    "Садовая",
    "Школьная",
    "Новая",
];

/// Generates `people` persons, seeded, streaming each record to `emit`.
/// About 2.8 records per person; about half the records carry one identifier.
///
/// Hard cases: couples sharing a home phone (4 %) and a family tablet;
/// people who changed phone (15 %) whose old number is later reassigned to
/// someone else (recycled numbers); a store's default loyalty card scanned
/// for strangers; a call-centre number typed into CRM records; placeholder
/// values; names in Latin, with nicknames, typos and swapped order.
pub fn generate(people: usize, seed: u64, mut emit: impl FnMut(SynthRow)) {
    let mut rng = Rng(seed);
    let mut next_home: Option<(u64, String)> = None;
    let mut released: std::collections::VecDeque<u64> = std::collections::VecDeque::new();
    for pi in 0..people {
        let mut p = person(&mut rng, pi);
        // A recycled number: someone else's old phone is now this person's.
        if rng.chance(0.01)
            && let Some(old) = released.pop_front()
        {
            p.phones = vec![old];
        }
        if p.phones.len() > 1 {
            released.push_back(p.phones[0]);
        }
        // Couples: this person and the next share a home phone and a tablet.
        let home = match next_home.take() {
            Some(h) => Some(h),
            None if pi + 1 < people && rng.chance(0.04) => {
                let h = (phone_number(&mut rng), synth_device(&mut rng));
                next_home = Some(h.clone());
                Some(h)
            }
            None => None,
        };
        let address = format!(
            "ул. {}, д. {}, кв. {}",
            STREETS[rng.below(STREETS.len())],
            1 + rng.below(80),
            1 + rng.below(200)
        );
        let n = 1 + rng.zipf(8);
        // Two in five people have a CRM profile; everyone else is known only
        // from channel records.
        let crm = rng.chance(0.4);
        // Whether the profile holds the e-mail: campaigns only reach
        // addresses the retailer has.
        let mut mailable = false;
        // The number on the profile: SMS campaigns go to it.
        let on_file = if crm {
            p.phones[0]
        } else {
            *p.phones.last().unwrap_or(&0)
        };
        for k in 0..n {
            let mut row = SynthRow {
                id: format!("p{pi}-{k}"),
                person: pi,
                ..SynthRow::default()
            };
            // Everyone's first record is a profile holding several
            // identifiers (a CRM card, or a web / loyalty-programme account):
            // the retailer met them somewhere that asked for contacts.
            let channel = match (k, crm) {
                (0, true) => 0,
                (0, false) => 7,
                _ => 1 + rng.below(6),
            };
            let latest = *p.phones.last().unwrap_or(&0);
            match channel {
                // CRM: full profile.
                0 => {
                    row.source = "crm";
                    let (f, l) = names(&mut rng, &p);
                    row.first_name = Some(f);
                    row.last_name = Some(l);
                    row.dob = Some(dob_text(&mut rng, p.dob));
                    row.city = Some(
                        if rng.chance(0.2) {
                            CITIES[p.city].1
                        } else {
                            CITIES[p.city].0
                        }
                        .to_owned(),
                    );
                    let phone = if rng.chance(0.02) {
                        CALL_CENTRE.to_owned()
                    } else {
                        format_phone(&mut rng, p.phones[0])
                    };
                    row.phones.push(phone);
                    if let Some((h, _)) = &home {
                        row.phones.push(format_phone(&mut rng, *h));
                        row.address = Some(address.clone());
                    } else if rng.chance(0.3) {
                        row.address = Some(address.clone());
                    }
                    if rng.chance(0.9) {
                        row.emails.push(email_text(&mut rng, &p.email));
                    }
                    if rng.chance(0.8) {
                        row.loyalty.push(p.loyalty.clone());
                    }
                }
                // Messenger contact: the current phone, sometimes a first name.
                1 => {
                    row.source = *rng.pick(&["telegram", "whatsapp", "viber"]);
                    row.phones.push(format_phone(&mut rng, latest));
                    if rng.chance(0.4) {
                        row.first_name = Some(names(&mut rng, &p).0);
                    }
                }
                // Campaigns: an SMS to the number on file, or an e-mail to
                // the address the profile holds.
                2 => {
                    if !mailable || rng.chance(0.4) {
                        row.source = "sms";
                        row.phones.push(format_phone(&mut rng, on_file));
                    } else {
                        row.source = "email";
                        row.emails.push(email_text(&mut rng, &p.email));
                    }
                }
                // Till: the loyalty card (sometimes the store's own), sometimes the phone.
                3 => {
                    row.source = "pos";
                    row.loyalty.push(if rng.chance(0.03) {
                        STORE_CARD.to_owned()
                    } else {
                        p.loyalty.clone()
                    });
                    if rng.chance(0.2) {
                        row.phones.push(format_phone(&mut rng, latest));
                    }
                }
                // Web shop account: name (sometimes in one field, either
                // order), often a birth date, e-mail, phone or both.
                4 => {
                    row.source = "web";
                    let (f, l) = names(&mut rng, &p);
                    if rng.chance(0.3) {
                        row.full_name = Some(if rng.chance(0.5) {
                            format!("{l} {f}")
                        } else {
                            format!("{f} {l}")
                        });
                    } else {
                        row.first_name = Some(f);
                        row.last_name = Some(l);
                    }
                    if rng.chance(0.6) {
                        row.dob = Some(dob_text(&mut rng, p.dob));
                    }
                    // The account's contact details: an e-mail, a phone, or
                    // both (an account updated with the current number).
                    let r = rng.below(4);
                    if r != 3 {
                        row.emails.push(email_text(&mut rng, &p.email));
                    }
                    if r >= 2 {
                        row.phones.push(format_phone(&mut rng, latest));
                    }
                }
                // Call centre: the caller's phone and the name as heard.
                5 => {
                    row.source = "call";
                    row.phones.push(format_phone(&mut rng, latest));
                    let (f, l) = names(&mut rng, &p);
                    row.full_name = Some(format!("{l} {f}"));
                }
                // An account: loyalty-programme sign-up or web shop.
                7 => {
                    let (f, l) = names(&mut rng, &p);
                    row.first_name = Some(f);
                    // Each contact the channels use was given here, mostly.
                    row.phones.push(format_phone(&mut rng, latest));
                    if rng.chance(0.5) {
                        row.source = "loyalty";
                        row.loyalty.push(p.loyalty.clone());
                        if rng.chance(0.9) {
                            row.emails.push(email_text(&mut rng, &p.email));
                        }
                        if rng.chance(0.5) {
                            row.last_name = Some(l);
                        }
                    } else {
                        row.source = "web";
                        row.last_name = Some(l);
                        row.emails.push(email_text(&mut rng, &p.email));
                        if rng.chance(0.9) {
                            row.loyalty.push(p.loyalty.clone());
                        }
                    }
                    if rng.chance(0.5) {
                        row.dob = Some(dob_text(&mut rng, p.dob));
                    }
                }
                // App: the device (the family tablet for some couples), with
                // the account's e-mail or phone.
                _ => {
                    row.source = "app";
                    let device = match &home {
                        Some((_, tablet)) if rng.chance(0.3) => tablet.clone(),
                        _ => p.device.clone(),
                    };
                    row.devices.push(device);
                    if rng.chance(0.5) {
                        row.emails.push(email_text(&mut rng, &p.email));
                    } else {
                        row.phones.push(format_phone(&mut rng, latest));
                    }
                }
            }
            if k == 0 {
                mailable = !row.emails.is_empty();
            }
            // Placeholders typed into mandatory fields.
            if rng.chance(0.01) {
                row.phones.push(rng.pick(JUNK_PHONES).to_string());
            }
            if rng.chance(0.01) {
                row.emails.push(rng.pick(JUNK_EMAILS).to_string());
            }
            emit(row);
        }
    }
}

fn synth_device(rng: &mut Rng) -> String {
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
}

pub struct Population {
    pub records: Vec<Record>,
    /// Person index per record, in `records` order.
    pub person: Vec<usize>,
    pub people: usize,
}

/// [`generate`]d records, collected.
pub fn population(people: usize, seed: u64) -> Population {
    let (mut records, mut person) = (Vec::new(), Vec::new());
    generate(people, seed, |row| {
        records.push(row.to_record());
        person.push(row.person);
    });
    Population {
        records,
        person,
        people,
    }
}

/// The person behind a record ID written by [`generate`].
pub fn person_of(id: &str) -> usize {
    id.trim_start_matches('p')
        .split('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX)
}
