use serde::{Deserialize, Serialize};

use super::{BedClass, BedCounts, BedType};
use crate::ids::{IncidentId, PlanId};

/// What can be done to a facility's bed pools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum BedCommand {
    /// The facility reports a pool's counts; `lead_time_minutes` is how long
    /// activation (rapid-expansion) or vacating (rapid-vacate) takes.
    Report {
        bed_type: BedType,
        class: BedClass,
        counts: BedCounts,
        lead_time_minutes: u32,
    },
    /// Open the rapid-expansion beds of a type; usable after the lead time.
    ActivateExpansion { bed_type: BedType },
    /// Close them again; only when nobody occupies or holds them.
    StandDownExpansion { bed_type: BedType },
    /// Discharge or transfer out routine patients to free rapid-vacate beds.
    Vacate { bed_type: BedType, beds: u32 },
    Admit {
        bed_type: BedType,
        class: BedClass,
        patients: u32,
        plan: Option<PlanId>,
    },
    Discharge {
        bed_type: BedType,
        class: BedClass,
        patients: u32,
        /// The plan they were admitted under (an incident's patients).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<PlanId>,
    },
    /// Hold available beds for an approved plan.
    Reserve {
        plan: PlanId,
        bed_type: BedType,
        class: BedClass,
        beds: u32,
        /// The incident the plan serves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident: Option<IncidentId>,
    },
    /// Give back everything a plan holds in a pool.
    Release {
        plan: PlanId,
        bed_type: BedType,
        class: BedClass,
    },
    /// Hand `beds` of what plan `from` holds in a pool over to plan `to`, the plan
    /// that supersedes it: the beds stay held throughout, so nobody else can take
    /// them between a release and a new reservation. Sent by the plan process.
    MoveReservation {
        from: PlanId,
        to: PlanId,
        bed_type: BedType,
        class: BedClass,
        beds: u32,
        /// The incident both plans serve.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident: Option<IncidentId>,
    },
}
