//! Jaro–Winkler similarity without allocation for short strings.
//!
//! The same arithmetic as `strsim::jaro_winkler` (a property test holds them
//! equal), but strings of up to 64 characters are held in stack arrays with
//! bitmask flags instead of heap vectors: names and address words are short,
//! and this runs once per compared name pair.

/// Characters held on the stack; longer strings fall back to `strsim`.
const MAX: usize = 64;

/// Jaro–Winkler similarity of two strings, by Unicode scalar values.
#[cfg(test)]
pub(crate) fn jaro_winkler(a: &str, b: &str) -> f64 {
    jaro_winkler_from(a, b, 0.0)
}

/// [`jaro_winkler`] where it reaches `floor`; below it, some value below
/// `floor` (not always the similarity).
///
/// Most compared names are far apart, and a bound that costs one pass over
/// each string settles them: a character matches only a character equal to
/// it, so the matches are at most the characters of either string that
/// occur in the other, and the similarity is at most what that many
/// matches without transpositions would give. Callers only ask whether the
/// similarity reaches a threshold, so their answers are exact.
pub(crate) fn jaro_winkler_from(a: &str, b: &str, floor: f64) -> f64 {
    if floor > 0.0 {
        let bound = if a.is_ascii() && b.is_ascii() {
            upper_bound(a.bytes().map(u32::from), b.bytes().map(u32::from))
        } else {
            upper_bound(a.chars().map(u32::from), b.chars().map(u32::from))
        };
        if settles_below(bound, floor) {
            return bound;
        }
    }
    let (mut ab, mut bb) = (['\0'; MAX], ['\0'; MAX]);
    let (Some(na), Some(nb)) = (fill(a, &mut ab), fill(b, &mut bb)) else {
        return strsim::jaro_winkler(a, b);
    };
    let (a, b) = (&ab[..na], &bb[..nb]);
    winkler(jaro(a, b), a.iter().zip(b))
}

/// Whether the Jaro–Winkler similarity of two strings reaches `threshold`.
pub(crate) fn jaro_winkler_reaches(a: &str, b: &str, threshold: f64) -> bool {
    jaro_winkler_from(a, b, threshold) >= threshold
}

/// Whether an upper bound on a similarity shows it below `floor`, with a
/// margin for rounding: a bound never decides a near tie.
pub(super) fn settles_below(bound: f64, floor: f64) -> bool {
    bound < floor - 1e-9
}

/// The Winkler boost of a Jaro similarity, by the common prefix (up to
/// four characters) of the two strings' characters, paired.
fn winkler<T: PartialEq>(sim: f64, pairs: impl Iterator<Item = (T, T)>) -> f64 {
    boost(sim, pairs.take(4).take_while(|(x, y)| x == y).count())
}

/// A Jaro similarity with the Winkler boost of a `prefix`-character
/// common prefix (at most four).
fn boost(sim: f64, prefix: usize) -> f64 {
    if sim > 0.7 {
        sim + 0.1 * prefix as f64 * (1.0 - sim)
    } else {
        sim
    }
}

/// The Jaro similarity of `m` matches without transpositions between
/// strings of `na` and `nb` characters (both above zero): what bounds the
/// similarity of `m` possible matches.
fn jaro_of_matches(m: f64, na: f64, nb: f64) -> f64 {
    (m / na + m / nb + 1.0) / 3.0
}

/// A character's bit in a folded 64-bit character set (a collision only
/// loosens the bounds that use the set).
fn bit(c: u32) -> u64 {
    1u64 << (c % 64)
}

/// At least the Jaro–Winkler similarity of two strings given by their
/// characters: as if every character of either string that occurs in the
/// other matched, without transpositions. The boost grows with the Jaro
/// similarity, so a bound on one bounds the other.
fn upper_bound<I>(a: I, b: I) -> f64
where
    I: Iterator<Item = u32> + Clone,
{
    let set = |s: I| s.fold(0u64, |m, c| m | bit(c));
    let (sa, sb) = (set(a.clone()), set(b.clone()));
    let (mut na, mut ma, mut nb, mut mb) = (0usize, 0usize, 0usize, 0usize);
    for c in a.clone() {
        na += 1;
        ma += usize::from(sb & bit(c) != 0);
    }
    for c in b.clone() {
        nb += 1;
        mb += usize::from(sa & bit(c) != 0);
    }
    let m = ma.min(mb) as f64;
    if na == 0 && nb == 0 {
        return 1.0;
    } else if m == 0.0 {
        return 0.0;
    }
    winkler(jaro_of_matches(m, na as f64, nb as f64), a.zip(b))
}

/// What a bound on the similarity needs of a string, kept beside it so a
/// comparison can settle far-apart strings without reading them: its
/// characters as a folded 64-bit set, and its length in characters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    set: u64,
    len: u32,
}

impl Shape {
    pub(crate) fn of(s: &str) -> Shape {
        s.chars().fold(Shape::default(), |sh, c| Shape {
            set: sh.set | bit(u32::from(c)),
            len: sh.len.saturating_add(1),
        })
    }

    /// At least the Jaro–Winkler similarity of any two strings of these
    /// shapes: each distinct character of one that the other lacks leaves
    /// a position of it unmatched, and the boost is taken at its largest
    /// (a four-character common prefix).
    pub(crate) fn bound(self, other: Shape) -> f64 {
        if self.len == 0 && other.len == 0 {
            return 1.0;
        }
        let ma = self
            .len
            .saturating_sub((self.set & !other.set).count_ones());
        let mb = other
            .len
            .saturating_sub((other.set & !self.set).count_ones());
        let m = f64::from(ma.min(mb));
        if m == 0.0 {
            return 0.0;
        }
        boost(
            jaro_of_matches(m, f64::from(self.len), f64::from(other.len)),
            4,
        )
    }
}

fn fill(s: &str, out: &mut [char; MAX]) -> Option<usize> {
    let mut n = 0;
    for c in s.chars() {
        *out.get_mut(n)? = c;
        n += 1;
    }
    Some(n)
}

fn jaro(a: &[char], b: &[char]) -> f64 {
    let (na, nb) = (a.len(), b.len());
    if na == 0 && nb == 0 {
        return 1.0;
    } else if na == 0 || nb == 0 {
        return 0.0;
    }
    let range = (na.max(nb) / 2).saturating_sub(1);
    let (mut fa, mut fb) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, &c) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = nb.min(i + range + 1);
        for (j, &d) in b.iter().enumerate().take(hi).skip(lo) {
            if fb & (1 << j) == 0 && d == c {
                fa |= 1 << i;
                fb |= 1 << j;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut j = 0;
    for (i, &c) in a.iter().enumerate() {
        if fa & (1 << i) == 0 {
            continue;
        }
        // Every flagged character of `a` has a flagged partner in `b`.
        while fb & (1 << j) == 0 {
            j += 1;
        }
        if b[j] != c {
            transpositions += 1;
        }
        j += 1;
    }
    transpositions /= 2;
    ((matches as f64 / na as f64)
        + (matches as f64 / nb as f64)
        + ((matches - transpositions) as f64 / matches as f64))
        / 3.0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::jaro_winkler;

    #[test]
    fn known_values() {
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("abc", ""), 0.0);
        assert!((jaro_winkler("martha", "marhta") - 0.9611).abs() < 1e-4);
        assert!((jaro_winkler("dixon", "dicksonx") - 0.8133).abs() < 1e-4);
        let long = "a".repeat(100);
        assert_eq!(jaro_winkler(&long, &long), 1.0);
    }

    proptest! {
        #[test]
        fn equals_strsim(a in "[a-eа-д ]{0,70}", b in "[a-eа-д ]{0,70}") {
            prop_assert_eq!(jaro_winkler(&a, &b), strsim::jaro_winkler(&a, &b));
        }

        /// At or above the floor the bounded similarity is the exact one,
        /// and below it, it stays below.
        #[test]
        fn bounded_agrees_at_the_floor(a in "[a-eа-д ]{0,12}", b in "[a-eа-д ]{0,12}", floor in 0.0f64..1.0) {
            let exact = strsim::jaro_winkler(&a, &b);
            let bounded = super::jaro_winkler_from(&a, &b, floor);
            if exact >= floor {
                prop_assert_eq!(bounded, exact);
            } else {
                prop_assert!(bounded < floor);
            }
            // A floor at the similarity itself (the nearest tie) keeps it.
            prop_assert_eq!(super::jaro_winkler_from(&a, &b, exact), exact);
        }

        /// The bound from shapes alone is never below the similarity.
        #[test]
        fn shapes_bound_the_similarity(a in "[a-eа-дё ]{0,12}", b in "[a-eа-дё ]{0,12}") {
            let bound = super::Shape::of(&a).bound(super::Shape::of(&b));
            prop_assert!(bound >= strsim::jaro_winkler(&a, &b) - 1e-12);
        }

        #[test]
        fn equals_strsim_on_near_strings(a in "[a-z]{1,20}", i in 0usize..20, c in "[a-z]") {
            let mut b: Vec<char> = a.chars().collect();
            let i = i % b.len();
            b[i] = c.chars().next().unwrap_or('a');
            let b: String = b.into_iter().collect();
            prop_assert_eq!(jaro_winkler(&a, &b), strsim::jaro_winkler(&a, &b));
        }
    }
}
