//! Accuracy of a clustering against known truth: pairwise and B-cubed
//! precision, recall and F1, from contingency counts (no pair is ever
//! enumerated, so 10M records take a sort).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Precision, recall and their harmonic mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

impl Prf {
    fn new(precision: f64, recall: f64) -> Prf {
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// How a predicted partition compares with the truth.
///
/// # Example
/// ```
/// use idstitch::evaluate;
///
/// // Records 0,1,2 are one person, 3 another; we split 2 off and joined it with 3.
/// let e = evaluate(&[7, 7, 9, 9], &[1, 1, 1, 2])?;
/// assert_eq!(e.true_pairs, 3);
/// assert_eq!(e.predicted_pairs, 2);
/// assert_eq!(e.correct_pairs, 1);
/// assert!((e.pairwise.precision - 0.5).abs() < 1e-12);
/// assert!((e.pairwise.recall - 1.0 / 3.0).abs() < 1e-12);
/// assert_eq!(e.mixed_identities, 1);
/// # Ok::<(), idstitch::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Records compared.
    pub records: u64,
    /// Predicted identities.
    pub identities: u64,
    /// True persons.
    pub persons: u64,
    /// Record pairs in the same predicted identity.
    pub predicted_pairs: u64,
    /// Record pairs of the same true person.
    pub true_pairs: u64,
    /// Pairs both.
    pub correct_pairs: u64,
    /// Pairwise precision, recall, F1 (1 when there is nothing to find or claim).
    pub pairwise: Prf,
    /// B-cubed precision, recall, F1 (per-record averages).
    pub bcubed: Prf,
    /// Predicted identities holding records of two or more true persons.
    pub mixed_identities: u64,
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// Compares predicted identity labels with true person labels, record by
/// record (labels are arbitrary integers; only equality matters).
///
/// # Errors
/// [`ErrorKind::Config`](crate::ErrorKind::Config) when the two slices differ in length.
pub fn evaluate(predicted: &[u32], truth: &[u32]) -> Result<Evaluation> {
    if predicted.len() != truth.len() {
        return Err(Error::config(
            "truth",
            "needs one label per predicted record",
        ));
    }
    let n = predicted.len() as u64;
    let mut cells: Vec<u64> = predicted
        .iter()
        .zip(truth)
        .map(|(&p, &t)| (u64::from(p) << 32) | u64::from(t))
        .collect();
    cells.sort_unstable();
    let mut truth_sorted = truth.to_vec();
    truth_sorted.sort_unstable();
    let person_size: rustc_hash::FxHashMap<u32, u64> = truth_sorted
        .chunk_by(|a, b| a == b)
        .map(|c| (c[0], c.len() as u64))
        .collect();
    let (mut predicted_pairs, mut correct_pairs, mut identities, mut mixed) =
        (0u64, 0u64, 0u64, 0u64);
    let (mut bp, mut br) = (0.0f64, 0.0f64);
    for identity in cells.chunk_by(|a, b| a >> 32 == b >> 32) {
        identities += 1;
        let size = identity.len() as u64;
        predicted_pairs += pairs(size);
        let mut persons = 0;
        for cell in identity.chunk_by(|a, b| a == b) {
            persons += 1;
            let k = cell.len() as u64;
            correct_pairs += pairs(k);
            // The low 32 bits are the true label.
            let person = (cell[0] & 0xFFFF_FFFF) as u32;
            let total = person_size.get(&person).copied().unwrap_or(k);
            bp += (k * k) as f64 / size as f64;
            br += (k * k) as f64 / total as f64;
        }
        if persons > 1 {
            mixed += 1;
        }
    }
    let true_pairs: u64 = person_size.values().map(|&s| pairs(s)).sum();
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let per_record = |x: f64| if n == 0 { 1.0 } else { x / n as f64 };
    Ok(Evaluation {
        records: n,
        identities,
        persons: person_size.len() as u64,
        predicted_pairs,
        true_pairs,
        correct_pairs,
        pairwise: Prf::new(
            ratio(correct_pairs, predicted_pairs),
            ratio(correct_pairs, true_pairs),
        ),
        bcubed: Prf::new(per_record(bp), per_record(br)),
        mixed_identities: mixed,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Pair enumeration: the reference.
    fn brute(predicted: &[u32], truth: &[u32]) -> (u64, u64, u64, f64, f64) {
        let n = predicted.len();
        let (mut pp, mut tp, mut cp) = (0, 0, 0);
        for i in 0..n {
            for j in i + 1..n {
                let (p, t) = (predicted[i] == predicted[j], truth[i] == truth[j]);
                pp += u64::from(p);
                tp += u64::from(t);
                cp += u64::from(p && t);
            }
        }
        let (mut bp, mut br) = (0.0, 0.0);
        for i in 0..n {
            let same_p = (0..n).filter(|&j| predicted[j] == predicted[i]).count() as f64;
            let same_t = (0..n).filter(|&j| truth[j] == truth[i]).count() as f64;
            let both = (0..n)
                .filter(|&j| predicted[j] == predicted[i] && truth[j] == truth[i])
                .count() as f64;
            bp += both / same_p;
            br += both / same_t;
        }
        (pp, tp, cp, bp / n.max(1) as f64, br / n.max(1) as f64)
    }

    proptest! {
        #[test]
        fn contingency_counts_equal_pair_enumeration(labels in proptest::collection::vec((0u32..6, 0u32..6), 0..40)) {
            let (p, t): (Vec<u32>, Vec<u32>) = labels.into_iter().unzip();
            let e = evaluate(&p, &t).unwrap();
            let (pp, tp, cp, bp, br) = brute(&p, &t);
            prop_assert_eq!((e.predicted_pairs, e.true_pairs, e.correct_pairs), (pp, tp, cp));
            if !p.is_empty() {
                prop_assert!((e.bcubed.precision - bp).abs() < 1e-9);
                prop_assert!((e.bcubed.recall - br).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn perfect_and_degenerate_partitions() {
        let e = evaluate(&[3, 3, 5], &[0, 0, 1]).unwrap();
        assert_eq!(
            (e.pairwise.f1, e.bcubed.f1, e.mixed_identities),
            (1.0, 1.0, 0)
        );
        let all_one = evaluate(&[0, 0, 0, 0], &[0, 1, 2, 3]).unwrap();
        assert_eq!(all_one.pairwise.precision, 0.0);
        assert_eq!(all_one.mixed_identities, 1);
        assert!(evaluate(&[0], &[]).is_err());
        let empty = evaluate(&[], &[]).unwrap();
        assert_eq!(empty.pairwise.f1, 1.0);
    }
}
