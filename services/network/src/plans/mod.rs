//! Surge plans (调度方案): the one-network view turned into the routing core's
//! problem, the plan it proves optimal, and its approval as dispatch commands.
//!
//! A plan lives in the log, on its own stream `plan-<uuid>`: `PlanProposed` holds
//! the request, the problem as it was and the plan; `PlanApproved` records the
//! approval and what each dispatch command did. Approving issues, per assignment,
//! a bed reservation at the facility (or open 平急两用 venue), a stock reservation
//! at the depot, or the mobilisation of the team — each with the plan id in its
//! metadata and an idempotency key from the plan and the assignment, so approving
//! twice, or again after a crash, appends nothing twice. Sources that cannot be
//! dispatched by a command yet (a venue still to be converted) are listed as such.

mod actions;
mod coverage;
pub mod process;
mod release;
mod staleness;
mod supersede;

use std::collections::BTreeMap;

pub use actions::{Recommendation, recommend};
pub use coverage::{Coverage, covered};
pub use release::{held_count, release};
pub use staleness::{Change, Summary, fitting, names, source_name, summary, why};
pub use supersede::{HeldBack, committed_teams, held_back};

use chrono::{DateTime, Utc};
use ercs_commands::{CommandError, Executed, Expect, Metadata};
use ercs_domain::DomainError;
use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_domain::beds::{BedClass, BedCommand, Facility, FacilityCommand};
use ercs_domain::convertible::{ConversionPhase, ConvertibleCommand, ConvertibleFacility};
use ercs_domain::decider::{CommandContext, Decider, Stamped};
use ercs_domain::event::DomainEvent;
use ercs_domain::geo::GeoPoint;
use ercs_domain::hierarchy::AreaHierarchy;
use ercs_domain::ids::{IncidentId, PlanId};
use ercs_domain::incident::ResponseLevel;
use ercs_domain::lifecycle::Lifecycle;
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::{Depot, DepotCommand};
use ercs_domain::team::{Team, TeamCommand};
use ercs_domain::values::{Actor, Quantity, Reason};
use ercs_projections::OneNetwork;
use ercs_projections::one_network::{beds, convertibles, supplies};
use ercs_routing::{
    AreaPath, Commodity, CommodityKind, Demand, Plan, Point, Priority, Settings, Source,
    SourceKind, SurgeProblem,
};
use ercs_seed::geography::Geography;
use serde::{Deserialize, Serialize};

/// What a dispatcher asks to be planned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// Plan for the demand recorded on this incident.
    #[serde(default)]
    pub incident: Option<IncidentId>,
    /// Ad-hoc demand, planned as given (with or beside the incident's).
    #[serde(default)]
    pub demands: Vec<Demand>,
    /// The routing core's settings; defaults when absent.
    #[serde(default)]
    pub settings: Option<Settings>,
    /// An approved plan of the same incident that this one replaces: what it
    /// holds is planned as this plan's to take over, and on approval it is
    /// handed over (only the difference dispatched, the rest released).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<PlanId>,
}

/// Why a plan request cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no incident with id `{0}`")]
    UnknownIncident(IncidentId),
    #[error("nothing to plan: the request names no incident with recorded demand and no demands")]
    NoDemand,
    #[error("incident `{0}` is closed; nothing more is planned or committed for it")]
    ClosedIncident(IncidentId),
    #[error(
        "everything recorded for incident `{0}` is already held, on its way or in use under its \
         approved plans; record more demand, or cancel a plan, to plan again"
    )]
    Covered(IncidentId),
}

/// The priority (网格化分色) of an incident's demand, from its response level.
pub fn priority_of(level: ResponseLevel) -> Priority {
    match level {
        ResponseLevel::I | ResponseLevel::II => Priority::Red,
        ResponseLevel::III => Priority::Orange,
        ResponseLevel::IV => Priority::Yellow,
    }
}

/// The routing problem for `request` over the view as it stands at `now`: an
/// incident's recorded demand less what its live plans still cover, and any
/// ad-hoc demand as given. Sources are kept only where they offer something
/// demanded, so the problem (which the plan's record holds) stays small.
pub fn problem(
    view: &OneNetwork,
    request: &PlanRequest,
    geography: &Geography,
    areas: &AreaHierarchy,
    now: DateTime<Utc>,
    (covered, held): (&Coverage, &HeldBack),
) -> Result<SurgeProblem, RequestError> {
    let mut demands = request.demands.clone();
    if let Some(id) = request.incident {
        let incident = view
            .incidents
            .get(&id)
            .ok_or(RequestError::UnknownIncident(id))?;
        if incident.closed {
            return Err(RequestError::ClosedIncident(id));
        }
        let mut recorded = incident_demands(incident, geography, areas);
        let had_demand = recorded.iter().any(|d| d.needs.values().any(|&n| n > 0));
        for demand in &mut recorded {
            for (commodity, need) in demand.needs.iter_mut() {
                let held = covered
                    .get(&(demand.id.clone(), commodity.clone()))
                    .copied()
                    .unwrap_or(0);
                *need = need.saturating_sub(held);
            }
            demand.needs.retain(|_, need| *need > 0);
        }
        recorded.retain(|d| !d.needs.is_empty());
        if had_demand && recorded.is_empty() && demands.is_empty() {
            return Err(RequestError::Covered(id));
        }
        demands.extend(recorded);
    }
    if demands.iter().all(|d| d.needs.values().all(|&n| n == 0)) {
        return Err(RequestError::NoDemand);
    }
    let mut problem = SurgeProblem {
        sources: Vec::new(),
        demands,
        settings: request.settings.clone().unwrap_or_default(),
        travel: None,
    };
    problem.sources = sources_for(view, &problem, areas, now, held);
    Ok(problem)
}

fn incident_demands(
    incident: &ercs_projections::one_network::IncidentRecord,
    geography: &Geography,
    areas: &AreaHierarchy,
) -> Vec<Demand> {
    let priority = priority_of(incident.level);
    let mut needs: BTreeMap<DivisionCode, BTreeMap<Commodity, u64>> = BTreeMap::new();
    for (township, beds) in &incident.bed_demand {
        for (bed_type, n) in beds {
            *needs
                .entry(township.clone())
                .or_default()
                .entry(Commodity::bed(&wire(bed_type)))
                .or_default() += u64::from(*n);
        }
    }
    for (area, items) in &incident.supply_demand {
        for (item, n) in items {
            *needs
                .entry(area.clone())
                .or_default()
                .entry(Commodity::supply(item.as_str()))
                .or_default() += u64::from(*n);
        }
    }
    let mut demands: Vec<Demand> = needs
        .into_iter()
        .filter_map(|(area, needs)| {
            Some(Demand {
                id: format!("area/{area}"),
                location: area_point(&area, geography)?,
                area: area_path(&area.clone().into(), areas),
                priority,
                needs,
            })
        })
        .collect();
    // Teams go where the incident is: its declared point, else the middle of
    // its first affected area.
    let teams: BTreeMap<Commodity, u64> = incident
        .team_demand
        .iter()
        .map(|(kind, n)| (Commodity::team(&wire(kind)), u64::from(*n)))
        .collect();
    if let Some(first) = incident.affected_areas.iter().next()
        && !teams.is_empty()
    {
        let location = incident
            .location
            .map(|p| point(&p))
            .or_else(|| area_point(first, geography));
        if let Some(location) = location {
            demands.push(Demand {
                id: "site".into(),
                location,
                area: area_path(&first.clone().into(), areas),
                priority,
                needs: teams,
            });
        }
    }
    demands
}

/// A township's point, or the middle of a district's townships.
fn area_point(area: &DivisionCode, geography: &Geography) -> Option<Point> {
    if let Some(township) = geography.townships.iter().find(|t| &t.code == area) {
        return Some(point(&township.location));
    }
    let inside: Vec<&GeoPoint> = geography
        .townships
        .iter()
        .filter(|t| &t.county == area)
        .map(|t| &t.location)
        .collect();
    let n = inside.len() as f64;
    (n > 0.0).then(|| {
        Point::new(
            inside.iter().map(|p| p.lon()).sum::<f64>() / n,
            inside.iter().map(|p| p.lat()).sum::<f64>() / n,
        )
    })
}

pub(crate) fn point(p: &GeoPoint) -> Point {
    Point::new(p.lon(), p.lat())
}

/// Where `area` sits: its township, district, region and city.
pub fn area_path(area: &AreaCode, areas: &AreaHierarchy) -> AreaPath {
    let mut path = AreaPath::default();
    for record in areas.path(area) {
        let code = Some(record.code.to_string());
        match record.tier {
            Tier::Township => path.township = code,
            Tier::District => path.district = code,
            Tier::Region => path.region = code,
            Tier::City => path.city = code,
            Tier::Institution => {}
        }
    }
    path
}

/// A value's serde name (`negative_flow_isolation`).
fn wire<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The sources a plan for `problem`'s demands had at `now` on `view`, with what
/// a superseded plan `held` back: what the problem held before the record was
/// compacted, rebuilt the same way.
pub fn sources_for(
    view: &OneNetwork,
    problem: &SurgeProblem,
    areas: &AreaHierarchy,
    now: DateTime<Utc>,
    held: &HeldBack,
) -> Vec<Source> {
    let wanted: std::collections::BTreeSet<&Commodity> = problem
        .demands
        .iter()
        .flat_map(|d| d.needs.keys())
        .collect();
    sources_with(view, areas, now, held)
        .into_iter()
        .filter_map(|mut source| {
            source.offers.retain(|c, n| *n > 0 && wanted.contains(c));
            (!source.offers.is_empty()).then_some(source)
        })
        .collect()
}

/// Every source of the view, and what a superseded plan holds back.
pub(crate) fn sources_with(
    view: &OneNetwork,
    areas: &AreaHierarchy,
    now: DateTime<Utc>,
    held: &HeldBack,
) -> Vec<Source> {
    let mut all = sources(view, areas, now);
    supersede::offer(&mut all, held, view, areas);
    all
}

/// Every source of the view: depot stock, bed pools by class, 平急两用 venues,
/// teams on standby.
pub(crate) fn sources(view: &OneNetwork, areas: &AreaHierarchy, now: DateTime<Utc>) -> Vec<Source> {
    let mut sources = Vec::new();
    for depot in view.depots.values() {
        let offers = supplies::of_depot(depot, now)
            .into_iter()
            .map(|(item, stock)| (Commodity::supply(item.as_str()), stock.usable))
            .collect();
        sources.push(Source {
            id: format!("depot/{}", depot.id),
            kind: SourceKind::DepotStock,
            location: point(&depot.location),
            area: area_path(&depot.area, areas),
            available_after_minutes: 0,
            offers,
        });
    }
    for facility in view.facilities.values() {
        let area = area_path(&facility.area.clone().into(), areas);
        sources.extend(pool_sources(
            &format!("facility/{}", facility.id),
            &facility.pools,
            point(&facility.location),
            &area,
            now,
        ));
    }
    for (id, record) in &view.convertibles {
        let state = &record.state;
        let area = area_path(&state.area.clone().into(), areas);
        if state.phase == ConversionPhase::EmergencyActive {
            sources.extend(pool_sources(
                &format!("convertible/{id}"),
                &state.pools,
                point(&state.location),
                &area,
                now,
            ));
            continue;
        }
        for ((_, bed_type), capacity) in convertibles::capacity(std::iter::once(record), now) {
            if capacity.within_lead_time > 0 {
                sources.push(Source {
                    id: format!("convertible/{id}/{}", wire(&bed_type)),
                    kind: SourceKind::ConvertibleFacility,
                    location: point(&state.location),
                    area: area.clone(),
                    available_after_minutes: capacity.lead_time_minutes,
                    offers: BTreeMap::from([(
                        Commodity::bed(&wire(&bed_type)),
                        u64::from(capacity.within_lead_time),
                    )]),
                });
            }
        }
    }
    for team in view.teams.values() {
        if team.status.phase().name() == "standby" {
            sources.push(Source {
                id: format!("team/{}", team.id),
                kind: SourceKind::TeamBase,
                location: point(&team.base),
                area: area_path(&team.home_area, areas),
                available_after_minutes: 0,
                offers: BTreeMap::from([(Commodity::team(&wire(&team.kind)), 1)]),
            });
        }
    }
    sources
}

/// A set of bed pools as sources: one per ladder class, beds usable now at no
/// wait, the rest of what the lead time brings after it.
fn pool_sources(
    owner: &str,
    pools: &ercs_domain::beds::BedPools,
    location: Point,
    area: &AreaPath,
    now: DateTime<Utc>,
) -> Vec<Source> {
    let mut by_class: BTreeMap<(BedClass, bool), (u32, BTreeMap<Commodity, u64>)> = BTreeMap::new();
    for (key, beds, lead) in beds::of_pools(pools, now) {
        let commodity = Commodity::bed(&wire(&key.bed_type));
        let later = beds.within_lead_time.saturating_sub(beds.available_now);
        if beds.available_now > 0 {
            by_class
                .entry((key.class, false))
                .or_default()
                .1
                .insert(commodity.clone(), u64::from(beds.available_now));
        }
        if later > 0 {
            let entry = by_class.entry((key.class, true)).or_default();
            entry.0 = entry.0.max(lead);
            entry.1.insert(commodity, u64::from(later));
        }
    }
    by_class
        .into_iter()
        .map(|((class, later), (lead, offers))| Source {
            id: format!(
                "{owner}/{}{}",
                wire(&class),
                if later { "/later" } else { "" }
            ),
            kind: SourceKind::BedPool,
            location,
            area: area.clone(),
            available_after_minutes: if later { lead } else { 0 },
            offers,
        })
        .collect()
}

/// A plan as recorded on its stream. Compact: the problem is kept without its
/// sources (the whole network, which grows with the city); they are rebuilt
/// from the view as of `planned_at` when the certificate is to be re-checked
/// (`sources_as_of`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanRecord {
    pub plan_id: PlanId,
    pub request: PlanRequest,
    /// The demands and settings planned, and (in records made before the
    /// record was compacted) the sources.
    pub problem: SurgeProblem,
    /// The log position the view stood at when the plan was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_at: Option<u64>,
    /// What to start now for the need the horizon could not meet: conversions
    /// and activations, with when their beds are ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Recommendation>,
    pub plan: Plan,
    pub proposed_at: DateTime<Utc>,
    pub proposed_by: String,
    /// The digest of the request body, when it came with an `Idempotency-Key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_digest: Option<uuid::Uuid>,
    /// Present once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    /// Present once cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<CancelledBy>,
    /// For a plan that supersedes another: by assignment index, how much of it
    /// is taken over from what the superseded plan holds at that source (the
    /// rest is dispatched anew).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub takeover: BTreeMap<usize, u64>,
    /// Present once a later plan superseded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded: Option<SupersededBy>,
}

/// Which plan took a plan's place, and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SupersededBy {
    pub by: PlanId,
    pub at: DateTime<Utc>,
}

impl PlanRecord {
    /// The share of each assignment taken over from the superseded plan, in
    /// assignment order, from what that plan holds back.
    pub fn takeover_from(plan: &Plan, held: &HeldBack) -> BTreeMap<usize, u64> {
        let mut takeover = supersede::Takeover::new(held);
        plan.assignments
            .iter()
            .enumerate()
            .filter_map(|(index, a)| {
                let taken = takeover.take(&a.source, &a.commodity, a.quantity);
                (taken > 0).then_some((index, taken))
            })
            .collect()
    }
}

/// Who cancelled a plan, when, why, and how much it gave back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CancelledBy {
    pub at: DateTime<Utc>,
    pub by: String,
    pub reason: String,
    pub released: usize,
}

/// What approving did, assignment by assignment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Approval {
    pub approved_at: DateTime<Utc>,
    pub approved_by: String,
    pub dispatches: Vec<Dispatch>,
    /// Only the chosen assignments were dispatched, or only those that still
    /// fitted: the dispatcher asked for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dispatch {
    /// The assignment's index in the plan.
    pub assignment: usize,
    /// `dispatched`, `refused` (with the reason) or `needs_conversion`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// Units handed over from the superseded plan's hold at this source
    /// (the rest, if any, newly dispatched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_over: Option<u64>,
}

/// Issues the dispatch command of each assignment of `record` that `selected`
/// names. An assignment that takes over part of a superseded plan's hold moves
/// that part first, then dispatches only the rest. A step the domain refuses is
/// reported as refused; a step the log could not take stops the approval
/// (nothing is recorded as approved, and a retry resumes).
pub async fn dispatch(
    aggregates: &ercs_commands::Aggregates,
    record: &PlanRecord,
    selected: &[usize],
    acting: &crate::acting::Acting,
) -> Result<Vec<Dispatch>, CommandError<DomainError>> {
    let mut dispatches = Vec::new();
    for &index in selected {
        let Some(assignment) = record.plan.assignments.get(index) else {
            continue;
        };
        let taken = record.takeover.get(&index).copied().unwrap_or(0);
        let moved = match (taken, record.request.supersedes) {
            (0, _) | (_, None) => Ok(None),
            (units, Some(from)) => {
                let metadata = step_metadata(record, acting, takeover_key(record.plan_id, index));
                let plans = (from, record.plan_id);
                move_hold(
                    aggregates, record, plans, assignment, units, acting, &metadata,
                )
                .await
            }
        };
        let rest = assignment.quantity - taken.min(assignment.quantity);
        let outcome = match moved {
            Err(undispatched) => Err(undispatched),
            Ok(moved) if rest == 0 => Ok((
                moved
                    .as_ref()
                    .map_or("team kept", |(c, _)| c.as_str())
                    .to_owned(),
                moved.and_then(|(_, p)| p),
            )),
            Ok(_) => {
                let rest_of = ercs_routing::Assignment {
                    quantity: rest,
                    ..assignment.clone()
                };
                let metadata = step_metadata(record, acting, step_key(record.plan_id, index));
                dispatch_one(aggregates, record, &rest_of, acting, &metadata).await
            }
        };
        let dispatch = |outcome: &str, command: Option<String>, detail: Option<String>| Dispatch {
            assignment: index,
            outcome: outcome.into(),
            command,
            detail,
            position: None,
            taken_over: (taken > 0).then_some(taken),
        };
        dispatches.push(match outcome {
            Ok((command, executed_position)) => Dispatch {
                position: executed_position,
                ..dispatch("dispatched", Some(command), None)
            },
            Err(Undispatched::NeedsConversion) => dispatch(
                "needs_conversion",
                None,
                Some("start and complete the venue's conversion, then reserve its beds".into()),
            ),
            Err(Undispatched::Refused(command, detail)) => {
                dispatch("refused", Some(command), Some(detail))
            }
            Err(Undispatched::Failed(error)) => return Err(error),
        });
    }
    Ok(dispatches)
}

pub fn step_metadata(record: &PlanRecord, acting: &crate::acting::Acting, key: String) -> Metadata {
    acting.step(key).with_plan(record.plan_id.as_uuid())
}

/// The key of the step that takes over an assignment's share of the superseded
/// plan's hold.
pub fn takeover_key(plan: PlanId, assignment: usize) -> String {
    format!("plan/{plan}/assignment/{assignment}/takeover")
}

/// The key of the step that gives an assignment's takeover back to the
/// superseded plan, when the approval is undone.
pub fn hand_back_key(plan: PlanId, assignment: usize) -> String {
    format!("plan/{plan}/assignment/{assignment}/hand-back")
}

/// Moves `units` of the hold at `assignment`'s source from `plans.0` to
/// `plans.1`: a superseding plan taking over, or handing back when its approval
/// is undone. A team is kept as it is: it is committed to the incident, not to
/// a plan. Returns the command and its position, `None` for a team.
pub(crate) async fn move_hold(
    aggregates: &ercs_commands::Aggregates,
    record: &PlanRecord,
    (from, to): (PlanId, PlanId),
    assignment: &ercs_routing::Assignment,
    units: u64,
    acting: &crate::acting::Acting,
    metadata: &Metadata,
) -> Result<Option<(String, Option<u64>)>, Undispatched> {
    let actor = &acting.actor;
    let parts: Vec<&str> = assignment.source.split('/').collect();
    let units32 = u32::try_from(units).unwrap_or(u32::MAX);
    let unreadable = |what: &str| {
        Undispatched::Refused(
            "move reservation".into(),
            format!("cannot read {what} of source {}", assignment.source),
        )
    };
    let run = Run {
        aggregates,
        actor,
        metadata,
        at: acting.at,
    };
    let moved = |class: &str| -> Result<BedCommand, Undispatched> {
        Ok(BedCommand::MoveReservation {
            from,
            to,
            bed_type: supersede::bed_type(&assignment.commodity)
                .ok_or_else(|| unreadable("the bed type"))?,
            class: parse_wire(class).ok_or_else(|| unreadable("the ladder class"))?,
            beds: units32,
            incident: record.request.incident,
        })
    };
    let done = match (assignment.commodity.kind, parts.as_slice()) {
        (CommodityKind::Bed, ["facility", raw, class]) => {
            let command = FacilityCommand::Beds(moved(class)?);
            let id = parse_id(raw, &assignment.source)?;
            run.execute::<Facility, _>("facility move_reservation", &id, command)
                .await?
        }
        (CommodityKind::Bed, ["convertible", raw, class]) => {
            let command = ConvertibleCommand::Beds(moved(class)?);
            let id = parse_id(raw, &assignment.source)?;
            run.execute::<ConvertibleFacility, _>("convertible move_reservation", &id, command)
                .await?
        }
        (CommodityKind::Supply, ["depot", raw]) => {
            let command = DepotCommand::MoveReservation {
                from,
                to,
                item: ItemCode::parse(&assignment.commodity.code)
                    .map_err(|_| unreadable("the item"))?,
                quantity: Quantity::new(units32),
                reason: Reason::parse(format!("plan {to} takes over from plan {from}"))
                    .expect("a valid reason"),
                incident: record.request.incident,
            };
            let id = parse_id(raw, &assignment.source)?;
            run.execute::<Depot, _>("depot move_reservation", &id, command)
                .await?
        }
        (CommodityKind::Team, ["team", _]) => return Ok(None),
        _ => return Err(unreadable("a reservation")),
    };
    Ok(Some(done))
}

/// The key of an approval's dispatch step for one assignment.
pub fn step_key(plan: PlanId, assignment: usize) -> String {
    format!("plan/{plan}/assignment/{assignment}")
}

/// Why an assignment was not dispatched.
pub(crate) enum Undispatched {
    NeedsConversion,
    Refused(String, String),
    /// Not the domain's refusal: the log failed, or history cannot be read.
    Failed(CommandError<DomainError>),
}

async fn dispatch_one(
    aggregates: &ercs_commands::Aggregates,
    record: &PlanRecord,
    assignment: &ercs_routing::Assignment,
    acting: &crate::acting::Acting,
    metadata: &Metadata,
) -> Result<(String, Option<u64>), Undispatched> {
    let actor = &acting.actor;
    let plan = record.plan_id;
    let parts: Vec<&str> = assignment.source.split('/').collect();
    let code = assignment.commodity.code.as_str();
    let quantity = u32::try_from(assignment.quantity).unwrap_or(u32::MAX);
    let refuse = |what: &str| {
        Undispatched::Refused(
            what.to_owned(),
            format!("cannot read {what} of source {}", assignment.source),
        )
    };
    let reserve_beds = |class: &str| -> Result<BedCommand, Undispatched> {
        Ok(BedCommand::Reserve {
            incident: record.request.incident,
            plan,
            bed_type: parse_wire(code).ok_or_else(|| refuse("the bed type"))?,
            class: parse_wire(class).ok_or_else(|| refuse("the ladder class"))?,
            beds: quantity,
        })
    };
    let run = Run {
        aggregates,
        actor,
        metadata,
        at: acting.at,
    };
    match (assignment.commodity.kind, parts.as_slice()) {
        (CommodityKind::Bed, ["facility", raw, class, ..]) => {
            let command = FacilityCommand::Beds(reserve_beds(class)?);
            run.execute::<Facility, _>(
                "facility reserve",
                &parse_id(raw, &assignment.source)?,
                command,
            )
            .await
        }
        (CommodityKind::Bed, ["convertible", raw, class, ..])
            if parse_wire::<BedClass>(class).is_some() =>
        {
            let command = ConvertibleCommand::Beds(reserve_beds(class)?);
            run.execute::<ConvertibleFacility, _>(
                "convertible reserve",
                &parse_id(raw, &assignment.source)?,
                command,
            )
            .await
        }
        (CommodityKind::Bed, ["convertible", ..]) => Err(Undispatched::NeedsConversion),
        (CommodityKind::Supply, ["depot", raw]) => {
            let command = DepotCommand::Reserve {
                incident: record.request.incident,
                plan,
                item: ItemCode::parse(code).map_err(|_| refuse("the item"))?,
                quantity: Quantity::new(quantity),
                reason: Reason::parse(format!("surge plan {plan}")).expect("a valid reason"),
                expiry_margin_days: None,
            };
            run.execute::<Depot, _>(
                "depot reserve",
                &parse_id(raw, &assignment.source)?,
                command,
            )
            .await
        }
        (CommodityKind::Team, ["team", raw]) => {
            let Some(incident) = record.request.incident else {
                return Err(Undispatched::Refused(
                    "team mobilise".into(),
                    "a team is mobilised for an incident; this plan names none".into(),
                ));
            };
            // En route to the demand's point, expected when the plan says it arrives.
            let destination = record
                .problem
                .demands
                .iter()
                .find(|d| d.id == assignment.demand)
                .and_then(|d| GeoPoint::new(d.location.lon, d.location.lat).ok());
            let travel =
                chrono::Duration::seconds((assignment.arrival_minutes * 60.0).round() as i64);
            let mobilise = TeamCommand::Mobilise {
                incident,
                destination,
                expected_arrival: Some(run.at + travel),
            };
            run.execute::<Team, _>(
                "team mobilise",
                &parse_id(raw, &assignment.source)?,
                mobilise,
            )
            .await
        }
        _ => Err(refuse("a dispatch command")),
    }
}

/// Runs one dispatch command as the approving actor, with the plan's metadata.
struct Run<'a> {
    aggregates: &'a ercs_commands::Aggregates,
    actor: &'a Actor,
    metadata: &'a Metadata,
    /// The one instant the step is decided at: an expected arrival computed
    /// from it is never before it, even for a team already at the site.
    at: DateTime<Utc>,
}

impl Run<'_> {
    async fn execute<D, C>(
        &self,
        label: &str,
        id: &D::Id,
        command: C,
    ) -> Result<(String, Option<u64>), Undispatched>
    where
        D: Decider<Error = DomainError, Command = Stamped<C>>,
        D::Event: DomainEvent,
        C: Clone,
    {
        let command = Stamped {
            context: CommandContext::new(self.actor.clone(), self.at),
            command,
        };
        match self
            .aggregates
            .execute::<D>(id, Expect::Latest, command, self.metadata)
            .await
        {
            Ok(Executed { position, .. }) => Ok((label.to_owned(), position.map(|p| p.0))),
            Err(CommandError::Rejected(refusal)) => {
                Err(Undispatched::Refused(label.to_owned(), refusal.to_string()))
            }
            Err(error) => Err(Undispatched::Failed(error)),
        }
    }
}

fn parse_id<T: std::str::FromStr>(raw: &str, source: &str) -> Result<T, Undispatched> {
    raw.parse().map_err(|_| {
        Undispatched::Refused(
            "none".into(),
            format!("cannot read the id of source {source}"),
        )
    })
}

pub(crate) fn parse_wire<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}
