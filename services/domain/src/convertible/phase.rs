use crate::lifecycle::Lifecycle;

/// Where a convertible facility stands between peacetime and emergency use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "peacetime")
)]
pub enum ConversionPhase {
    /// 平时 — in its peacetime use.
    Peacetime,
    /// 转换中 — being converted, against a readiness checklist.
    Converting,
    /// 急时 — in emergency use, holding bed pools.
    EmergencyActive,
    /// 恢复中 — disinfection (消杀) and safe recovery.
    Recovering,
}

impl Lifecycle for ConversionPhase {
    const AGGREGATE: &'static str = "convertible facility";
    const TRANSITIONS: &'static [(Self, &'static str, Self)] = &[
        (Self::Peacetime, "start_conversion", Self::Converting),
        (
            Self::Converting,
            "complete_readiness_item",
            Self::Converting,
        ),
        (
            Self::Converting,
            "activate_emergency_use",
            Self::EmergencyActive,
        ),
        (Self::Converting, "cancel_conversion", Self::Peacetime),
        (Self::EmergencyActive, "use_beds", Self::EmergencyActive),
        (Self::EmergencyActive, "start_recovery", Self::Recovering),
        (Self::Recovering, "complete_recovery", Self::Peacetime),
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Peacetime => "peacetime",
            Self::Converting => "converting",
            Self::EmergencyActive => "emergency_active",
            Self::Recovering => "recovering",
        }
    }
}
