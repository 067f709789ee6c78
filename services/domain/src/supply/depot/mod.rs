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
//! Each depot refuses its own half twice (a transfer is received once, returned
//! once), but neither can see the other's stream, so the domain cannot stop one
//! transfer from being both received and returned — which would duplicate its stock
//! — nor a `ReceiveTransfer` that no dispatch backs. The cross-aggregate process in
//! the server keeps that rule: it starts only from a `TransferDispatched` event,
//! builds `ReceiveTransfer` from that event's content (same transfer id, source,
//! item, lots with their expiry, reason), records which way it settled before
//! appending, and never issues the other half afterwards. Appends use deterministic
//! event ids so a retry after a crash appends nothing twice. `tests/invariants.rs`
//! models this process, attempts double settlements, and checks the network total.
//!
//! A receipt is followed by `CompleteTransfer` at the source → `TransferCompleted`,
//! which closes the source's record; a return closes it by itself. A depot's
//! `outbound` holds only open transfers, and `settled_transfers` only the ids of
//! settled ones (so a reused id is refused), so the state holds what is open, not
//! the depot's history of transfers.

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
