//! Teams (卫生应急队伍) in the view: the domain's own `TeamState`, folded with
//! `Team::evolve`.

use std::collections::BTreeMap;

use ercs_domain::area::{AreaCode, Tier};
use ercs_domain::lifecycle::Lifecycle;
use ercs_domain::team::{TeamKind, TeamState};

/// Which teams: tier, home area, kind and status (`standby`, `deployed`, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct TeamKey {
    pub tier: Tier,
    pub area: AreaCode,
    pub kind: TeamKind,
    pub status: &'static str,
}

/// How many teams, and how many people they field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TeamCount {
    pub teams: u32,
    pub headcount: u32,
}

impl std::ops::AddAssign for TeamCount {
    fn add_assign(&mut self, other: Self) {
        self.teams += other.teams;
        self.headcount = self.headcount.saturating_add(other.headcount);
    }
}

/// Teams rolled up by tier, area, kind and status.
pub fn by_status_and_kind<'a>(
    teams: impl Iterator<Item = &'a TeamState>,
) -> BTreeMap<TeamKey, TeamCount> {
    let mut rollup = BTreeMap::new();
    for team in teams {
        let key = TeamKey {
            tier: team.tier,
            area: team.home_area.clone(),
            kind: team.kind.clone(),
            status: team.status.phase().name(),
        };
        *rollup.entry(key).or_default() += TeamCount {
            teams: 1,
            headcount: team.headcount.get(),
        };
    }
    rollup
}
