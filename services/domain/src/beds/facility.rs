//! The facility aggregate: a hospital, health centre, fangcang or isolation site and
//! its bed pools.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BedCommand, BedEvent, BedPools};
use crate::DomainError;
use crate::area::{DivisionCode, Tier};
use crate::decider::{Decider, Stamped, registered, unregistered};
use crate::geo::GeoPoint;
use crate::ids::FacilityId;
use crate::values::Name;

/// What kind of place holds the beds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "hospital")
)]
pub enum FacilityKind {
    /// 医院
    Hospital,
    /// 卫生院 / 社区卫生服务中心
    HealthCentre,
    /// 方舱医院
    Fangcang,
    /// 集中隔离点
    IsolationSite,
}

all_values!(FacilityKind {
    Hospital,
    HealthCentre,
    Fangcang,
    IsolationSite
});

/// What can be done to a facility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FacilityCommand {
    Register {
        facility_id: FacilityId,
        name: Name,
        kind: FacilityKind,
        tier: Tier,
        area: DivisionCode,
        location: GeoPoint,
    },
    Beds(BedCommand),
}

message!(
    /// A facility joined the one network.
    FacilityRegistered (version 1) {
        1 facility_id: FacilityId,
        2 name: Name,
        3 kind: FacilityKind,
        4 tier: Tier,
        5 area: DivisionCode,
        6 location: GeoPoint,
        7 at: DateTime<Utc>,
    }
);

event_enum!(
    /// Facts on a facility's stream, `facility-<uuid>`.
    pub enum FacilityEvent {
        FacilityRegistered,
    }
    delegate Beds(BedEvent)
);

/// A registered facility as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacilityState {
    pub id: FacilityId,
    pub name: Name,
    pub kind: FacilityKind,
    pub tier: Tier,
    pub area: DivisionCode,
    pub location: GeoPoint,
    pub pools: BedPools,
}

/// The facility aggregate; stream `facility-<uuid>`.
pub struct Facility;

impl Decider for Facility {
    type State = Option<FacilityState>;
    type Command = Stamped<FacilityCommand>;
    type Event = FacilityEvent;
    type Error = DomainError;
    type Id = FacilityId;
    const STREAM_PREFIX: &'static str = "facility";

    fn decide(
        state: &Self::State,
        stamped: Self::Command,
    ) -> Result<Vec<FacilityEvent>, DomainError> {
        let at = stamped.context.at;
        match stamped.command {
            FacilityCommand::Register {
                facility_id,
                name,
                kind,
                tier,
                area,
                location,
            } => {
                unregistered(state, "facility", facility_id)?;
                Ok(vec![
                    FacilityRegistered {
                        facility_id,
                        name,
                        kind,
                        tier,
                        area,
                        location,
                        at,
                    }
                    .into(),
                ])
            }
            FacilityCommand::Beds(command) => {
                let facility = registered(state, "facility")?;
                let events = facility.pools.decide(facility.id, command, at)?;
                Ok(events.into_iter().map(FacilityEvent::Beds).collect())
            }
        }
    }

    fn evolve(state: Self::State, event: &FacilityEvent) -> Self::State {
        match (state, event) {
            (_, FacilityEvent::FacilityRegistered(e)) => Some(FacilityState {
                id: e.facility_id,
                name: e.name.clone(),
                kind: e.kind,
                tier: e.tier,
                area: e.area.clone(),
                location: e.location,
                pools: BedPools::default(),
            }),
            (Some(mut facility), FacilityEvent::Beds(e)) => {
                facility.pools.apply(e);
                Some(facility)
            }
            (None, _) => None,
        }
    }
}
