//! A cache hint for loops that read records in random order.
//!
//! At millions of records the comparison loop waits on memory: each pair
//! reads two rows, their identifier IDs and name entries from a dataset far
//! larger than the caches. Asking for the next pairs' lines early overlaps
//! those misses (10M records: compare 6.8 → 3.7 s). This is the crate's
//! only `unsafe`: the intrinsic is `unsafe` to call, not to use.

#![allow(unsafe_code)]

/// How many steps ahead the random-order loops ask for a record's row;
/// what they read through the row (identifier IDs, name entries) is asked
/// for half as far ahead, once the row has arrived.
pub(crate) const AHEAD: usize = 16;

/// Records from which the comparison loop asks for everything a pair reads,
/// in stages. Below, all but the rows sits in the caches and the hints only
/// cost instructions: measured on 2 cores, the loop was faster without them
/// at 99k records (u sample 0.055 against 0.063 s), even at 178k, and
/// faster with them at 294k (0.073 against 0.085 s) and 1M (0.125 against
/// 0.20 s); against the rows alone ([`PREFETCH_ROWS_FROM_RECORDS`]) they
/// lost at 178k (u sample 0.068-0.073 against 0.057-0.065 s) and 294k
/// (compare 0.025-0.039 against 0.020-0.024 s) and won at 1M (compare
/// 0.14 against 0.15-0.17 s, u sample 0.13 against 0.15-0.19 s).
pub(crate) const PREFETCH_FROM_RECORDS: usize = 1 << 19;

/// Records from which the comparison loop asks for the rows of the pairs
/// ahead, and their identifier IDs (nothing else under
/// [`PREFETCH_FROM_RECORDS`]): over 16,384 rows of 36 bytes overflow a
/// 1 MiB L2, and at 99k records the random pairs of the u sample spent over
/// half of `compare`'s own time waiting for their two rows (u sample
/// 0.058-0.061 -> 0.052-0.054 s with the rows asked for; at 436 records the
/// hint only cost time). The identifier IDs were asked for too once the
/// rows' second cache lines were ([`prefetch_whole`]): 99k train 0.047 ->
/// 0.045 s, 294k compare 0.022 -> 0.017 s (before that, reading a row's
/// start of IDs from a line not yet in stalled the hint, and it lost).
pub(crate) const PREFETCH_ROWS_FROM_RECORDS: usize = 1 << 14;

/// Asks the CPU to start loading the cache line holding `value`, so that a
/// read of it some hundred cycles later hits the cache. A hint only: it
/// reads nothing into the program and never changes a result.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    prefetch_line(std::ptr::from_ref(value).cast());
}

/// [`prefetch`] for a value that may straddle two cache lines (a 36-byte
/// row does more often than not): asks for the lines of its first and its
/// last byte.
#[inline(always)]
pub(crate) fn prefetch_whole<T>(value: &T) {
    let first = std::ptr::from_ref(value).cast::<u8>();
    prefetch_line(first);
    prefetch_line(first.wrapping_add(size_of::<T>().saturating_sub(1)));
}

/// The hint itself, for the line holding `address`.
#[inline(always)]
fn prefetch_line(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, part of every x86-64 CPU; a
    // prefetch of any address cannot fault or write (callers pass bytes of
    // live references).
    unsafe {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
