//! The knobs a dispatcher may tune, with defaults and the reasons for them.
//!
//! Every cost is in seconds of arrival time, so a tier penalty reads as "how many
//! minutes sooner a farther tier must arrive before we draw on it".

use serde::{Deserialize, Serialize};

use crate::model::{CommodityKind, Tier};
use crate::travel::RoadModel;

/// Extra cost, in seconds, for each tier boundary a supply crosses (local first).
///
/// Defaults: leaving the township costs 5 minutes, the district 10 more, the
/// region 15 more. A district depot is then used before a township's own stock
/// only if it arrives more than 5 minutes sooner; the city's reserve is the last
/// resort unless it is half an hour closer. Drawing from outside the city
/// (`beyond_city`) is kept for shortfalls and costs an hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationCosts {
    pub leave_township: u32,
    pub leave_district: u32,
    pub leave_region: u32,
    pub leave_city: u32,
}

impl Default for EscalationCosts {
    fn default() -> Self {
        EscalationCosts {
            leave_township: 300,
            leave_district: 600,
            leave_region: 900,
            leave_city: 3600,
        }
    }
}

impl EscalationCosts {
    /// The summed cost of crossing every boundary below `common`, the lowest tier
    /// that holds both the source and the demand.
    pub fn crossing(&self, common: Tier) -> u32 {
        let steps = [
            self.leave_township,
            self.leave_district,
            self.leave_region,
            self.leave_city,
        ];
        let crossed = match common {
            Tier::Township => 0,
            Tier::District => 1,
            Tier::Region => 2,
            Tier::City => 3,
            Tier::Beyond => 4,
        };
        steps[..crossed].iter().sum()
    }

    pub fn max(&self) -> u32 {
        self.crossing(Tier::Beyond)
    }
}

/// Everything that shapes a plan besides the sources and demands. An unknown
/// field is refused, so a misspelt setting is never silently ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Sources that cannot start out within this many minutes are left out.
    pub horizon_minutes: u32,
    /// The standard a bed assignment is judged against: a patient reaches the
    /// bed within the urban pre-hospital response time, 14 minutes.
    pub standard_minutes: u32,
    /// The standard for teams: the 2-hour emergency-rescue circle (2小时应急救援圈).
    pub team_standard_minutes: u32,
    /// The standard for supplies: the same 2-hour circle.
    pub supply_standard_minutes: u32,
    pub escalation: EscalationCosts,
    pub roads: RoadModel,
    /// Each demand *starts* linked to this many nearest sources of each
    /// commodity... (16 and 3 by default: on the synthetic city, about 17,600
    /// links per commodity.) These only decide where the solve begins: plans are
    /// optimal over every source–demand pair, and pricing links the pairs the
    /// starting links lack ([`crate::pricing`]). With 10, the start solves 2–3 ms
    /// faster but pricing needs more rounds, 8–10 ms more in all.
    pub nearest_sources: usize,
    /// ...and to this many nearest sources in each of its own tiers (township,
    /// district, region, city), so local stock is on offer from the start.
    pub nearest_per_tier: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            horizon_minutes: 240,
            standard_minutes: 14,
            team_standard_minutes: 120,
            supply_standard_minutes: 120,
            escalation: EscalationCosts::default(),
            roads: RoadModel::default(),
            nearest_sources: 16,
            nearest_per_tier: 3,
        }
    }
}

impl Settings {
    /// The service standard, in seconds, an assignment of `kind` is judged against.
    pub fn standard_seconds(&self, kind: CommodityKind) -> u32 {
        let minutes = match kind {
            CommodityKind::Bed => self.standard_minutes,
            CommodityKind::Team => self.team_standard_minutes,
            CommodityKind::Supply => self.supply_standard_minutes,
        };
        minutes.saturating_mul(60)
    }
}

/// Arrival times are capped here (two days): a longer one is as good as never,
/// and the cap keeps the priority penalties a fixed size under re-plans.
pub const MAX_ARRIVAL_SECONDS: u32 = 48 * 3600;
