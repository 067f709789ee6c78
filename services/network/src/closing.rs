//! Closing an incident: what it holds goes home first.
//!
//! An incident owns what was committed to it: the teams mobilised for it or on
//! scene, and the beds and stock its plans reserve (`OneNetwork::holdings`).
//! Closing one that still holds something is refused, naming what it holds —
//! unless the dispatcher asks for `release_all`, and then every holding is
//! released as one process before the incident closes: each reservation released
//! at its facility, venue or depot, each team demobilised. Stock on the road
//! cannot be released by a stroke of the pen: while a consignment or transfer is
//! in transit for the incident, closing is refused even with `release_all`, until
//! its destination signs for it or refuses it.
//!
//! Exactly once: closings of one incident take turns; the holdings are read
//! from a view that has caught up with the log; and each step is a keyed command
//! whose key names the holding (the plan and pool or item, or the team) as the
//! view saw it (its stream's revision), so a retry after a crash releases only
//! what is still held, and two holdings on one stream are two steps.

use ercs_commands::{CommandError, Expect, Metadata};
use ercs_domain::DomainError;
use ercs_domain::beds::{BedCommand, Facility, FacilityCommand};
use ercs_domain::convertible::{ConvertibleCommand, ConvertibleFacility};
use ercs_domain::decider::{CommandContext, Decider, Stamped};
use ercs_domain::event::DomainEvent;
use ercs_domain::ids::IncidentId;
use ercs_domain::supply::depot::{Depot, DepotCommand};
use ercs_domain::team::{Team, TeamCommand};
use ercs_domain::values::{Actor, Reason};
use ercs_projections::one_network::Holdings;
use http::StatusCode;

use crate::network::Network;
use crate::network::READ_WAIT;
use crate::problem::Problem;

/// Before `close`: refuses while `incident` holds anything, or releases it all.
pub async fn before_close(
    state: &Network,
    incident: IncidentId,
    release_all: bool,
    acting: &crate::acting::Acting,
) -> Result<(), Problem> {
    let _turn = state.processes.take(&format!("incident/{incident}")).await;
    let held = holdings(state, incident).await?;
    if held.is_empty() {
        return Ok(());
    }
    if !held.in_transit.is_empty() {
        let moving: Vec<String> = held
            .in_transit
            .iter()
            .take(3)
            .map(|m| {
                let due = m
                    .expected_arrival
                    .map_or_else(String::new, |due| format!(", due {}", due.to_rfc3339()));
                format!(
                    "{} {} ({}) from {}{due}",
                    m.quantity, m.item, m.id, m.from_name
                )
            })
            .collect();
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "incident-stock-in-transit",
            "Stock still in transit",
            format!(
                "incident `{incident}` has {} consignment(s) or transfer(s) on the road ({}{}); \
                 their destinations must sign for them (sign_delivery, sign_transfer) or refuse \
                 them before it can close",
                held.in_transit.len(),
                moving.join("; "),
                if held.in_transit.len() > 3 {
                    "; …"
                } else {
                    ""
                }
            ),
        )
        .with_field("release_all"));
    }
    if !release_all {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "incident-holds-resources",
            "Incident still holds resources",
            format!(
                "incident `{incident}` still holds {}; release them, or close with \
                 \"release_all\": true to release them all and then close",
                describe(&held)
            ),
        )
        .with_field("release_all"));
    }
    release(state, incident, &held, acting).await
}

/// What the incident holds, from a view that has caught up with the log.
async fn holdings(state: &Network, incident: IncidentId) -> Result<Holdings, Problem> {
    caught_up(state).await?;
    Ok(state.view.read(|view| view.holdings(incident)).0)
}

/// Waits until the view has read everything the log holds now: a process that
/// releases what it finds there must find everything.
pub async fn caught_up(state: &Network) -> Result<(), Problem> {
    let head = state
        .log
        .head()
        .await
        .map_err(|error| Problem::unavailable(format!("the event log failed: {error}")))?;
    state
        .view
        .wait_for(head, READ_WAIT)
        .await
        .map_err(|lagging| {
            Problem::unavailable(format!("{lagging}; retry shortly")).retry_after(1)
        })?;
    Ok(())
}

/// "2 teams (万州区紧急医学救援队, …), 30 beds at 1 facility and 2000 units of stock at 2 depots"
fn describe(held: &Holdings) -> String {
    let mut parts = Vec::new();
    if !held.teams.is_empty() {
        let names: Vec<&str> = held.teams.iter().take(3).map(|t| t.name.as_str()).collect();
        let more = if held.teams.len() > 3 { ", …" } else { "" };
        parts.push(format!(
            "{} team(s) ({}{more})",
            held.teams.len(),
            names.join(", ")
        ));
    }
    if !held.beds.is_empty() {
        let beds: u32 = held.beds.iter().map(|b| b.beds).sum();
        parts.push(format!(
            "{beds} reserved bed(s) in {} pool(s)",
            held.beds.len()
        ));
    }
    if !held.in_transit.is_empty() {
        parts.push(format!("{} movement(s) in transit", held.in_transit.len()));
    }
    if !held.stock.is_empty() {
        let units: u32 = held.stock.iter().map(|s| s.quantity).sum();
        parts.push(format!(
            "{units} reserved unit(s) of stock at {} depot(s)",
            held.stock.len()
        ));
    }
    parts.join(", ")
}

/// Releases every holding; a step the domain refuses stops the closing.
async fn release(
    state: &Network,
    incident: IncidentId,
    held: &Holdings,
    acting: &crate::acting::Acting,
) -> Result<(), Problem> {
    let actor = &acting.actor;
    let reason = Reason::parse(format!("incident {incident} closed")).expect("a valid reason");
    let step = |stream: String, holding: String| {
        let revision = state
            .view
            .read(|view| view.marks.get(&stream).map(|m| m.revision))
            .0;
        let key = format!("incident/{incident}/release/{stream}@{revision:?}/{holding}");
        acting.step(key)
    };
    for team in &held.teams {
        let meta = step(format!("team-{}", team.team), "team".to_owned());
        run::<Team, _>(state, &team.team, TeamCommand::Demobilise, &meta, actor).await?;
    }
    for beds in &held.beds {
        let release = BedCommand::Release {
            plan: beds.plan,
            bed_type: beds.bed_type,
            class: beds.class,
        };
        let holding = format!("{}/{:?}/{:?}", beds.plan, beds.bed_type, beds.class);
        let facility = format!("facility-{}", beds.facility);
        let at_facility = state
            .view
            .read(|view| view.facilities.contains_key(&beds.facility))
            .0;
        if at_facility {
            let meta = step(facility, holding);
            run::<Facility, _>(
                state,
                &beds.facility,
                FacilityCommand::Beds(release),
                &meta,
                actor,
            )
            .await?;
        } else {
            let meta = step(format!("convertible-{}", beds.facility), holding);
            run::<ConvertibleFacility, _>(
                state,
                &beds.facility,
                ConvertibleCommand::Beds(release),
                &meta,
                actor,
            )
            .await?;
        }
    }
    for stock in &held.stock {
        let release = DepotCommand::Release {
            plan: stock.plan,
            item: stock.item.clone(),
            reason: reason.clone(),
        };
        let meta = step(
            format!("depot-{}", stock.depot),
            format!("{}/{}", stock.plan, stock.item),
        );
        run::<Depot, _>(state, &stock.depot, release, &meta, actor).await?;
    }
    Ok(())
}

pub(crate) async fn run<D, C>(
    state: &Network,
    id: &D::Id,
    command: C,
    metadata: &Metadata,
    actor: &Actor,
) -> Result<(), Problem>
where
    D: Decider<Error = DomainError, Command = Stamped<C>>,
    D::Event: DomainEvent,
    C: Clone,
{
    let command = Stamped {
        context: CommandContext::new(actor.clone(), state.now()),
        command,
    };
    match state
        .aggregates
        .execute::<D>(id, Expect::Latest, command, metadata)
        .await
    {
        Ok(_) => Ok(()),
        Err(CommandError::Rejected(refusal)) => Err(Problem::new(
            StatusCode::CONFLICT,
            "release-refused",
            "Release refused",
            format!("could not release what the incident holds, so it stays open: {refusal}"),
        )),
        Err(error) => Err(error.into()),
    }
}
