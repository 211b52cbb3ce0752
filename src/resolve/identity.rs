//! Stable identity IDs across runs, and the events that tell services what
//! changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::record::RecordId;

/// A persistent identity ID, `id-` and 16 hex digits.
///
/// Minted from the smallest record ID of the identity that first needs it
/// (so it does not depend on the order records arrive in within a run),
/// and kept while the identity lives: records joining it, merges it
/// survives, splits it keeps its larger part of.
///
/// # Example
/// ```
/// use idstitch::IdentityId;
///
/// let id = IdentityId::parse("id-00ff00ff00ff00ff")?;
/// assert_eq!(id.as_str(), "id-00ff00ff00ff00ff");
/// assert!(IdentityId::parse("00ff").is_err());
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdentityId(Box<str>);

impl IdentityId {
    /// Reads an ID written by [`IdentityId::as_str`].
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) unless it is `id-`
    /// and 16 lower-case hex digits.
    pub fn parse(s: &str) -> crate::Result<IdentityId> {
        let ok = s.len() == 19
            && s.starts_with("id-")
            && s[3..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(IdentityId(s.into()))
        } else {
            Err(crate::Error::config(
                "identity id",
                "expected id- and 16 lower-case hex digits",
            ))
        }
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn mint(seed: &str, attempt: u32) -> IdentityId {
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for b in seed.bytes().chain(attempt.to_le_bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        // A SplitMix64 finish spreads FNV's weak low bits.
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
        IdentityId(format!("id-{h:016x}").into_boxed_str())
    }
}

impl fmt::Display for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for IdentityId {
    type Error = crate::Error;

    fn try_from(s: String) -> crate::Result<Self> {
        IdentityId::parse(&s)
    }
}

impl From<IdentityId> for String {
    fn from(id: IdentityId) -> String {
        id.0.into()
    }
}

/// What an update did to the identities, for services that keep copies.
///
/// Serialises as one JSON object per event with an `event` tag:
/// `{"event":"merged","from":["id-…"],"into":"id-…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A new identity, made only of new records.
    Created {
        /// Its ID.
        identity: IdentityId,
        /// Its records.
        records: Vec<RecordId>,
    },
    /// New records joined an existing identity.
    Assigned {
        /// The identity.
        identity: IdentityId,
        /// The records that joined it.
        records: Vec<RecordId>,
    },
    /// Existing identities became one; `from` are retired.
    Merged {
        /// The retired IDs.
        from: Vec<IdentityId>,
        /// The surviving ID.
        into: IdentityId,
    },
    /// An identity's records now belong to several identities (`into`
    /// includes `from` when it kept a part).
    Split {
        /// The identity split.
        from: IdentityId,
        /// Every identity now holding some of its former records.
        into: Vec<IdentityId>,
    },
    /// Records left an identity that lives on (erased).
    Unassigned {
        /// The identity.
        identity: IdentityId,
        /// The records gone.
        records: Vec<RecordId>,
    },
    /// An identity lost all its records (erasure); its ID is retired.
    Removed {
        /// The retired ID.
        identity: IdentityId,
        /// The records gone.
        records: Vec<RecordId>,
    },
}

/// Which stable ID each record's identity has, and every ID ever used.
///
/// [`IdentityMap::update`] maps a new partition of the records onto the IDs
/// of the previous one, by these rules:
///
/// 1. an existing ID goes to the new identity holding most of its former
///    records (ties: the one holding its smallest former record ID);
/// 2. an identity granted several IDs keeps the one with most of its records
///    (ties: the smaller ID) and the others are **merged** into it and retired;
/// 3. an identity granted none gets a new ID minted from its smallest record
///    ID (never one used before, live or retired);
/// 4. an ID whose former records now sit in several identities is **split**.
///
/// Every rule reads sets and record-ID order only, so the IDs do not depend
/// on the order records arrive in within an update.
///
/// # Example
/// ```
/// use idstitch::{Event, IdentityMap, RecordId};
///
/// let ids = |v: &[&str]| v.iter().map(|s| RecordId::from(*s)).collect::<Vec<_>>();
/// let mut map = IdentityMap::new();
/// map.update([ids(&["a", "b"]), ids(&["c"])]);
/// let ab = map.identity_of(&"a".into()).unwrap().clone();
/// // "d" joins a and b; c joins them too: c's ID is merged into ab's.
/// let events = map.update([ids(&["a", "b", "c", "d"])]);
/// assert_eq!(map.identity_of(&"d".into()), Some(&ab));
/// assert!(events.iter().any(|e| matches!(e, Event::Merged { into, .. } if *into == ab)));
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdentityMap {
    assignments: BTreeMap<RecordId, IdentityId>,
    used: BTreeSet<IdentityId>,
}

impl IdentityMap {
    /// No records, no IDs.
    pub fn new() -> IdentityMap {
        IdentityMap::default()
    }

    /// The stable ID of a record's identity.
    pub fn identity_of(&self, record: &RecordId) -> Option<&IdentityId> {
        self.assignments.get(record)
    }

    /// Records with an identity.
    pub fn len(&self) -> usize {
        self.assignments.len()
    }

    /// Whether no record has an identity.
    pub fn is_empty(&self) -> bool {
        self.assignments.is_empty()
    }

    /// Every record and its identity, by record ID.
    pub fn assignments(&self) -> impl Iterator<Item = (&RecordId, &IdentityId)> {
        self.assignments.iter()
    }

    /// Replaces the partition with `groups` (every record present now, each
    /// in one group; records absent from it are gone) and returns what
    /// changed, in a deterministic order.
    pub fn update<G>(&mut self, groups: impl IntoIterator<Item = G>) -> Vec<Event>
    where
        G: IntoIterator<Item = RecordId>,
    {
        self.apply(groups, true)
    }

    /// Replaces the identities of part of the records: `groups` hold every
    /// record of each identity they touch (old or new), and the records
    /// outside them keep theirs. The same IDs and events as
    /// [`IdentityMap::update`] over the whole partition gives, for an
    /// incremental change that left the other identities as they were.
    pub(crate) fn update_part<G>(&mut self, groups: impl IntoIterator<Item = G>) -> Vec<Event>
    where
        G: IntoIterator<Item = RecordId>,
    {
        self.apply(groups, false)
    }

    fn apply<G>(&mut self, groups: impl IntoIterator<Item = G>, whole: bool) -> Vec<Event>
    where
        G: IntoIterator<Item = RecordId>,
    {
        let mut groups: Vec<Vec<RecordId>> = groups
            .into_iter()
            .map(|g| {
                let mut g: Vec<RecordId> = g.into_iter().collect();
                g.sort();
                g.dedup();
                g
            })
            .filter(|g| !g.is_empty())
            .collect();
        // Canonical order: by smallest record ID.
        groups.sort_by(|a, b| a[0].cmp(&b[0]));

        // Former records of each old ID: count and smallest, per new group.
        // old id → (total former records still present, smallest one)
        let mut old_size: BTreeMap<&IdentityId, usize> = BTreeMap::new();
        // (old id, group) → (records of it in the group, smallest of them)
        let mut share: BTreeMap<(&IdentityId, usize), (usize, &RecordId)> = BTreeMap::new();
        for (gi, g) in groups.iter().enumerate() {
            for r in g {
                if let Some(old) = self.assignments.get(r) {
                    *old_size.entry(old).or_default() += 1;
                    let e = share.entry((old, gi)).or_insert((0, r));
                    e.0 += 1;
                    if r < e.1 {
                        e.1 = r;
                    }
                }
            }
        }
        // Rule 1: each old ID to the group holding most of its records.
        let mut keeper: BTreeMap<&IdentityId, usize> = BTreeMap::new();
        let mut best: BTreeMap<&IdentityId, (usize, &RecordId)> = BTreeMap::new();
        for (&(old, gi), &(n, smallest)) in &share {
            let better = match best.get(old) {
                None => true,
                Some(&(bn, bs)) => n > bn || (n == bn && smallest < bs),
            };
            if better {
                best.insert(old, (n, smallest));
                keeper.insert(old, gi);
            }
        }
        // Rules 2 and 3.
        let mut granted: Vec<Vec<(&IdentityId, usize)>> = vec![Vec::new(); groups.len()];
        for (&old, &gi) in &keeper {
            granted[gi].push((old, share[&(old, gi)].0));
        }
        let mut minted: BTreeSet<IdentityId> = BTreeSet::new();
        let mut new_ids: Vec<IdentityId> = Vec::with_capacity(groups.len());
        let mut events = Vec::new();
        for (gi, g) in groups.iter().enumerate() {
            let mut mine = granted[gi].clone();
            mine.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let id = match mine.first() {
                Some(&(old, _)) => old.clone(),
                None => {
                    let mut attempt = 0;
                    loop {
                        let id = IdentityId::mint(g[0].as_str(), attempt);
                        if !self.used.contains(&id) && !minted.contains(&id) {
                            break id;
                        }
                        attempt += 1;
                    }
                }
            };
            if !self.used.contains(&id) {
                minted.insert(id.clone());
            }
            if mine.len() > 1 {
                events.push(Event::Merged {
                    from: mine[1..].iter().map(|&(o, _)| o.clone()).collect(),
                    into: id.clone(),
                });
            }
            let fresh: Vec<RecordId> = g
                .iter()
                .filter(|r| !self.assignments.contains_key(*r))
                .cloned()
                .collect();
            if fresh.len() == g.len() {
                events.push(Event::Created {
                    identity: id.clone(),
                    records: fresh,
                });
            } else if !fresh.is_empty() {
                events.push(Event::Assigned {
                    identity: id.clone(),
                    records: fresh,
                });
            }
            new_ids.push(id);
        }
        // Rule 4, and IDs left with no records at all.
        let mut parts: BTreeMap<&IdentityId, BTreeSet<&IdentityId>> = BTreeMap::new();
        for &(old, gi) in share.keys() {
            parts.entry(old).or_default().insert(&new_ids[gi]);
        }
        for (old, into) in &parts {
            if into.len() > 1 {
                events.push(Event::Split {
                    from: (*old).clone(),
                    into: into.iter().map(|&i| i.clone()).collect(),
                });
            }
        }
        // Records gone, by their former identity (a partial update has
        // none: every record of a touched identity is in a group).
        let mut gone: BTreeMap<&IdentityId, Vec<RecordId>> = BTreeMap::new();
        if whole {
            let present: BTreeSet<&RecordId> = groups.iter().flatten().collect();
            for (r, old) in &self.assignments {
                if !present.contains(r) {
                    gone.entry(old).or_default().push(r.clone());
                }
            }
        }
        for (old, records) in gone {
            let identity = old.clone();
            events.push(if old_size.contains_key(old) {
                Event::Unassigned { identity, records }
            } else {
                Event::Removed { identity, records }
            });
        }
        if whole {
            self.assignments.clear();
        }
        for (g, id) in groups.into_iter().zip(new_ids) {
            for r in g {
                self.assignments.insert(r, id.clone());
            }
        }
        // `extend`, not `append`: append rebuilds the whole set (O(n)).
        self.used.extend(minted);
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<RecordId> {
        v.iter().map(|s| RecordId::from(*s)).collect()
    }

    fn id_of(map: &IdentityMap, r: &str) -> IdentityId {
        map.identity_of(&r.into()).cloned().unwrap()
    }

    #[test]
    fn ids_do_not_depend_on_the_order_of_groups_or_records() {
        let mut a = IdentityMap::new();
        let mut b = IdentityMap::new();
        a.update([ids(&["x", "y"]), ids(&["z"])]);
        b.update([ids(&["z"]), ids(&["y", "x"])]);
        assert_eq!(a, b);
        assert_ne!(id_of(&a, "x"), id_of(&a, "z"));
    }

    #[test]
    fn joins_keep_the_id_merges_retire_the_smaller_split_keeps_the_larger_part() {
        let mut m = IdentityMap::new();
        let created = m.update([ids(&["a", "b", "c"]), ids(&["d"])]);
        assert_eq!(created.len(), 2);
        let (abc, d) = (id_of(&m, "a"), id_of(&m, "d"));
        // A new record joins: same ID, one Assigned event.
        let e = m.update([ids(&["a", "b", "c", "e"]), ids(&["d"])]);
        assert_eq!(
            e,
            [Event::Assigned {
                identity: abc.clone(),
                records: ids(&["e"])
            }]
        );
        // d merges in: the larger identity's ID survives.
        let e = m.update([ids(&["a", "b", "c", "d", "e"])]);
        assert_eq!(
            e,
            [Event::Merged {
                from: vec![d.clone()],
                into: abc.clone()
            }]
        );
        assert_eq!(id_of(&m, "d"), abc);
        // A split: the part with most former records keeps the ID; the
        // other gets a new one, never a retired ID.
        let e = m.update([ids(&["a", "b", "c"]), ids(&["d", "e"])]);
        let de = id_of(&m, "d");
        assert_eq!(id_of(&m, "a"), abc);
        assert_ne!(de, abc);
        assert_ne!(de, d, "a retired ID is never reissued");
        let mut into = vec![abc.clone(), de.clone()];
        into.sort();
        assert_eq!(
            e,
            [Event::Split {
                from: abc.clone(),
                into
            }]
        );
        // Erasure of all of d and e's records.
        let e = m.update([ids(&["a", "b", "c"])]);
        assert_eq!(
            e,
            [Event::Removed {
                identity: de,
                records: ids(&["d", "e"])
            }]
        );
        assert_eq!(m.len(), 3);
        let e = m.update([ids(&["a", "b"])]);
        assert_eq!(
            e,
            [Event::Unassigned {
                identity: abc,
                records: ids(&["c"])
            }]
        );
    }

    #[test]
    fn events_serialise_with_a_tag_and_ids_validate() {
        let e = Event::Merged {
            from: vec![IdentityId::parse("id-0000000000000001").unwrap()],
            into: IdentityId::parse("id-0000000000000002").unwrap(),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"event":"merged","from":["id-0000000000000001"],"into":"id-0000000000000002"}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
        assert!(serde_json::from_str::<IdentityId>(r#""id-XYZ""#).is_err());
    }
}
