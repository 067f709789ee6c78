//! Running domain commands against the event log.
//!
//! [`Aggregates::execute`] loads an aggregate from its stream, asks its pure decider,
//! and appends the events at exactly the revision it decided on, so a concurrent
//! write can never be overwritten. Every event carries standard [`Metadata`].
//!
//! A command takes effect at most once. Its idempotency key (an HTTP
//! `Idempotency-Key` in its scope, or a process step's own key) names the command,
//! not the state it meets: the log keeps the key in the same transaction as the
//! events ([`EventLog::append_once`](ercs_eventlog::EventLog::append_once)), so a
//! retry after a crash, or a twin racing it, is answered with the first
//! application's events and appends nothing, even when it is decided on a newer
//! revision. Event ids derive from the stream, the key and the event's place in the
//! command, so every attempt of one command carries the same ids. That is how a
//! process spanning several aggregates (a transfer, a plan's approval) can always
//! be finished after a crash.
//!
//! Commands on one stream take [`Turns`] within the process, so a command on the
//! latest state is never decided on a state a neighbour is about to change.
//!
//! Decided states are kept in memory, bounded and least recently used out first,
//! so a command reads only the events its stream gained since the last one: its
//! cost does not grow with the stream. A kept state is never decided on before
//! the log's newer events are folded onto it. The kept states can be saved to a
//! file and restored in the next run, so a restart does not fold every stream
//! from its start either; a restored state is checked against the log the same
//! way.
//!
//! ## Modules
//!
//! - `aggregates`: [`Aggregates`]: load, decide, append at the decided revision.
//! - `cache`: the decided states kept in memory, with the revision and event
//!   each reflects ([`DEFAULT_CACHED_AGGREGATES`]), and their saved file
//!   ([`RestoreError`]).
//! - `codec`: domain events to and from the log's JSON. [`encode`] stamps the
//!   metadata and the deterministic event id; [`decode`] reads the schema version
//!   from the metadata (1 if none) and lets the domain upcast. Projections read
//!   the log with the same [`decode`].
//! - `metadata`: the [`Metadata`] every event carries.
//! - `turns`: one at a time per key ([`Turns`]), for streams and processes.

mod aggregates;
mod cache;
mod codec;
mod metadata;
mod turns;

pub use aggregates::{Aggregates, CommandError, Executed, Expect, Loaded};
pub use cache::{DEFAULT_CACHED_AGGREGATES, RestoreError};
pub use codec::{decode, encode};
pub use metadata::{AuthenticatedActor, Metadata};
pub use turns::{Turn, Turns};
