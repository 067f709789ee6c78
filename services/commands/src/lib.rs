//! Running domain commands against the event log.
//!
//! [`Aggregates::execute`] loads an aggregate from its stream, asks its pure decider,
//! and appends the events at exactly the revision it decided on, so a concurrent
//! write can never be overwritten. Every event carries standard [`Metadata`].
//!
//! Retries are safe. With an expected revision, the state is rebuilt *as of* that
//! revision. `decide` is pure and the event ids derive from the stream, the
//! idempotency key and the revision, so a retried step produces the very same
//! events, and the log recognises them and appends nothing new. That is how a
//! process spanning several aggregates (a transfer, a plan's approval) can always
//! be finished after a crash.
//!
//! ## Modules
//!
//! - `aggregates`: [`Aggregates`]: load, decide, append at the decided revision.
//! - `codec`: domain events to and from the log's JSON. [`encode`] stamps the
//!   metadata and the deterministic event id; [`decode`] reads the schema version
//!   from the metadata (1 if none) and lets the domain upcast. Projections read
//!   the log with the same [`decode`].
//! - `metadata`: the [`Metadata`] every event carries.

mod aggregates;
mod codec;
mod metadata;

pub use aggregates::{Aggregates, CommandError, Executed, Expect, Loaded};
pub use codec::{decode, encode};
pub use metadata::Metadata;
