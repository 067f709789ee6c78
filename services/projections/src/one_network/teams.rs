//! Teams (卫生应急队伍) in the view: the domain's own `TeamState`, folded with
//! `Team::evolve`, and a serializable mirror of it for the snapshot.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::{IncidentId, TeamId};
use ercs_domain::lifecycle::Lifecycle;
use ercs_domain::team::{TeamKind, TeamState, TeamStatus};
use ercs_domain::values::{CapabilityTag, Headcount, Name, Reason};
use serde::{Deserialize, Serialize};

/// One team as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "TeamRecord", from = "TeamRecord")]
pub struct TeamView(pub TeamState);

impl From<TeamState> for TeamView {
    fn from(state: TeamState) -> Self {
        Self(state)
    }
}

impl From<TeamView> for TeamState {
    fn from(view: TeamView) -> Self {
        view.0
    }
}

/// Which teams: tier, home area, kind and status (`standby`, `deployed`, ...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TeamKey {
    pub tier: Tier,
    pub area: AreaCode,
    pub kind: TeamKind,
    pub status: &'static str,
}

/// How many teams, and how many people they field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
    teams: impl Iterator<Item = &'a TeamView>,
) -> BTreeMap<TeamKey, TeamCount> {
    let mut rollup = BTreeMap::new();
    for TeamView(team) in teams {
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

#[derive(Serialize, Deserialize)]
struct TeamRecord {
    id: TeamId,
    name: Name,
    kind: TeamKind,
    tier: Tier,
    home_area: AreaCode,
    base: GeoPoint,
    headcount: Headcount,
    capabilities: BTreeSet<CapabilityTag>,
    status: StatusRecord,
    since: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StatusRecord {
    Standby,
    Mobilising {
        incident: IncidentId,
    },
    Deployed {
        incident: IncidentId,
        area: DivisionCode,
        location: GeoPoint,
    },
    Returning {
        incident: IncidentId,
    },
    Resting,
    Unavailable {
        reason: Reason,
        since: DateTime<Utc>,
    },
}

impl From<TeamView> for TeamRecord {
    fn from(TeamView(t): TeamView) -> Self {
        Self {
            id: t.id,
            name: t.name,
            kind: t.kind,
            tier: t.tier,
            home_area: t.home_area,
            base: t.base,
            headcount: t.headcount,
            capabilities: t.capabilities,
            status: t.status.into(),
            since: t.since,
        }
    }
}

impl From<TeamRecord> for TeamView {
    fn from(r: TeamRecord) -> Self {
        Self(TeamState {
            id: r.id,
            name: r.name,
            kind: r.kind,
            tier: r.tier,
            home_area: r.home_area,
            base: r.base,
            headcount: r.headcount,
            capabilities: r.capabilities,
            status: r.status.into(),
            since: r.since,
        })
    }
}

impl From<TeamStatus> for StatusRecord {
    fn from(status: TeamStatus) -> Self {
        match status {
            TeamStatus::Standby => Self::Standby,
            TeamStatus::Mobilising { incident } => Self::Mobilising { incident },
            TeamStatus::Deployed {
                incident,
                area,
                location,
            } => Self::Deployed {
                incident,
                area,
                location,
            },
            TeamStatus::Returning { incident } => Self::Returning { incident },
            TeamStatus::Resting => Self::Resting,
            TeamStatus::Unavailable { reason, since } => Self::Unavailable { reason, since },
        }
    }
}

impl From<StatusRecord> for TeamStatus {
    fn from(status: StatusRecord) -> Self {
        match status {
            StatusRecord::Standby => Self::Standby,
            StatusRecord::Mobilising { incident } => Self::Mobilising { incident },
            StatusRecord::Deployed {
                incident,
                area,
                location,
            } => Self::Deployed {
                incident,
                area,
                location,
            },
            StatusRecord::Returning { incident } => Self::Returning { incident },
            StatusRecord::Resting => Self::Resting,
            StatusRecord::Unavailable { reason, since } => Self::Unavailable { reason, since },
        }
    }
}
