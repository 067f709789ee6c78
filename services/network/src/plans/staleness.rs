//! Whether a plan still fits the network it is approved on. Between proposing
//! and approving, stock is issued, beds fill and teams are sent elsewhere: an
//! assignment whose source no longer offers what it takes would be refused.
//! Approval checks every chosen assignment against the view first, so a stale
//! plan is a 409 naming what changed, not a 200 with refusals in it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_projections::OneNetwork;
use ercs_routing::{Commodity, SourceKind};
use serde::Serialize;

use super::{HeldBack, PlanRecord, sources_with};

/// An assignment its source can no longer meet.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub assignment: usize,
    pub source: String,
    /// The source's name (facility, depot, team).
    pub name: String,
    pub commodity: Commodity,
    pub planned: u64,
    /// What the source offers now, after the assignments before this one.
    pub available: u64,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} now offers {} {} where the plan takes {}",
            self.name, self.available, self.commodity.code, self.planned
        )
    }
}

/// The chosen assignments that still fit, in order, and those that no longer
/// do; `held` is what the plan it supersedes holds back for it.
pub fn fitting(
    view: &OneNetwork,
    record: &PlanRecord,
    selected: &[usize],
    areas: &AreaHierarchy,
    (now, held): (DateTime<Utc>, &HeldBack),
) -> (Vec<usize>, Vec<Change>) {
    let mut offers: BTreeMap<(String, Commodity), u64> = BTreeMap::new();
    for source in sources_with(view, areas, now, held) {
        for (commodity, n) in source.offers {
            offers.insert((source.id.clone(), commodity), n);
        }
    }
    let mut fits = Vec::new();
    let mut changed = Vec::new();
    for &index in selected {
        let Some(assignment) = record.plan.assignments.get(index) else {
            continue;
        };
        // A venue still to convert is dispatched by converting it, not by a
        // reservation: nothing to check yet.
        if assignment.source_kind == SourceKind::ConvertibleFacility {
            fits.push(index);
            continue;
        }
        let key = (assignment.source.clone(), assignment.commodity.clone());
        let left = offers.entry(key).or_insert(0);
        if assignment.quantity <= *left {
            *left -= assignment.quantity;
            fits.push(index);
        } else {
            changed.push(Change {
                assignment: index,
                source: assignment.source.clone(),
                name: source_name(view, &assignment.source),
                commodity: assignment.commodity.clone(),
                planned: assignment.quantity,
                available: *left,
            });
        }
    }
    (fits, changed)
}

/// A source id's resource name, in Chinese as registered (`facility/<id>/…`).
pub fn source_name(view: &OneNetwork, source: &str) -> String {
    let mut parts = source.split('/');
    let (Some(kind), Some(raw)) = (parts.next(), parts.next()) else {
        return source.to_owned();
    };
    let name = match kind {
        "facility" => raw
            .parse()
            .ok()
            .and_then(|id| view.facilities.get(&id))
            .map(|f| f.name.to_string()),
        "convertible" => raw
            .parse()
            .ok()
            .and_then(|id| view.convertibles.get(&id))
            .map(|v| v.state.name.to_string()),
        "depot" => raw
            .parse()
            .ok()
            .and_then(|id| view.depots.get(&id))
            .map(|d| d.name.to_string()),
        "team" => raw
            .parse()
            .ok()
            .and_then(|id| view.teams.get(&id))
            .map(|t| t.name.to_string()),
        _ => None,
    };
    name.unwrap_or_else(|| source.to_owned())
}

/// The names a dispatcher reads a plan by: every source and demand id of its
/// assignments, shortfalls and escalations, named as registered (facilities,
/// depots, teams, venues) or as the area they are (高笋塘街道, 万州区); the
/// incident's site by the incident's title.
pub fn names(
    view: &OneNetwork,
    record: &PlanRecord,
    areas: &AreaHierarchy,
) -> BTreeMap<String, String> {
    let plan = &record.plan;
    let sources = plan
        .assignments
        .iter()
        .flat_map(|a| {
            let next = a.next_best.as_ref().map(|n| n.source.as_str());
            std::iter::once(a.source.as_str()).chain(next)
        })
        .chain(record.actions.iter().map(|a| a.source.as_str()));
    let demands = plan
        .assignments
        .iter()
        .map(|a| a.demand.as_str())
        .chain(plan.shortfalls.iter().map(|s| s.demand.as_str()));
    let mut names = BTreeMap::new();
    for source in sources {
        names.insert(source.to_owned(), source_name(view, source));
    }
    for demand in demands {
        let name = match demand.strip_prefix("area/") {
            Some(code) => code
                .parse()
                .ok()
                .and_then(|code| areas.get(&code))
                .map(|area| area.name.to_string()),
            None if demand == "site" => record
                .request
                .incident
                .and_then(|id| view.incidents.get(&id))
                .map(|incident| format!("{}（现场）", incident.title)),
            None => None,
        };
        names.insert(demand.to_owned(), name.unwrap_or_else(|| demand.to_owned()));
    }
    names
}

/// One commodity of a plan as a dispatcher reads it first: how much was
/// needed, served (and within its standard), from which tiers, short, and
/// covered by actions to start now.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub commodity: Commodity,
    pub needed: u64,
    pub served: u64,
    pub within_standard: u64,
    /// Served, by the tier the source was found at (the top of its tier path).
    pub by_tier: BTreeMap<String, u64>,
    pub shortfall: u64,
    /// Of the shortfall, what the recommended actions would cover, later.
    pub by_actions: u64,
    /// Still asked of the tiers above or beyond the city.
    pub escalated: u64,
}

/// The per-commodity summary of `record`'s plan.
pub fn summary(record: &PlanRecord) -> Vec<Summary> {
    let plan = &record.plan;
    plan.commodities
        .iter()
        .map(|c| {
            let mut by_tier: BTreeMap<String, u64> = BTreeMap::new();
            for a in plan
                .assignments
                .iter()
                .filter(|a| a.commodity == c.commodity)
            {
                let tier = a.tier_path.last().map_or_else(String::new, |t| {
                    serde_json::to_value(t)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                });
                *by_tier.entry(tier).or_default() += a.quantity;
            }
            let of = |quantities: &mut dyn Iterator<Item = u64>| quantities.sum::<u64>();
            Summary {
                commodity: c.commodity.clone(),
                needed: c.needed,
                served: c.served,
                within_standard: c.served_within_standard,
                by_tier,
                shortfall: c.unmet,
                by_actions: of(&mut record
                    .actions
                    .iter()
                    .filter(|a| a.commodity == c.commodity)
                    .map(|a| a.quantity)),
                escalated: of(&mut plan
                    .escalations
                    .iter()
                    .filter(|e| e.commodity == c.commodity)
                    .map(|e| e.quantity)),
            }
        })
        .collect()
}

/// Why an assignment uses its source, in a dispatcher's words: when it
/// arrives and how (lead and drive), against its standard, across which tiers,
/// and the best other source with what each unit from there would cost more.
pub fn why(assignment: &ercs_routing::Assignment, names: &BTreeMap<String, String>) -> String {
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let standard = if assignment.within_standard {
        "在服务标准内"
    } else {
        "超出服务标准"
    };
    let mut why = format!(
        "{}：准备 {} 分钟 + 路程 {} 分钟，{} 分钟到达（{standard}），{}",
        name(&assignment.source),
        assignment.lead_minutes,
        assignment.travel_minutes,
        assignment.arrival_minutes,
        reach(&assignment.tier_path)
    );
    match &assignment.next_best {
        Some(next) => why.push_str(&format!(
            "。次优来源：{}，{} 分钟到达，{}，每单位多付出 {} 分钟当量（到达时间与跨级成本）",
            name(&next.source),
            next.arrival_minutes,
            reach(&next.tier_path),
            (next.extra_seconds_per_unit as f64 / 6.0).round() / 10.0
        )),
        None => why.push_str("。没有其他来源可供此需求"),
    }
    why
}

/// How far up the tiers a supply reaches (本乡镇内, 区县内跨乡镇, …).
fn reach(path: &[ercs_routing::Tier]) -> &'static str {
    use ercs_routing::Tier;
    match path.last() {
        None | Some(Tier::Township) => "本乡镇（街道）内调配",
        Some(Tier::District) => "区县内跨乡镇调配",
        Some(Tier::Region) => "片区内跨区县调配",
        Some(Tier::City) => "全市跨片区调配",
        Some(Tier::Beyond) => "市外支援",
    }
}
