//! Resolution: what an identity looks like to the services that use it.
//!
//! [`GoldenProfile`]: per identity, every field's values ranked by
//! survivorship rules ([`ProfileConfig`]: source priority, most recent, most
//! frequent, in a configurable order), each with its sources and first/last
//! seen, and per-channel consent where the most restrictive answer wins.

mod profile;

pub use profile::{ConsentState, GoldenProfile, ProfileConfig, ProfileValue, Survivorship};
