//! What kind of bed, and which rung of the ladder it stands on.

use serde::{Deserialize, Serialize};

/// A bed type, after the EDXL-HAVE `BedType` list, plus general isolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "negative_flow_isolation")
)]
pub enum BedType {
    AdultIcu,
    PediatricIcu,
    NeonatalIcu,
    EmergencyDepartment,
    NurseryBeds,
    MedicalSurgical,
    RehabLongTermCare,
    Burn,
    Pediatrics,
    Psychiatric,
    /// 负压隔离病床 — negative-pressure isolation.
    NegativeFlowIsolation,
    OtherIsolation,
    OperatingRooms,
    /// 普通隔离床位 — general isolation (fangcang, isolation sites).
    GeneralIsolation,
}

impl BedType {
    pub const ALL: [BedType; 14] = [
        Self::AdultIcu,
        Self::PediatricIcu,
        Self::NeonatalIcu,
        Self::EmergencyDepartment,
        Self::NurseryBeds,
        Self::MedicalSurgical,
        Self::RehabLongTermCare,
        Self::Burn,
        Self::Pediatrics,
        Self::Psychiatric,
        Self::NegativeFlowIsolation,
        Self::OtherIsolation,
        Self::OperatingRooms,
        Self::GeneralIsolation,
    ];

    /// The EDXL-HAVE 2.0 bed type name. General isolation has none of its own and
    /// reports as `OtherIsolation`.
    pub fn edxl_have(self) -> &'static str {
        match self {
            Self::AdultIcu => "AdultICU",
            Self::PediatricIcu => "PediatricICU",
            Self::NeonatalIcu => "NeonatalICU",
            Self::EmergencyDepartment => "EmergencyDepartment",
            Self::NurseryBeds => "NurseryBeds",
            Self::MedicalSurgical => "MedicalSurgical",
            Self::RehabLongTermCare => "RehabLongTermCare",
            Self::Burn => "Burn",
            Self::Pediatrics => "Pediatrics",
            Self::Psychiatric => "Psychiatric",
            Self::NegativeFlowIsolation => "NegativeFlowIsolation",
            Self::OtherIsolation | Self::GeneralIsolation => "OtherIsolation",
            Self::OperatingRooms => "OperatingRooms",
        }
    }
}

/// The seeds' three-step bed ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "designated")
)]
pub enum BedClass {
    /// 固定标识应急床位 — designated emergency beds, usable now.
    Designated,
    /// 快速扩展应急床位 — rapid-expansion beds, usable after an activation lead time.
    RapidExpansion,
    /// 快速腾空床位 — rapidly vacated beds, freed by discharge or transfer within a lead time.
    RapidVacate,
}

all_values!(BedClass {
    Designated,
    RapidExpansion,
    RapidVacate
});

/// Which pool of a facility: one per bed type and ladder class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolKey {
    pub bed_type: BedType,
    pub class: BedClass,
}

impl std::fmt::Display for PoolKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // As the API spells them (`designated negative_flow_isolation`).
        let name = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        let class = name(serde_json::to_value(self.class).unwrap_or_default());
        let bed_type = name(serde_json::to_value(self.bed_type).unwrap_or_default());
        write!(f, "{class} {bed_type}")
    }
}
