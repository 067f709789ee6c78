//! # ERCS domain
//!
//! Everything a resource in the health-emergency "one network" (卫生应急资源“一张网”)
//! can be and do, as pure deciders. No I/O, no clock, no randomness, no async: the
//! actor and the time arrive on every command ([`Stamped`]), so replaying a stream
//! rebuilds exactly the state the live service had.
//!
//! ## Modules
//!
//! - [`decider`]: the [`Decider`] trait (`decide(&State, Command) -> Result<Vec<Event>>`,
//!   `evolve(State, &Event) -> State`), [`CommandContext`] and stream names.
//! - [`area`], [`hierarchy`], [`geo`]: tiers (市级 → 区域 → 区县 → 乡镇 → 机构), GB/T 2260
//!   division codes, the area tree loaded from data, WGS-84 points.
//! - [`values`], [`ids`]: newtypes that cannot hold a malformed value (parse, don't
//!   validate; serde goes through the parse).
//! - [`team`]: 卫生应急队伍 — response teams and their lifecycle.
//! - [`supply`]: 应急医疗物资 — the item catalogue and depots with lots, FEFO picking,
//!   reservations, transfers, write-offs, counts and reserve norms.
//! - [`beds`]: bed pools by EDXL-HAVE type and ladder class, and the facility aggregate.
//! - [`convertible`]: 平急两用 facilities, converting to emergency use and back; in
//!   emergency use they hold the same [`beds::BedPools`] as any facility.
//! - [`incident`]: incidents, their response level (Ⅰ–Ⅳ) and demand.
//! - [`event`], [`schema`]: what the event log needs from events (stable names, schema
//!   versions, JSON payloads, decoding with upcasting) and the declared protobuf schema.
//! - [`error`]: [`DomainError`], with stable codes and the field at fault.
//! - `openapi` (feature `openapi`): OpenAPI schemas of the commands and states the REST
//!   API reads and returns, `openapi::openapi_components()`.
//!
//! ## Invariants the types and deciders keep
//!
//! - Stock never goes negative; picking is first-expiry-first-out; an expired lot is
//!   never issued or reserved; an item's stock at one depot fits a `Quantity`, so
//!   totals are exact and overflow is a refusal.
//! - A transfer conserves the total across both depots **provided** the transfer
//!   process in the server settles each `TransferDispatched` by exactly one of
//!   `ReceiveTransfer` (destination) or `ReturnTransfer` (source), built from the
//!   dispatch event (a receipt then completed at the source by
//!   `CompleteTransfer`). The depots are separate aggregates and cannot enforce
//!   this themselves; see [`supply::depot`].
//! - Beds: occupied ≤ staffed ≤ total; available = staffed − occupied − reserved, never
//!   below zero; a bed is usable only once staffed and (for the ladder) ready. A count
//!   report is a fact and never refused; when it leaves plans holding more beds than
//!   are free, the pool is over-committed by reserved − free, the decision says so
//!   with `ReservationsOverCommitted`, and admissions still never exceed the free beds.
//! - Lifecycles move only along their transition tables; an illegal step is refused,
//!   naming the current state and the allowed actions.
//! - A refused command yields no events. The deciders check every rule, so `evolve`
//!   applies each event exactly, never clamping. A stream that breaks the rules can
//!   only be corrupt: debug builds panic on it (so tests catch a decider that let a
//!   bad event through); release builds never panic and keep the nearest valid value.
//! - Every event type has a stable name, a version, and a protobuf message in
//!   `proto/ercs/v1` that a test keeps in step with the Rust types.

#[macro_use]
mod macros;

pub mod area;
pub mod beds;
pub mod convertible;
pub mod decider;
pub mod error;
pub mod event;
pub mod geo;
pub mod hierarchy;
pub mod ids;
pub mod incident;
pub mod lifecycle;
mod map_as_pairs;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod references;
pub mod schema;
pub mod supply;
pub mod team;
#[cfg(test)]
mod test_support;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod values;

pub use decider::{CommandContext, Decider, Stamped};
pub use error::DomainError;
pub use event::{DecodeError, DomainEvent};
