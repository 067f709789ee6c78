use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::PeacetimeUse;
use crate::area::DivisionCode;
use crate::beds::{BedEvent, BedType};
use crate::geo::GeoPoint;
use crate::ids::FacilityId;
use crate::values::{ChecklistItem, Name, Reason};

message!(
    /// A convertible facility joined the one network, in peacetime use, planned to
    /// give `planned_beds` within `lead_time_minutes` of starting a conversion.
    ConvertibleFacilityRegistered (version 1) {
        1 facility_id: FacilityId,
        2 name: Name,
        3 peacetime_use: PeacetimeUse,
        4 area: DivisionCode,
        5 location: GeoPoint,
        6 at: DateTime<Utc>,
        7 planned_beds: BTreeMap<BedType, u32>,
        8 lead_time_minutes: u32,
    }
);

message!(
    /// Conversion began, to be ready by `ready_by`.
    ConversionStarted (version 1) {
        1 facility_id: FacilityId,
        2 ready_by: DateTime<Utc>,
        3 target_beds: BTreeMap<BedType, u32>,
        4 checklist: BTreeSet<ChecklistItem>,
        5 at: DateTime<Utc>,
    }
);

message!(
    /// One readiness checklist item was done.
    ReadinessItemCompleted (version 1) {
        1 facility_id: FacilityId,
        2 item: ChecklistItem,
        3 at: DateTime<Utc>,
    }
);

message!(
    /// Conversion was called off; back to peacetime use.
    ConversionCancelled (version 1) {
        1 facility_id: FacilityId,
        2 reason: Reason,
        3 at: DateTime<Utc>,
    }
);

message!(
    /// Open for patients: designated pools of the target sizes, none staffed yet.
    /// `early` is the dispatcher's reason when it opened before the lead time passed.
    EmergencyUseActivated (version 1) {
        1 facility_id: FacilityId,
        2 target_beds: BTreeMap<BedType, u32>,
        3 at: DateTime<Utc>,
        4 early: Option<Reason>,
    }
);

message!(
    /// 消杀 — disinfection and safe recovery began.
    RecoveryStarted (version 1) {
        1 facility_id: FacilityId,
        2 at: DateTime<Utc>,
    }
);

message!(
    /// Recovery finished; back to peacetime use.
    RecoveryCompleted (version 1) {
        1 facility_id: FacilityId,
        2 at: DateTime<Utc>,
    }
);

event_enum!(
    /// Facts on a convertible facility's stream, `convertible-<uuid>`.
    pub enum ConvertibleEvent {
        ConvertibleFacilityRegistered,
        ConversionStarted,
        ReadinessItemCompleted,
        ConversionCancelled,
        EmergencyUseActivated,
        RecoveryStarted,
        RecoveryCompleted,
    }
    delegate Beds(BedEvent)
);
