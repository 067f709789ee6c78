use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::{IncidentKind, ResponseLevel};
use crate::area::DivisionCode;
use crate::beds::BedType;
use crate::geo::GeoPoint;
use crate::ids::IncidentId;
use crate::supply::ItemCode;
use crate::team::TeamKind;
use crate::values::{Actor, Name, Quantity, Reason};

message!(
    /// An incident was declared at a response level.
    IncidentDeclared (version 1) {
        1 incident_id: IncidentId,
        2 kind: IncidentKind,
        3 level: ResponseLevel,
        4 title: Name,
        5 affected_areas: BTreeSet<DivisionCode>,
        6 by: Actor,
        7 at: DateTime<Utc>,
        /// Where it happened, for the map; absent when declared for areas only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        8 location: Option<GeoPoint>,
    }
);

message!(
    /// The response level was raised (towards Ⅰ).
    ResponseLevelRaised (version 1) {
        1 incident_id: IncidentId,
        2 from: ResponseLevel,
        3 to: ResponseLevel,
        4 reason: Reason,
        5 by: Actor,
        6 at: DateTime<Utc>,
    }
);

message!(
    /// The response level was lowered (towards Ⅳ).
    ResponseLevelLowered (version 1) {
        1 incident_id: IncidentId,
        2 from: ResponseLevel,
        3 to: ResponseLevel,
        4 reason: Reason,
        5 by: Actor,
        6 at: DateTime<Utc>,
    }
);

message!(
    /// More areas were found to be affected.
    AffectedAreasExtended (version 1) {
        1 incident_id: IncidentId,
        2 areas: BTreeSet<DivisionCode>,
        3 at: DateTime<Utc>,
    }
);

message!(
    /// The beds of a type needed in a township were set.
    BedDemandRecorded (version 1) {
        1 incident_id: IncidentId,
        2 bed_type: BedType,
        3 township: DivisionCode,
        4 beds: u32,
        5 at: DateTime<Utc>,
    }
);

message!(
    /// The units of an item needed in an area were set.
    SupplyDemandRecorded (version 1) {
        1 incident_id: IncidentId,
        2 item: ItemCode,
        3 area: DivisionCode,
        4 quantity: Quantity,
        5 at: DateTime<Utc>,
    }
);

message!(
    /// The teams of a kind needed were set.
    TeamDemandRecorded (version 1) {
        1 incident_id: IncidentId,
        2 kind: TeamKind,
        3 teams: u32,
        4 at: DateTime<Utc>,
    }
);

message!(
    /// The incident was closed; its stream takes no more commands.
    IncidentClosed (version 1) {
        1 incident_id: IncidentId,
        2 reason: Reason,
        3 by: Actor,
        4 at: DateTime<Utc>,
    }
);

event_enum!(
    /// Facts on an incident's stream, `incident-<uuid>`.
    pub enum IncidentEvent {
        IncidentDeclared,
        ResponseLevelRaised,
        ResponseLevelLowered,
        AffectedAreasExtended,
        BedDemandRecorded,
        SupplyDemandRecorded,
        TeamDemandRecorded,
        IncidentClosed,
    }
);
