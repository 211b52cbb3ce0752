//! Term frequencies frozen with a model, so a record's arrival never
//! re-weighs the evidence for everyone else.

use std::collections::HashMap;

use super::{Model, tf_role};
use crate::compare::Field;
use crate::record::{Dataset, NameRole};

/// One field's key frequencies, as counted on the dataset they were frozen
/// from: records per key text, and their total and `Σ tf²` (derived from
/// the counts once, here, for the scorer's hot path).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldFrequencies {
    pub(crate) field: Field,
    pub(crate) total: f64,
    pub(crate) agree: f64,
    pub(crate) counts: HashMap<Box<str>, u32>,
}

impl FieldFrequencies {
    fn new(field: Field, counts: HashMap<Box<str>, u32>) -> FieldFrequencies {
        let (total, agree) = totals(counts.values().copied());
        FieldFrequencies {
            field,
            total,
            agree,
            counts,
        }
    }
}

/// Records per key ID of `role` (a name part) or per city (`None`).
pub(crate) fn key_counts(ds: &Dataset, role: Option<NameRole>) -> &[u32] {
    match role {
        Some(r) => &ds.key_freq[r as usize],
        None => &ds.city_freq,
    }
}

/// The text of key `id` of `role`: a name key, or a city.
pub(crate) fn key_text(ds: &Dataset, role: Option<NameRole>, id: u32) -> Option<&str> {
    match role {
        Some(_) => ds.name_keys.value(id).map(|v| &**v),
        None => ds.cities.value(id).map(|v| &**v),
    }
}

/// `(total, Σ tf²)` of a frequency list. The sums run over the counts in
/// ascending order, so they depend on the multiset of counts alone: a
/// distributed engine that counts the same keys gets the same bits.
pub(crate) fn totals(freq: impl Iterator<Item = u32>) -> (f64, f64) {
    let mut counts: Vec<u32> = freq.filter(|&c| c > 0).collect();
    counts.sort_unstable();
    let total: f64 = counts.iter().map(|&c| f64::from(c)).sum::<f64>().max(1.0);
    let agree: f64 = counts.iter().map(|&c| (f64::from(c) / total).powi(2)).sum();
    (total, agree)
}

impl Model {
    /// The model with the term frequencies of `ds` frozen into it: scoring
    /// any later dataset with it weighs a name or city by how common it was
    /// in `ds` (a value `ds` never held counts as held once), not by how
    /// common it is in the dataset scored. That makes every pair's score a
    /// fact of the two records alone, which incremental resolution
    /// ([`IdentityStore`](crate::IdentityStore)) needs. Scoring `ds` itself
    /// gives the same scores as before freezing. The frequencies are saved
    /// with the model: its JSON then holds name and city keys with their
    /// counts.
    ///
    /// # Example
    /// ```
    /// use idstitch::{Dataset, Model, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "crm").first_name("Анна").last_name("Иванова"),
    ///     Record::new("2", "web").first_name("Анна").last_name("Петрова"),
    /// ])?;
    /// let model = Model::default().with_frequencies_of(&ds);
    /// assert!(model.has_frozen_frequencies());
    /// assert_eq!(Model::from_json(&model.to_json())?, model);
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    #[must_use]
    pub fn with_frequencies_of(mut self, ds: &Dataset) -> Model {
        let mut frozen = Vec::new();
        for &f in &self.tf_fields {
            let Some(role) = tf_role(f) else { continue };
            let counts = key_counts(ds, role)
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c > 0)
                .filter_map(|(k, &c)| Some((key_text(ds, role, k as u32)?.into(), c)))
                .collect();
            frozen.push(FieldFrequencies::new(f, counts));
        }
        self.frequencies = Some(frozen);
        self
    }

    /// Whether term frequencies are frozen in the model
    /// ([`Model::with_frequencies_of`]).
    pub fn has_frozen_frequencies(&self) -> bool {
        self.frequencies.is_some()
    }

    /// The model with one field's term frequencies frozen from counts
    /// made elsewhere: `(key, records)` pairs, each key once — what a
    /// distributed engine aggregates over all records
    /// ([`Resolver::frequency_keys`](crate::Resolver::frequency_keys) gives
    /// each record's keys). The same counts give the same model as
    /// [`Model::with_frequencies_of`] on a dataset of all the records.
    ///
    /// # Errors
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a field without
    /// term frequencies in this model, or a key listed twice.
    ///
    /// # Example
    /// ```
    /// use idstitch::{Dataset, Field, Model, Record};
    ///
    /// let ds = Dataset::build(vec![
    ///     Record::new("1", "crm").first_name("Анна").city("Казань"),
    ///     Record::new("2", "web").first_name("Анна").city("Казань"),
    /// ])?;
    /// let counted = Model::default()
    ///     .with_frequencies(Field::FirstName, [("ana".to_string(), 2)])?
    ///     .with_frequencies(Field::Surname, [])?
    ///     .with_frequencies(Field::City, [("kazan".to_string(), 2)])?;
    /// assert_eq!(counted, Model::default().with_frequencies_of(&ds));
    /// # Ok::<(), idstitch::Error>(())
    /// ```
    pub fn with_frequencies(
        mut self,
        field: Field,
        counts: impl IntoIterator<Item = (String, u32)>,
    ) -> crate::Result<Model> {
        if tf_role(field).is_none() || !self.tf_fields.contains(&field) {
            return Err(crate::Error::config(
                "frequencies",
                "the field has no term frequencies in this model",
            ));
        }
        let mut map: HashMap<Box<str>, u32> = HashMap::new();
        for (k, c) in counts {
            if c > 0 && map.insert(k.into_boxed_str(), c).is_some() {
                return Err(crate::Error::config("frequencies", "a key is listed twice"));
            }
        }
        let frozen = self.frequencies.get_or_insert_with(Vec::new);
        frozen.retain(|f| f.field != field);
        frozen.push(FieldFrequencies::new(field, map));
        // In `tf_fields` order, as `with_frequencies_of` leaves them.
        let order = self.tf_fields.clone();
        frozen.sort_by_key(|f| order.iter().position(|&x| x == f.field));
        Ok(self)
    }

    /// The model without frozen frequencies: scoring counts them on each
    /// dataset again.
    #[must_use]
    pub fn without_frozen_frequencies(mut self) -> Model {
        self.frequencies = None;
        self
    }
}
