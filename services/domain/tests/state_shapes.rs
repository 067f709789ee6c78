//! The command path saves aggregate states as JSON and restores them in the
//! next run unless they were saved under another `STATE_VERSION`. So every
//! state each aggregate passes through on its run of commands (every event
//! kind) is pinned here, in `state_shapes.json`: a change to a state's fields
//! or to what an `evolve` leaves in them fails this test until
//! `STATE_VERSION` is bumped, and then until the file is refreshed with
//! `ERCS_UPDATE_STATE_SHAPES=1 cargo test -p ercs-domain --test state_shapes`.

use std::collections::BTreeMap;
use std::fmt::Debug;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use ercs_domain::beds::Facility;
use ercs_domain::convertible::ConvertibleFacility;
use ercs_domain::decider::STATE_VERSION;
use ercs_domain::ids::*;
use ercs_domain::incident::Incident;
use ercs_domain::supply::{CatalogueItem, Depot};
use ercs_domain::team::Team;
use ercs_domain::testing::runs;
use ercs_domain::values::Actor;
use ercs_domain::{CommandContext, Decider, Stamped};

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/state_shapes.json");

/// The JSON of every state `D` passes through on `commands`.
fn states<D, C>(commands: Vec<(i64, C)>) -> Vec<Value>
where
    D: Decider<Command = Stamped<C>>,
    D::Error: Debug,
    C: Clone + Debug,
{
    let mut at: DateTime<Utc> = Utc.with_ymd_and_hms(2025, 7, 1, 8, 0, 0).unwrap();
    let mut state = D::State::default();
    let mut out = Vec::new();
    for (minutes, command) in commands {
        at += TimeDelta::minutes(minutes);
        let context = CommandContext::new(Actor::parse("dispatcher-500101-01").unwrap(), at);
        let events = D::decide(&state, context.stamp(command.clone()))
            .unwrap_or_else(|e| panic!("{command:?} refused: {e:?}"));
        state = events.iter().fold(state, D::evolve);
        out.push(serde_json::to_value(&state).unwrap());
    }
    out
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x57a7_e000_0000_4000_8000_0000_0000_0000 + n)
}

fn all() -> BTreeMap<&'static str, Vec<Value>> {
    let (wanzhou, city) = (DepotId::from_uuid(id(3)), DepotId::from_uuid(id(4)));
    let (out, back) = (TransferId::from_uuid(id(5)), TransferId::from_uuid(id(6)));
    BTreeMap::from([
        (
            "team",
            states::<Team, _>(runs::team(TeamId::from_uuid(id(1)))),
        ),
        ("depot", states::<Depot, _>(runs::depot(wanzhou, city, out))),
        (
            "receiving_depot",
            states::<Depot, _>(runs::receiving_depot(city, wanzhou, back)),
        ),
        (
            "item",
            states::<CatalogueItem, _>(runs::catalogue_item(runs::n95())),
        ),
        (
            "facility",
            states::<Facility, _>(runs::facility(FacilityId::from_uuid(id(7)))),
        ),
        (
            "convertible",
            states::<ConvertibleFacility, _>(runs::convertible(FacilityId::from_uuid(id(8)))),
        ),
        (
            "incident",
            states::<Incident, _>(runs::incident(IncidentId::from_uuid(id(9)))),
        ),
    ])
}

#[test]
fn every_saved_state_shape_is_pinned_to_the_state_version() {
    let now = all();
    let pinned: Option<Value> = std::fs::read(FILE)
        .ok()
        .map(|bytes| serde_json::from_slice(&bytes).unwrap());
    let (version, states) = match &pinned {
        Some(file) => (file["state_version"].as_u64(), file["states"].clone()),
        None => (None, Value::Null),
    };
    let same = states == serde_json::to_value(&now).unwrap();
    if version == Some(STATE_VERSION.into()) {
        assert!(
            same,
            "a saved state's shape changed: bump STATE_VERSION in services/domain/src/decider.rs \
             (states saved by the old build are then folded again), then refresh {FILE} with \
             ERCS_UPDATE_STATE_SHAPES=1"
        );
        return;
    }
    if std::env::var_os("ERCS_UPDATE_STATE_SHAPES").is_some() {
        let file = json!({"state_version": STATE_VERSION, "states": now});
        std::fs::write(FILE, serde_json::to_string_pretty(&file).unwrap() + "\n").unwrap();
        return;
    }
    panic!(
        "{FILE} pins state version {version:?}, this build has {STATE_VERSION}: refresh it with \
         ERCS_UPDATE_STATE_SHAPES=1 cargo test -p ercs-domain --test state_shapes"
    );
}
