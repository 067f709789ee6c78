//! Who a request is: the authenticated actor every event records.

use ercs_domain::area::{AreaCode, Tier};
use ercs_domain::hierarchy::AreaHierarchy;
use serde::{Deserialize, Serialize};

/// The seven roles. Jurisdiction bounds what a commanding role may command;
/// reads of the whole network are open to every role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 市级指挥 — city commander.
    CityCommander,
    /// 区县调度 — district dispatcher.
    DistrictDispatcher,
    /// 乡镇 — township operator.
    TownshipOperator,
    /// Dashboards (资源可视化): reads only.
    Viewer,
    /// 演练导演 — acts inside drills only.
    DrillDirector,
    /// 演练参演 — acts inside drills only.
    DrillPlayer,
    /// Administers the service; commands anywhere.
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::CityCommander,
        Role::DistrictDispatcher,
        Role::TownshipOperator,
        Role::Viewer,
        Role::DrillDirector,
        Role::DrillPlayer,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CityCommander => "city_commander",
            Role::DistrictDispatcher => "district_dispatcher",
            Role::TownshipOperator => "township_operator",
            Role::Viewer => "viewer",
            Role::DrillDirector => "drill_director",
            Role::DrillPlayer => "drill_player",
            Role::Admin => "admin",
        }
    }

    /// The role's name as a command centre says it.
    pub fn chinese(self) -> &'static str {
        match self {
            Role::CityCommander => "市级指挥",
            Role::DistrictDispatcher => "区县调度",
            Role::TownshipOperator => "乡镇操作员",
            Role::Viewer => "只读看板",
            Role::DrillDirector => "演练导演",
            Role::DrillPlayer => "演练参演人员",
            Role::Admin => "系统管理员",
        }
    }

    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == raw)
    }

    /// Drill roles act inside drills, never on the live network.
    pub fn is_drill(self) -> bool {
        matches!(self, Role::DrillDirector | Role::DrillPlayer)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An area of the city's tree (a division code such as 500101, or a region by
/// slug): the area and everything inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Jurisdiction(pub AreaCode);

impl Jurisdiction {
    /// Whether `area` is this jurisdiction's area or lies inside it.
    pub fn covers(&self, areas: &AreaHierarchy, area: &AreaCode) -> bool {
        area == &self.0 || areas.path(area).any(|record| record.code == self.0)
    }

    /// Whether it is the city at the top of the tree.
    pub fn is_whole_city(&self, areas: &AreaHierarchy) -> bool {
        areas
            .get(&self.0)
            .is_some_and(|record| record.tier == Tier::City)
    }
}

impl std::fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The authenticated actor: what a token names, recorded on every event it causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The stable account id (`sub`).
    pub subject: String,
    /// Who a person reads in the audit trail, e.g. 万州区卫健委值班员.
    pub name: String,
    pub role: Role,
    pub jurisdiction: Jurisdiction,
}

impl Principal {
    /// Who the audit trail records for this principal's events.
    pub fn audited(&self) -> ercs_commands::AuthenticatedActor {
        ercs_commands::AuthenticatedActor {
            subject: self.subject.clone(),
            name: self.name.clone(),
            role: self.role.as_str().to_owned(),
            jurisdiction: self.jurisdiction.to_string(),
        }
    }
}
