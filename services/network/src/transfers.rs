//! The transfer process: a transfer spans two depots, so it is two writes, not
//! one atomic one. The source's `TransferDispatched` is settled by exactly one of
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
//! Clients never send `ReceiveTransfer` or `ReturnTransfer` themselves.

use ercs_commands::{CommandError, Executed, Expect, Metadata};
use ercs_domain::DomainError;
use ercs_domain::decider::{CommandContext, Stamped};
use ercs_domain::ids::{DepotId, TransferId};
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::{Depot, DepotCommand, DepotEvent, LotPick};
use ercs_domain::values::{Actor, Reason};
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

/// Settles a transfer: received at the destination, or returned to the source.
/// Returns what was appended (or, when it was settled before, what that did).
///
/// Exactly one of the two, whoever settles and however often: both commands carry
/// the one key `transfer/<id>/settle`, so the log takes whichever comes first and
/// refuses the other (`KeyReused`, naming the stream that has it). Settlements of
/// one transfer also take turns within the process.
pub async fn settle(
    state: &Network,
    transfer: &Dispatched,
) -> Result<Executed<DepotEvent>, CommandError<DomainError>> {
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
    match execute(state, &transfer.to, receive, transfer).await {
        Err(CommandError::Rejected(refusal)) => {
            tracing::warn!(transfer = %transfer.transfer, %refusal, "destination refused a transfer; returning it");
            let reason = Reason::parse(truncate(&format!("destination refused: {refusal}")))
                .unwrap_or_else(|_| transfer.reason.clone());
            let back = DepotCommand::ReturnTransfer {
                transfer: transfer.transfer,
                reason,
            };
            match execute(state, &transfer.from, back, transfer).await {
                // Received meanwhile, elsewhere: that is the settlement.
                Err(CommandError::KeyReused { .. }) => {
                    settled_at(state, &transfer.to, transfer).await
                }
                returned => returned,
            }
        }
        // Returned before: that is the settlement.
        Err(CommandError::KeyReused { .. }) => settled_at(state, &transfer.from, transfer).await,
        received => received,
    }
}

/// What settled the transfer at `depot`, which the log says holds its key.
async fn settled_at(
    state: &Network,
    depot: &DepotId,
    transfer: &Dispatched,
) -> Result<Executed<DepotEvent>, CommandError<DomainError>> {
    state
        .aggregates
        .applied::<Depot>(depot, &metadata(transfer))
        .await?
        .ok_or_else(|| {
            CommandError::Log(ercs_eventlog::Error::Storage(format!(
                "transfer {} is settled at {depot} by the log's key, but its events cannot be found",
                transfer.transfer
            )))
        })
}

async fn execute(
    state: &Network,
    depot: &DepotId,
    command: DepotCommand,
    transfer: &Dispatched,
) -> Result<Executed<DepotEvent>, CommandError<DomainError>> {
    let actor = Actor::parse(ACTOR).expect("a valid actor");
    let command = Stamped {
        context: CommandContext::new(actor, state.now()),
        command,
    };
    state
        .aggregates
        .execute::<Depot>(depot, Expect::Latest, command, &metadata(transfer))
        .await
}

/// The settlement's metadata: one key for receiving and returning alike.
fn metadata(transfer: &Dispatched) -> Metadata {
    Metadata::new(ACTOR).with_idempotency_key(format!("transfer/{}/settle", transfer.transfer))
}

/// Transfers dispatched but neither received nor returned: what a crash between
/// the two writes leaves behind.
pub fn unsettled(view: &OneNetwork) -> Vec<Dispatched> {
    let mut open = Vec::new();
    for source in view.depots.values() {
        for (transfer, outbound) in &source.outbound {
            let received = view
                .depots
                .get(&outbound.to)
                .is_some_and(|destination| destination.inbound.contains(transfer));
            // One in transit waits for its destination's signature or refusal.
            if !received && !outbound.returned && outbound.expected_arrival.is_none() {
                open.push(Dispatched {
                    transfer: *transfer,
                    from: source.id,
                    to: outbound.to,
                    item: outbound.item.clone(),
                    picks: outbound.picks.clone(),
                    reason: Reason::parse("settled after a restart").expect("a valid reason"),
                });
            }
        }
    }
    open
}

/// A transfer in transit to `destination`, as its source recorded it: what a
/// signature (签收) or a refusal there settles.
pub async fn in_transit_to(
    state: &Network,
    destination: DepotId,
    transfer: TransferId,
    from: DepotId,
    reason: Reason,
) -> Result<Dispatched, Problem> {
    let source = state
        .aggregates
        .load::<Depot>(&from)
        .await
        .map_err(Problem::from)?
        .state;
    let outbound = source
        .as_ref()
        .and_then(|depot| depot.outbound.get(&transfer))
        .filter(|outbound| outbound.to == destination)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown-reference",
                "Unknown reference",
                format!("depot {from} dispatched no transfer {transfer} to this depot"),
            )
            .with_field("transfer")
        })?;
    Ok(Dispatched {
        transfer,
        from,
        to: destination,
        item: outbound.item.clone(),
        picks: outbound.picks.clone(),
        reason,
    })
}

/// 拒收: the destination will not take a transfer in transit, so it goes back to
/// its source — unless it was received already (then that is the settlement, and
/// the refusal is a 409 that says so).
pub async fn refuse(
    state: &Network,
    transfer: &Dispatched,
) -> Result<Executed<DepotEvent>, Problem> {
    let _turn = state
        .processes
        .take(&format!("transfer/{}", transfer.transfer))
        .await;
    let back = DepotCommand::ReturnTransfer {
        transfer: transfer.transfer,
        reason: transfer.reason.clone(),
    };
    match execute(state, &transfer.from, back, transfer).await {
        Ok(returned) => Ok(returned),
        Err(CommandError::KeyReused { .. }) => Err(Problem::new(
            StatusCode::CONFLICT,
            "transfer-received",
            "Transfer received",
            format!(
                "transfer {} was already signed for at the destination; it cannot be \
                 refused now (return the stock with a new transfer)",
                transfer.transfer
            ),
        )
        .with_field("transfer")),
        Err(error) => Err(error.into()),
    }
}

/// Settles every unsettled transfer in the view; run once the view has caught up
/// after start.
pub async fn sweep(state: &Network) {
    let (open, _) = state.view.read(unsettled);
    for transfer in open {
        if let Err(error) = settle(state, &transfer).await {
            tracing::error!(transfer = %transfer.transfer, %error, "could not settle a transfer");
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(200).collect()
}
