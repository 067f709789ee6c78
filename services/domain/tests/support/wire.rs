//! What the REST API reads and writes, built through the deciders: for each aggregate
//! a run of commands that takes every command variant (`ercs_domain::testing::runs`),
//! and the state after each step.

use std::fmt::Debug;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use ercs_domain::beds::Facility;
use ercs_domain::convertible::ConvertibleFacility;
use ercs_domain::ids::*;
use ercs_domain::incident::Incident;
use ercs_domain::supply::{CatalogueItem, Depot, DepotCommand};
use ercs_domain::team::Team;
use ercs_domain::testing::runs;
use ercs_domain::values::{Actor, Name, Reason};
use ercs_domain::{CommandContext, Decider, DomainError, Stamped};

/// One value as serde writes it, with the name of the schema that must describe it.
pub struct Wire {
    pub schema: String,
    pub json: Value,
}

pub fn wire<T: Serialize + ToSchema>(value: &T) -> Wire {
    Wire {
        schema: T::name().into_owned(),
        json: serde_json::to_value(value).unwrap(),
    }
}

/// Every command sample, then every state the runs passed through.
pub fn all() -> Vec<Wire> {
    let mut out = Vec::new();
    out.extend(teams());
    out.extend(depots());
    out.extend(catalogue());
    out.extend(facility());
    out.extend(convertible());
    out.extend(incident());
    out
}

/// Feeds `commands` (each after `minutes`) through `D`, keeping each command and the
/// state it leaves.
fn run<D, C, S>(commands: Vec<(i64, C)>) -> Vec<Wire>
where
    D: Decider<Command = Stamped<C>, State = Option<S>, Error = DomainError>,
    C: Serialize + ToSchema + Clone + Debug,
    S: Serialize + ToSchema + Clone,
{
    let (commands, states) = steps::<D, C, S>(commands);
    let mut out: Vec<Wire> = commands.iter().map(wire).collect();
    out.extend(states.iter().map(wire));
    out
}

/// The commands and the states they left.
fn steps<D, C, S>(commands: Vec<(i64, C)>) -> (Vec<C>, Vec<S>)
where
    D: Decider<Command = Stamped<C>, State = Option<S>, Error = DomainError>,
    C: Clone + Debug,
    S: Clone,
{
    let mut at = t0();
    let mut state: Option<S> = None;
    let mut states = Vec::new();
    let mut kept = Vec::new();
    for (minutes, command) in commands {
        at += TimeDelta::minutes(minutes);
        let context = CommandContext::new(Actor::parse("dispatcher-500101-01").unwrap(), at);
        let events = D::decide(&state, context.stamp(command.clone()))
            .unwrap_or_else(|e| panic!("{command:?} refused: {e}"));
        state = events.iter().fold(state, D::evolve);
        states.extend(state.clone());
        kept.push(command);
    }
    (kept, states)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 1, 8, 0, 0).single().unwrap()
}

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x7f3c_2a9e_4b1d_4e8a_9c2f_0000_0000_0000 + n)
}

fn teams() -> Vec<Wire> {
    let mut out = run::<Team, _, _>(runs::team(TeamId::from_uuid(uuid(1))));
    out.extend(run::<Team, _, _>(runs::regional_team(TeamId::from_uuid(
        uuid(2),
    ))));
    out
}

fn depots() -> Vec<Wire> {
    let wanzhou = DepotId::from_uuid(uuid(3));
    let city = DepotId::from_uuid(uuid(4));
    let (out_transfer, in_transfer) = (
        TransferId::from_uuid(uuid(5)),
        TransferId::from_uuid(uuid(6)),
    );
    let mut out = run::<Depot, _, _>(runs::depot(wanzhou, city, out_transfer));
    // Signing for or refusing a transfer is the transfer process's (the server
    // turns them into ReceiveTransfer or ReturnTransfer), so no depot decides them.
    out.push(wire(&DepotCommand::SignTransfer {
        transfer: in_transfer,
        from: city,
        received_by: Name::parse("万州区应急物资储备库 库管员").unwrap(),
    }));
    out.push(wire(&DepotCommand::RefuseTransfer {
        transfer: in_transfer,
        from: city,
        reason: Reason::parse("批号与随货单不符").unwrap(),
    }));
    // The transfer process completes a receipt at the source.
    out.push(wire(&DepotCommand::CompleteTransfer {
        transfer: in_transfer,
    }));
    out.extend(run::<Depot, _, _>(runs::receiving_depot(
        city,
        wanzhou,
        in_transfer,
    )));
    out
}

fn catalogue() -> Vec<Wire> {
    run::<CatalogueItem, _, _>(runs::catalogue_item(runs::n95()))
}

/// Bed commands, sent to a facility and also checked against `BedCommand` alone.
fn facility() -> Vec<Wire> {
    let mut out: Vec<Wire> = runs::beds().iter().map(|(_, c)| wire(c)).collect();
    out.extend(run::<Facility, _, _>(runs::facility(
        FacilityId::from_uuid(uuid(7)),
    )));
    out
}

fn convertible() -> Vec<Wire> {
    run::<ConvertibleFacility, _, _>(runs::convertible(FacilityId::from_uuid(uuid(8))))
}

/// Incident states are no wire type (yet): only the commands.
fn incident() -> Vec<Wire> {
    let (commands, _) = steps::<Incident, _, _>(runs::incident(runs::incident_id()));
    commands.iter().map(wire).collect()
}
