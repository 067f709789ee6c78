//! The transfer process: a transfer spans two depots, so it is several writes,
//! not one atomic one. The source's `TransferDispatched` is settled by exactly one of
//! `ReceiveTransfer` at the destination or, if the destination refuses it,
//! `ReturnTransfer` at the source — each built from the dispatch event, with the
//! one idempotency key `transfer/<id>/settle`, so the log takes one settlement
//! and refuses any other: a retry, the sweep at start-up after a crash, or a
//! second replica appends nothing twice and never both receives and returns.
//!
//! A transfer dispatched without an expected arrival is settled at once, in the
//! dispatch's own request. One dispatched with `expected_arrival` is **in transit**
//! until the destination signs for it (`sign_transfer`, 签收: settled by receiving)
//! or refuses it (`refuse_transfer`, 拒收: settled by returning); either goes
//! through [`settle`] or [`refuse`] with the same one key, so a signature and a
//! refusal racing each other settle the transfer once.
//!
//! A receipt is followed by `CompleteTransfer` at the source (key
//! `transfer/<id>/complete`), which closes the source's record of the transfer;
//! a return closes it by itself. A settled transfer leaves nothing in either
//! depot's state, so a depot's state holds what is open, not its history: the
//! settlement's key in the log is what answers "was it settled?" — for a repeated
//! signature or refusal, for the sweep at start-up (which completes a receipt
//! whose completion a crash cut off), and for a dispatch that reuses the id of a
//! settled transfer ([`settled_before`], checked at the edge).
//!
//! Clients never send `ReceiveTransfer`, `ReturnTransfer` or `CompleteTransfer`
//! themselves.

use ercs_commands::{CommandError, Executed, Expect, Metadata};
use ercs_domain::DomainError;
use ercs_domain::decider::{CommandContext, Stamped};
use ercs_domain::ids::{DepotId, TransferId};
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::{Depot, DepotCommand, DepotEvent, LotPick, TransferReturned};
use ercs_domain::values::{Actor, Reason};
use ercs_eventlog::{CommandKey, Position, Revision};
use ercs_projections::OneNetwork;

use crate::network::Network;
use crate::problem::Problem;
use http::StatusCode;

/// The actor the process's own events record.
const ACTOR: &str = "transfer-process";

/// One dispatched transfer, as the source recorded it.
#[derive(Debug, Clone)]
pub struct Dispatched {
    pub transfer: TransferId,
    pub from: DepotId,
    pub to: DepotId,
    pub item: ItemCode,
    pub picks: Vec<LotPick>,
    pub reason: Reason,
}

/// The transfers a depot write dispatched to be received at once (no expected
/// arrival): the ones its request settles.
pub fn dispatched(events: &[DepotEvent]) -> Vec<Dispatched> {
    events
        .iter()
        .filter_map(|event| match event {
            DepotEvent::TransferDispatched(e) if e.expected_arrival.is_none() => Some(Dispatched {
                transfer: e.transfer,
                from: e.depot_id,
                to: e.to,
                item: e.item.clone(),
                picks: e.picks.clone(),
                reason: e.reason.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// How a transfer was settled: received at the destination and completed at the
/// source, or returned to the source.
#[derive(Debug, Clone)]
pub struct Settled {
    /// `TransferReceived` (destination) then `TransferCompleted` (source), or
    /// `TransferReturned` (source).
    pub events: Vec<DepotEvent>,
    /// The log position after the last of them.
    pub position: Option<Position>,
    /// The revision the source's stream reached (its `ETag`).
    pub source_revision: Option<Revision>,
    /// The revision the destination's stream reached; none when returned.
    pub destination_revision: Option<Revision>,
    /// Settled before: these are what that settlement appended.
    pub replayed: bool,
}

impl Settled {
    fn returned(executed: Executed<DepotEvent>) -> Self {
        Self {
            events: executed.events,
            position: executed.position,
            source_revision: executed.revision,
            destination_revision: None,
            replayed: executed.replayed,
        }
    }

    fn received(received: Executed<DepotEvent>, completed: Executed<DepotEvent>) -> Self {
        Self {
            replayed: received.replayed && completed.replayed,
            position: completed.position.or(received.position),
            source_revision: completed.revision,
            destination_revision: received.revision,
            events: received
                .events
                .into_iter()
                .chain(completed.events)
                .collect(),
        }
    }

    /// The return that settled it, if it came back.
    pub fn return_event(&self) -> Option<&TransferReturned> {
        self.events.iter().find_map(|event| match event {
            DepotEvent::TransferReturned(back) => Some(back),
            _ => None,
        })
    }
}

/// Settles a transfer: received at the destination (then completed at the
/// source), or returned to the source. Returns what was appended (or, when it
/// was settled before, what that did).
///
/// Exactly one of the two, whoever settles and however often: both commands carry
/// the one key `transfer/<id>/settle`, so the log takes whichever comes first and
/// refuses the other (`KeyReused`, naming the stream that has it). The completion
/// carries its own key, `transfer/<id>/complete`, so a retry after a crash
/// between receipt and completion appends it once. Settlements of one transfer
/// also take turns within the process.
pub async fn settle(
    state: &Network,
    transfer: &Dispatched,
) -> Result<Settled, CommandError<DomainError>> {
    let _turn = state
        .processes
        .take(&format!("transfer/{}", transfer.transfer))
        .await;
    let receive = DepotCommand::ReceiveTransfer {
        transfer: transfer.transfer,
        from: transfer.from,
        item: transfer.item.clone(),
        lots: transfer.picks.clone(),
        reason: transfer.reason.clone(),
    };
    let received = match execute(state, &transfer.to, receive, transfer, Step::Settle).await {
        Err(CommandError::Rejected(refusal)) => {
            tracing::warn!(transfer = %transfer.transfer, %refusal, "destination refused a transfer; returning it");
            let reason = Reason::parse(truncate(&format!("destination refused: {refusal}")))
                .unwrap_or_else(|_| transfer.reason.clone());
            let back = DepotCommand::ReturnTransfer {
                transfer: transfer.transfer,
                reason,
            };
            match execute(state, &transfer.from, back, transfer, Step::Settle).await {
                // Received meanwhile, elsewhere: that is the settlement.
                Err(CommandError::KeyReused { .. }) => {
                    applied(state, &transfer.to, transfer.transfer, Step::Settle).await?
                }
                returned => return returned.map(Settled::returned),
            }
        }
        // Returned before: that is the settlement.
        Err(CommandError::KeyReused { .. }) => {
            return applied(state, &transfer.from, transfer.transfer, Step::Settle)
                .await
                .map(Settled::returned);
        }
        received => received?,
    };
    // A replayed receipt of another transfer under this id (two dispatches of one
    // new id that raced past the edge): not this one's settlement. It stays open
    // rather than be completed for stock it never delivered.
    if !received_from(&received, transfer.from) {
        return Err(CommandError::Rejected(DomainError::AlreadyExists {
            what: "a receipt from another depot of transfer",
            key: transfer.transfer.to_string(),
        }));
    }
    let complete = DepotCommand::CompleteTransfer {
        transfer: transfer.transfer,
    };
    let completed = execute(state, &transfer.from, complete, transfer, Step::Complete).await?;
    Ok(Settled::received(received, completed))
}

/// A settlement's two steps: one key for receiving and returning alike, and one
/// for the completion that follows a receipt.
#[derive(Clone, Copy)]
enum Step {
    Settle,
    Complete,
}

/// What the step keyed for `transfer` appended at `depot`, which the log says
/// holds its key.
async fn applied(
    state: &Network,
    depot: &DepotId,
    transfer: TransferId,
    step: Step,
) -> Result<Executed<DepotEvent>, CommandError<DomainError>> {
    state
        .aggregates
        .applied::<Depot>(depot, &metadata(transfer, step))
        .await?
        .ok_or_else(|| {
            CommandError::Log(ercs_eventlog::Error::Storage(format!(
                "transfer {transfer} is settled at {depot} by the log's key, but its events cannot be found"
            )))
        })
}

async fn execute(
    state: &Network,
    depot: &DepotId,
    command: DepotCommand,
    transfer: &Dispatched,
    step: Step,
) -> Result<Executed<DepotEvent>, CommandError<DomainError>> {
    let actor = Actor::parse(ACTOR).expect("a valid actor");
    let command = Stamped {
        context: CommandContext::new(actor, state.now()),
        command,
    };
    state
        .aggregates
        .execute::<Depot>(
            depot,
            Expect::Latest,
            command,
            &metadata(transfer.transfer, step),
        )
        .await
}

/// A step's metadata, keyed by the transfer and the step.
fn metadata(transfer: TransferId, step: Step) -> Metadata {
    Metadata::new(ACTOR).with_idempotency_key(key(transfer, step))
}

/// The idempotency key of a transfer's step: one per transfer and step in the
/// whole log (clients' keys are scoped by method and path, so none is like it).
fn key(transfer: TransferId, step: Step) -> String {
    let step = match step {
        Step::Settle => "settle",
        Step::Complete => "complete",
    };
    format!("transfer/{transfer}/{step}")
}

/// Whether the log holds the settlement of a transfer with this id, at any
/// depot: received (and so followed by a completion) or returned.
pub async fn settled_before(
    state: &Network,
    transfer: TransferId,
) -> Result<bool, ercs_eventlog::Error> {
    let key = CommandKey::new(key(transfer, Step::Settle))?;
    Ok(state.log.find_key(&key).await?.is_some())
}

/// Transfers open at their source, as the view has them: the ones dispatched to
/// be received at once, which a crash may have left unsettled, and the ones in
/// transit (`true`), which are travelling unless the log holds their receipt (a
/// crash between receipt and completion).
fn open_transfers(view: &OneNetwork) -> Vec<(Dispatched, bool)> {
    let mut open = Vec::new();
    for source in view.depots.values() {
        for (transfer, outbound) in &source.outbound {
            let dispatched = Dispatched {
                transfer: *transfer,
                from: source.id,
                to: outbound.to,
                item: outbound.item.clone(),
                picks: outbound.picks.clone(),
                reason: Reason::parse("settled after a restart").expect("a valid reason"),
            };
            open.push((dispatched, outbound.expected_arrival.is_some()));
        }
    }
    open
}

/// A transfer from `from` to a destination, as its source recorded it.
pub enum Found {
    /// Not settled yet: what a signature (签收) or a refusal settles.
    InTransit(Dispatched),
    /// Settled before: what settled it.
    Settled(Settled),
}

/// The transfer `from` dispatched to `destination`: in transit, or how it was
/// settled (a signature or refusal repeated after the settlement is answered
/// with it).
pub async fn in_transit_to(
    state: &Network,
    destination: DepotId,
    transfer: TransferId,
    from: DepotId,
    reason: Reason,
) -> Result<Found, Problem> {
    let source = state
        .aggregates
        .load::<Depot>(&from)
        .await
        .map_err(Problem::from)?
        .state;
    let unknown = || {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-reference",
            "Unknown reference",
            format!("depot {from} dispatched no transfer {transfer} to this depot"),
        )
        .with_field("transfer")
    };
    let Some(source) = source else {
        return Err(unknown());
    };
    if let Some(outbound) = source.outbound.get(&transfer) {
        if outbound.to != destination {
            return Err(unknown());
        }
        return Ok(Found::InTransit(Dispatched {
            transfer,
            from,
            to: destination,
            item: outbound.item.clone(),
            picks: outbound.picks.clone(),
            reason,
        }));
    }
    // Not open at the source: received here (and completed at the source) or
    // returned to the source, by the settlement's key; a key on another stream
    // means it went elsewhere, none that it was never dispatched.
    let keyed = |depot, step| async move {
        let metadata = metadata(transfer, step);
        match state.aggregates.applied::<Depot>(&depot, &metadata).await {
            Ok(found) => Ok(found),
            Err(CommandError::KeyReused { .. }) => Ok(None),
            Err(error) => Err(Problem::from(error)),
        }
    };
    if let Some(received) = keyed(destination, Step::Settle).await? {
        if !received_from(&received, from) {
            return Err(unknown());
        }
        let completed = applied(state, &from, transfer, Step::Complete)
            .await
            .map_err(Problem::from)?;
        return Ok(Found::Settled(Settled::received(received, completed)));
    }
    // The key on the source's stream: returned there — or received there, as the
    // destination of another depot's transfer, which is no answer to this one.
    // Returned from this depot, if the return names where it was refused (one
    // recorded before returns did is taken at its source's word).
    let returned = keyed(from, Step::Settle).await?.map(Settled::returned);
    match returned {
        Some(settled)
            if settled.return_event().is_some_and(|back| {
                back.depot_id == from && back.to.is_none_or(|to| to == destination)
            }) =>
        {
            Ok(Found::Settled(settled))
        }
        _ => Err(unknown()),
    }
}

/// Whether a settlement's events receive the transfer from `source`.
fn received_from(settled: &Executed<DepotEvent>, source: DepotId) -> bool {
    settled
        .events
        .iter()
        .any(|event| matches!(event, DepotEvent::TransferReceived(e) if e.from == source))
}

/// 拒收: the destination will not take a transfer in transit, so it goes back to
/// its source — unless it was received already (then that is the settlement, and
/// the refusal is a 409 that says so).
pub async fn refuse(state: &Network, found: Found) -> Result<Settled, Problem> {
    let transfer = match found {
        Found::Settled(settled) if settled.return_event().is_some() => return Ok(settled),
        Found::Settled(settled) => {
            let id = settled
                .events
                .iter()
                .find_map(|event| match event {
                    DepotEvent::TransferReceived(e) => Some(e.transfer),
                    _ => None,
                })
                .map_or_else(String::new, |id| id.to_string());
            return Err(received_already(&id));
        }
        Found::InTransit(transfer) => transfer,
    };
    let _turn = state
        .processes
        .take(&format!("transfer/{}", transfer.transfer))
        .await;
    let back = DepotCommand::ReturnTransfer {
        transfer: transfer.transfer,
        reason: transfer.reason.clone(),
    };
    match execute(state, &transfer.from, back, &transfer, Step::Settle).await {
        Ok(returned) => Ok(Settled::returned(returned)),
        Err(CommandError::KeyReused { .. }) => {
            Err(received_already(&transfer.transfer.to_string()))
        }
        Err(error) => Err(error.into()),
    }
}

fn received_already(transfer: &str) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "transfer-received",
        "Transfer received",
        format!(
            "transfer {transfer} was already signed for at the destination; it cannot be \
             refused now (return the stock with a new transfer)"
        ),
    )
    .with_field("transfer")
}

/// Settles every transfer a crash left unsettled, and completes every receipt
/// whose completion it cut off; run once the view has caught up after start.
/// A transfer in transit that nobody has signed for is travelling, and is left.
pub async fn sweep(state: &Network) {
    let (open, _) = state.view.read(open_transfers);
    for (transfer, in_transit) in open {
        if in_transit {
            match settled_before(state, transfer.transfer).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::error!(transfer = %transfer.transfer, %error, "could not tell whether a transfer was received");
                    continue;
                }
            }
        }
        if let Err(error) = settle(state, &transfer).await {
            tracing::error!(transfer = %transfer.transfer, %error, "could not settle a transfer");
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}
