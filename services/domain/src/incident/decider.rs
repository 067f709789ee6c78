use crate::geo::GeoPoint;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{IncidentCommand, IncidentEvent, IncidentKind, ResponseLevel, event::*};
use crate::DomainError;
use crate::area::DivisionCode;
use crate::beds::BedType;
use crate::decider::{CommandContext, Decider, Stamped, registered, unregistered};
use crate::ids::IncidentId;
use crate::lifecycle::Lifecycle;
use crate::supply::ItemCode;
use crate::team::TeamKind;
use crate::values::{Name, Quantity};

/// The incident aggregate; stream `incident-<uuid>`.
pub struct Incident;

/// Open until closed; a closed incident takes no more commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentPhase {
    Open,
    Closed,
}

impl Lifecycle for IncidentPhase {
    const AGGREGATE: &'static str = "incident";
    const TRANSITIONS: &'static [(Self, &'static str, Self)] = &[
        (Self::Open, "raise_level", Self::Open),
        (Self::Open, "lower_level", Self::Open),
        (Self::Open, "extend_affected_areas", Self::Open),
        (Self::Open, "record_bed_demand", Self::Open),
        (Self::Open, "record_supply_demand", Self::Open),
        (Self::Open, "record_team_demand", Self::Open),
        (Self::Open, "close", Self::Closed),
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

/// A declared incident as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentState {
    pub id: IncidentId,
    pub kind: IncidentKind,
    pub level: ResponseLevel,
    pub title: Name,
    pub affected_areas: BTreeSet<DivisionCode>,
    pub declared_at: DateTime<Utc>,
    /// Where it happened, when the declaration said.
    pub location: Option<GeoPoint>,
    pub phase: IncidentPhase,
    #[serde(with = "crate::map_as_pairs")]
    pub bed_demand: BTreeMap<(BedType, DivisionCode), u32>,
    #[serde(with = "crate::map_as_pairs")]
    pub supply_demand: BTreeMap<(ItemCode, DivisionCode), Quantity>,
    pub team_demand: BTreeMap<TeamKind, u32>,
}

impl IncidentState {
    /// True when `area` lies within one of the affected areas.
    pub fn affects(&self, area: &DivisionCode) -> bool {
        self.affected_areas
            .iter()
            .any(|affected| affected.contains(area))
    }
}

impl Decider for Incident {
    type State = Option<IncidentState>;
    type Command = Stamped<IncidentCommand>;
    type Event = IncidentEvent;
    type Error = DomainError;
    type Id = IncidentId;
    const STREAM_PREFIX: &'static str = "incident";

    fn decide(
        state: &Self::State,
        stamped: Self::Command,
    ) -> Result<Vec<IncidentEvent>, DomainError> {
        let Stamped { context, command } = stamped;
        if let IncidentCommand::Declare {
            incident_id,
            kind,
            level,
            title,
            affected_areas,
            location,
        } = command
        {
            unregistered(state, "incident", incident_id)?;
            check_some_areas(&affected_areas, "affected_areas")?;
            let CommandContext { actor: by, at } = context;
            return Ok(vec![
                IncidentDeclared {
                    incident_id,
                    kind,
                    level,
                    title,
                    affected_areas,
                    by,
                    at,
                    location,
                }
                .into(),
            ]);
        }
        let incident = registered(state, "incident")?;
        if let Some(action) = command.action() {
            incident.phase.step(action)?;
        }
        decide_for(incident, command, context).map(|event| vec![event])
    }

    fn evolve(state: Self::State, event: &IncidentEvent) -> Self::State {
        match (state, event) {
            (_, IncidentEvent::IncidentDeclared(e)) => Some(IncidentState {
                id: e.incident_id,
                kind: e.kind,
                level: e.level,
                title: e.title.clone(),
                affected_areas: e.affected_areas.clone(),
                declared_at: e.at,
                location: e.location,
                phase: IncidentPhase::Open,
                bed_demand: BTreeMap::new(),
                supply_demand: BTreeMap::new(),
                team_demand: BTreeMap::new(),
            }),
            (Some(incident), event) => Some(incident.apply(event)),
            (None, _) => None,
        }
    }
}

fn decide_for(
    incident: &IncidentState,
    command: IncidentCommand,
    context: CommandContext,
) -> Result<IncidentEvent, DomainError> {
    let (incident_id, from) = (incident.id, incident.level);
    let CommandContext { actor: by, at } = context;
    Ok(match command {
        IncidentCommand::RaiseLevel { level: to, reason } => {
            check_level(to.is_more_severe_than(from), from, to, "more")?;
            ResponseLevelRaised {
                incident_id,
                from,
                to,
                reason,
                by,
                at,
            }
            .into()
        }
        IncidentCommand::LowerLevel { level: to, reason } => {
            check_level(from.is_more_severe_than(to), from, to, "less")?;
            ResponseLevelLowered {
                incident_id,
                from,
                to,
                reason,
                by,
                at,
            }
            .into()
        }
        IncidentCommand::ExtendAffectedAreas { areas } => {
            let areas: BTreeSet<_> = areas
                .into_iter()
                .filter(|a| !incident.affected_areas.contains(a))
                .collect();
            check_some_areas(&areas, "areas")?;
            AffectedAreasExtended {
                incident_id,
                areas,
                at,
            }
            .into()
        }
        IncidentCommand::RecordBedDemand {
            bed_type,
            township,
            beds,
        } => {
            if !township.is_township() {
                return Err(DomainError::invalid(
                    "township",
                    format!("{township} is not a nine-digit township code"),
                ));
            }
            check_affected(incident, &township, "township")?;
            BedDemandRecorded {
                incident_id,
                bed_type,
                township,
                beds,
                at,
            }
            .into()
        }
        IncidentCommand::RecordSupplyDemand {
            item,
            area,
            quantity,
        } => {
            check_affected(incident, &area, "area")?;
            SupplyDemandRecorded {
                incident_id,
                item,
                area,
                quantity,
                at,
            }
            .into()
        }
        IncidentCommand::RecordTeamDemand { kind, teams } => TeamDemandRecorded {
            incident_id,
            kind,
            teams,
            at,
        }
        .into(),
        // Releasing what the incident holds spans other aggregates: the edge
        // runs that process before this command.
        IncidentCommand::Close { reason, .. } => IncidentClosed {
            incident_id,
            reason,
            by,
            at,
        }
        .into(),
        IncidentCommand::Declare { incident_id, .. } => {
            return Err(DomainError::already_exists("incident", incident_id));
        }
    })
}

fn check_level(
    moves_the_right_way: bool,
    from: ResponseLevel,
    to: ResponseLevel,
    direction: &str,
) -> Result<(), DomainError> {
    if moves_the_right_way {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "level",
            format!("{to:?} is not {direction} severe than the current {from:?}"),
        ))
    }
}

fn check_some_areas(
    areas: &BTreeSet<DivisionCode>,
    field: &'static str,
) -> Result<(), DomainError> {
    if areas.is_empty() {
        Err(DomainError::invalid(
            field,
            "name at least one area not already affected",
        ))
    } else {
        Ok(())
    }
}

/// Demand is posted only where the incident is; extend the areas first otherwise.
fn check_affected(
    incident: &IncidentState,
    area: &DivisionCode,
    field: &'static str,
) -> Result<(), DomainError> {
    if incident.affects(area) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("{area} is outside the affected areas; extend them first"),
        ))
    }
}

/// Sets a demand line; zero withdraws it.
fn set_demand<K: Ord, V: PartialEq + Default>(lines: &mut BTreeMap<K, V>, key: K, value: V) {
    if value == V::default() {
        lines.remove(&key);
    } else {
        lines.insert(key, value);
    }
}

impl IncidentState {
    fn apply(mut self, event: &IncidentEvent) -> Self {
        match event {
            IncidentEvent::IncidentDeclared(_) => {}
            IncidentEvent::ResponseLevelRaised(e) => self.level = e.to,
            IncidentEvent::ResponseLevelLowered(e) => self.level = e.to,
            IncidentEvent::AffectedAreasExtended(e) => {
                self.affected_areas.extend(e.areas.iter().cloned())
            }
            IncidentEvent::BedDemandRecorded(e) => set_demand(
                &mut self.bed_demand,
                (e.bed_type, e.township.clone()),
                e.beds,
            ),
            IncidentEvent::SupplyDemandRecorded(e) => {
                set_demand(
                    &mut self.supply_demand,
                    (e.item.clone(), e.area.clone()),
                    e.quantity,
                );
            }
            IncidentEvent::TeamDemandRecorded(e) => {
                set_demand(&mut self.team_demand, e.kind.clone(), e.teams)
            }
            IncidentEvent::IncidentClosed(_) => self.phase = IncidentPhase::Closed,
        }
        self
    }
}
