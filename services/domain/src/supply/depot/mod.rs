//! Depots (储备库) and their stock. Stock is held in lots (批次) with expiry dates;
//! every way out of a depot picks lots first-expiry-first-out (轮换) and never
//! touches an expired lot.
//!
//! ## Transfers: the rule the transfer process must keep
//!
//! A transfer spans two aggregates: the source records `TransferDispatched` with the
//! lots it picked (the stock is then in flight, held by neither depot), and the
//! transfer is settled by **exactly one** of
//!
//! - `ReceiveTransfer` at the destination → `TransferReceived`, or
//! - `ReturnTransfer` at the source (compensation) → `TransferReturned`.
//!
//! The source refuses to return a transfer it no longer has open, but neither depot
//! can see the other's stream, and a depot keeps no record of the transfers it
//! settled or received (its state holds what is open, not its history; that would
//! grow with every transfer). So the domain cannot stop one transfer from being
//! both received and returned — which would duplicate its stock — nor received
//! twice, nor a `ReceiveTransfer` that no dispatch backs. The cross-aggregate
//! process in the server keeps that rule: it starts only from a `TransferDispatched`
//! event, builds `ReceiveTransfer` from that event's content (same transfer id,
//! source, item, lots with their expiry, reason), and appends the receipt or the
//! return under one idempotency key per transfer, so the log takes exactly one
//! settlement, once. Appends use deterministic event ids so a retry after a crash
//! appends nothing twice. `tests/invariants.rs` models this process (its key
//! included), checks that the source refuses a return after any settlement, and
//! checks the network total; the server's tests race the real process
//! (`exactly_once.rs`, `movements.rs`).
//!
//! A receipt is followed by `CompleteTransfer` at the source → `TransferCompleted`,
//! which closes the source's record; a return closes it by itself. A depot's
//! `outbound` holds only open transfers: a transfer id open at the depot is refused
//! for a new dispatch here, and one settled before is refused at the edge by its
//! settlement's key in the log.

mod command;
mod decide;
mod event;
mod picking;
mod state;
#[cfg(test)]
mod tests;

pub use command::{DepotCommand, EXPIRY_MARGIN_DAYS, ReserveTier, WriteOffCause};
pub use event::*;
pub use state::{Depot, DepotState, Lot, Outbound, Shipment, ShipmentState, Shortfall};
