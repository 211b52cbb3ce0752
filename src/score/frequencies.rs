//! Term frequencies frozen with a model, so a record's arrival never
//! re-weighs the evidence for everyone else.

use std::collections::HashMap;

use super::{Model, tf_role};
use crate::compare::Field;
use crate::record::{Dataset, NameRole};

/// One field's key frequencies, as counted on the dataset they were frozen
/// from: records per key text, their total and `Σ tf²`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldFrequencies {
    pub(crate) field: Field,
    pub(crate) total: f64,
    pub(crate) agree: f64,
    pub(crate) counts: HashMap<Box<str>, u32>,
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

/// `(total, Σ tf²)` of a frequency list, summed in key order.
pub(crate) fn totals(freq: impl Iterator<Item = u32> + Clone) -> (f64, f64) {
    let total: f64 = freq.clone().map(f64::from).sum::<f64>().max(1.0);
    let agree: f64 = freq.map(|c| (f64::from(c) / total).powi(2)).sum();
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
    ///     Record::new("1", "crm").first_name("Анна").surname("Иванова"),
    ///     Record::new("2", "web").first_name("Анна").surname("Петрова"),
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
            let freq = key_counts(ds, role);
            let (total, agree) = totals(freq.iter().copied());
            let counts = freq
                .iter()
                .enumerate()
                .filter(|&(_, &c)| c > 0)
                .filter_map(|(k, &c)| Some((key_text(ds, role, k as u32)?.into(), c)))
                .collect();
            frozen.push(FieldFrequencies {
                field: f,
                total,
                agree,
                counts,
            });
        }
        self.frequencies = Some(frozen);
        self
    }

    /// Whether term frequencies are frozen in the model
    /// ([`Model::with_frequencies_of`]).
    pub fn has_frozen_frequencies(&self) -> bool {
        self.frequencies.is_some()
    }

    /// The model without frozen frequencies: scoring counts them on each
    /// dataset again.
    #[must_use]
    pub fn without_frozen_frequencies(mut self) -> Model {
        self.frequencies = None;
        self
    }
}
