use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::area::DivisionCode;
use crate::beds::{BedCommand, BedType};
use crate::geo::GeoPoint;
use crate::ids::FacilityId;
use crate::values::{ChecklistItem, Name, Reason};

/// What a convertible facility is in peacetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "gymnasium")
)]
pub enum PeacetimeUse {
    /// 酒店
    Hotel,
    /// 体育馆
    Gymnasium,
    /// 会展中心
    ExhibitionHall,
    /// 学校
    School,
    Other,
}

all_values!(PeacetimeUse {
    Hotel,
    Gymnasium,
    ExhibitionHall,
    School,
    Other
});

/// What can be done to a convertible facility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConvertibleCommand {
    /// Join the one network in peacetime use, with the emergency capacity the venue is
    /// planned to give (`planned_beds`) and how long converting it takes
    /// (`lead_time_minutes`), so the view can count it before any conversion starts.
    Register {
        facility_id: FacilityId,
        name: Name,
        peacetime_use: PeacetimeUse,
        area: DivisionCode,
        location: GeoPoint,
        planned_beds: BTreeMap<BedType, u32>,
        lead_time_minutes: u32,
    },
    /// 有序转换 — begin converting, aiming at a capacity by bed type within a lead time.
    /// Both are explicit rather than taken from the registered plan: a dispatcher may
    /// convert for a different plan (fewer beds, another bed type, a faster or slower
    /// conversion) than the one the venue was registered with.
    StartConversion {
        lead_time_minutes: u32,
        target_beds: BTreeMap<BedType, u32>,
        checklist: BTreeSet<ChecklistItem>,
    },
    CompleteReadinessItem {
        item: ChecklistItem,
    },
    CancelConversion {
        reason: Reason,
    },
    /// Open for patients; only with every readiness item complete and, normally, once
    /// the conversion's lead time (`ready_by`) has passed. A dispatcher may open
    /// earlier by giving `early`, the reason, which the event records for audit.
    ActivateEmergencyUse {
        early: Option<Reason>,
    },
    /// A bed command, while in emergency use.
    Beds(BedCommand),
    /// 安全恢复 — begin disinfection; only once no bed is occupied or held.
    StartRecovery,
    CompleteRecovery,
}

impl ConvertibleCommand {
    pub(super) fn action(&self) -> Option<&'static str> {
        Some(match self {
            Self::Register { .. } => return None,
            Self::StartConversion { .. } => "start_conversion",
            Self::CompleteReadinessItem { .. } => "complete_readiness_item",
            Self::CancelConversion { .. } => "cancel_conversion",
            Self::ActivateEmergencyUse { .. } => "activate_emergency_use",
            Self::Beds(_) => "use_beds",
            Self::StartRecovery => "start_recovery",
            Self::CompleteRecovery => "complete_recovery",
        })
    }
}
