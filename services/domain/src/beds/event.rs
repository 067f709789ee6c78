use chrono::{DateTime, Utc};

use super::{BedClass, BedCounts, BedType};
use crate::ids::{FacilityId, IncidentId, PlanId};

message!(
    /// A pool's counts as the facility reported them; `at` is the reported-at time.
    BedsReported (version 1) {
        1 facility_id: FacilityId,
        2 bed_type: BedType,
        3 class: BedClass,
        4 counts: BedCounts,
        5 lead_time_minutes: u32,
        6 at: DateTime<Utc>,
    }
);

message!(
    /// Rapid-expansion beds were activated and are usable from `ready_at`.
    ExpansionActivated (version 1) {
        1 facility_id: FacilityId,
        2 bed_type: BedType,
        3 ready_at: DateTime<Utc>,
        4 at: DateTime<Utc>,
    }
);

message!(
    /// Rapid-expansion beds were stood down.
    ExpansionStoodDown (version 1) {
        1 facility_id: FacilityId,
        2 bed_type: BedType,
        3 at: DateTime<Utc>,
    }
);

message!(
    /// Rapid-vacate beds were freed; usable from `ready_at`.
    BedsVacated (version 1) {
        1 facility_id: FacilityId,
        2 bed_type: BedType,
        3 beds: u32,
        4 ready_at: DateTime<Utc>,
        5 at: DateTime<Utc>,
    }
);

message!(
    /// Patients took beds; from the plan's reservation first when `plan` is set.
    PatientsAdmitted (version 1) {
        1 facility_id: FacilityId,
        2 bed_type: BedType,
        3 class: BedClass,
        4 patients: u32,
        5 plan: Option<PlanId>,
        6 at: DateTime<Utc>,
    }
);

message!(
    /// Patients left their beds.
    PatientsDischarged (version 1) {
        1 facility_id: FacilityId,
        2 bed_type: BedType,
        3 class: BedClass,
        4 patients: u32,
        5 at: DateTime<Utc>,
        /// The plan the patients were admitted under, when they were.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        6 plan: Option<PlanId>,
    }
);

message!(
    /// Beds were held for a plan.
    BedsReserved (version 1) {
        1 facility_id: FacilityId,
        2 plan: PlanId,
        3 bed_type: BedType,
        4 class: BedClass,
        5 beds: u32,
        6 at: DateTime<Utc>,
        /// The incident the plan serves, when it serves one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        7 incident: Option<IncidentId>,
    }
);

message!(
    /// A plan's hold on a pool was given back.
    BedReservationReleased (version 1) {
        1 facility_id: FacilityId,
        2 plan: PlanId,
        3 bed_type: BedType,
        4 class: BedClass,
        5 beds: u32,
        6 at: DateTime<Utc>,
    }
);

message!(
    /// Part of one plan's hold on a pool passed to the plan superseding it; the
    /// pool's reserved total is unchanged.
    BedReservationMoved (version 1) {
        1 facility_id: FacilityId,
        2 from: PlanId,
        3 to: PlanId,
        4 bed_type: BedType,
        5 class: BedClass,
        6 beds: u32,
        7 at: DateTime<Utc>,
        /// The incident both plans serve.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        8 incident: Option<IncidentId>,
    }
);

message!(
    /// A report left a pool's staffed beds short of what plans hold there: `reserved`
    /// beds are promised but only `free` (staffed − occupied) remain, so the plans
    /// holding this pool must be re-planned by `short_by` = reserved − free beds.
    /// Emitted with the `BedsReported` that caused it, whenever a report leaves the
    /// pool short; it clears as plans release, patients leave or staff return.
    ReservationsOverCommitted (version 1) {
        1 facility_id: FacilityId,
        2 bed_type: BedType,
        3 class: BedClass,
        4 reserved: u32,
        5 free: u32,
        6 short_by: u32,
        7 at: DateTime<Utc>,
    }
);

event_enum!(
    /// Facts about bed pools, on a facility's or a convertible facility's stream.
    pub enum BedEvent {
        BedsReported,
        ExpansionActivated,
        ExpansionStoodDown,
        BedsVacated,
        PatientsAdmitted,
        PatientsDischarged,
        BedsReserved,
        BedReservationReleased,
        BedReservationMoved,
        ReservationsOverCommitted,
    }
);
