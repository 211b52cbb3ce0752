//! Resolution: what an identity looks like to the services that use it.
//!
//! [`Resolver`] runs the whole pipeline in one call and keeps every stage's
//! result in a [`Resolution`] (labels in input order, explanations,
//! profiles): the entry point for services and the Python bindings.
//!
//! [`GoldenProfile`]: per identity, every field's values ranked by
//! survivorship rules ([`ProfileConfig`]: source priority, most recent, most
//! frequent, in a configurable order), each with its sources and first/last
//! seen, and per-channel consent where the most restrictive answer wins.

mod distributed;
mod identity;
mod live;
mod pipeline;
mod profile;
mod store;

pub use distributed::RecordKey;
pub use identity::{Event, IdentityId, IdentityMap};
pub use pipeline::{Resolution, Resolver};
pub use profile::{ConsentState, GoldenProfile, ProfileConfig, ProfileValue, Survivorship};
pub use store::{IdentityStore, SNAPSHOT_VERSION, Update};
