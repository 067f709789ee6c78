use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ConversionPhase, ConvertibleCommand, ConvertibleEvent, PeacetimeUse, event::*};
use crate::DomainError;
use crate::area::DivisionCode;
use crate::beds::{BedPools, BedType};
use crate::decider::{Decider, Stamped, registered, unregistered};
use crate::geo::GeoPoint;
use crate::ids::FacilityId;
use crate::lifecycle::Lifecycle;
use crate::values::{ChecklistItem, Name, after_minutes};

/// The convertible facility aggregate; stream `convertible-<uuid>`.
pub struct ConvertibleFacility;

/// A conversion under way or in effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversion {
    #[cfg_attr(feature = "openapi", schema(example = "2025-07-02T08:00:00Z"))]
    pub ready_by: DateTime<Utc>,
    pub target_beds: BTreeMap<BedType, u32>,
    /// Each readiness item and whether it is done.
    pub checklist: BTreeMap<ChecklistItem, bool>,
}

/// A registered convertible facility as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConvertibleState {
    pub id: FacilityId,
    pub name: Name,
    pub peacetime_use: PeacetimeUse,
    pub area: DivisionCode,
    pub location: GeoPoint,
    /// The registered plan: emergency beds by type. A conversion may aim elsewhere.
    pub planned_beds: BTreeMap<BedType, u32>,
    /// The registered plan: minutes from starting a conversion to being ready.
    pub lead_time_minutes: u32,
    pub phase: ConversionPhase,
    pub conversion: Option<Conversion>,
    /// Empty outside emergency use.
    pub pools: BedPools,
}

impl Decider for ConvertibleFacility {
    type State = Option<ConvertibleState>;
    type Command = Stamped<ConvertibleCommand>;
    type Event = ConvertibleEvent;
    type Error = DomainError;
    type Id = FacilityId;
    const STREAM_PREFIX: &'static str = "convertible";

    fn decide(
        state: &Self::State,
        stamped: Self::Command,
    ) -> Result<Vec<ConvertibleEvent>, DomainError> {
        let at = stamped.context.at;
        if let ConvertibleCommand::Register {
            facility_id,
            name,
            peacetime_use,
            area,
            location,
            planned_beds,
            lead_time_minutes,
        } = stamped.command
        {
            unregistered(state, "convertible facility", facility_id)?;
            check_beds("planned_beds", &planned_beds)?;
            check_planned_lead_time(lead_time_minutes, at)?;
            return Ok(vec![
                ConvertibleFacilityRegistered {
                    facility_id,
                    name,
                    peacetime_use,
                    area,
                    location,
                    at,
                    planned_beds,
                    lead_time_minutes,
                }
                .into(),
            ]);
        }
        let facility = registered(state, "convertible facility")?;
        if let Some(action) = stamped.command.action() {
            facility.phase.step(action)?;
        }
        decide_for(facility, stamped.command, at)
    }

    fn evolve(state: Self::State, event: &ConvertibleEvent) -> Self::State {
        match (state, event) {
            (_, ConvertibleEvent::ConvertibleFacilityRegistered(e)) => Some(ConvertibleState {
                id: e.facility_id,
                name: e.name.clone(),
                peacetime_use: e.peacetime_use,
                area: e.area.clone(),
                location: e.location,
                planned_beds: e.planned_beds.clone(),
                lead_time_minutes: e.lead_time_minutes,
                phase: ConversionPhase::Peacetime,
                conversion: None,
                pools: BedPools::default(),
            }),
            (Some(facility), event) => Some(facility.apply(event)),
            (None, _) => None,
        }
    }
}

/// Decides a command the lifecycle already allows.
fn decide_for(
    facility: &ConvertibleState,
    command: ConvertibleCommand,
    at: DateTime<Utc>,
) -> Result<Vec<ConvertibleEvent>, DomainError> {
    let facility_id = facility.id;
    let event = match command {
        ConvertibleCommand::StartConversion {
            lead_time_minutes,
            target_beds,
            checklist,
        } => {
            check_beds("target_beds", &target_beds)?;
            let ready_by = after_minutes(at, lead_time_minutes, "lead_time_minutes")?;
            ConversionStarted {
                facility_id,
                ready_by,
                target_beds,
                checklist,
                at,
            }
            .into()
        }
        ConvertibleCommand::CompleteReadinessItem { item } => {
            check_open_item(facility, &item)?;
            ReadinessItemCompleted {
                facility_id,
                item,
                at,
            }
            .into()
        }
        ConvertibleCommand::CancelConversion { reason } => ConversionCancelled {
            facility_id,
            reason,
            at,
        }
        .into(),
        ConvertibleCommand::ActivateEmergencyUse { early } => {
            let conversion = check_ready(facility)?;
            check_lead_time(facility, conversion, early.is_some(), at)?;
            EmergencyUseActivated {
                facility_id,
                target_beds: conversion.target_beds.clone(),
                at,
                early,
            }
            .into()
        }
        ConvertibleCommand::Beds(command) => {
            let events = facility.pools.decide(facility_id, command, at)?;
            return Ok(events.into_iter().map(ConvertibleEvent::Beds).collect());
        }
        ConvertibleCommand::StartRecovery => {
            facility
                .pools
                .check_idle(format!("convertible facility {}", facility.name))?;
            RecoveryStarted { facility_id, at }.into()
        }
        ConvertibleCommand::CompleteRecovery => RecoveryCompleted { facility_id, at }.into(),
        ConvertibleCommand::Register { facility_id, .. } => {
            return Err(DomainError::already_exists(
                "convertible facility",
                facility_id,
            ));
        }
    };
    Ok(vec![event])
}

/// 规范扩容 — a plan or a conversion names at least one bed type, each with at least
/// one bed.
fn check_beds(field: &'static str, beds: &BTreeMap<BedType, u32>) -> Result<(), DomainError> {
    if beds.is_empty() || beds.values().any(|&n| n == 0) {
        return Err(DomainError::invalid(
            field,
            "name at least one bed type, each with at least one bed",
        ));
    }
    Ok(())
}

/// A planned conversion takes some time, and no more than a conversion started now
/// could be given (the same calendar bound as `StartConversion`).
fn check_planned_lead_time(minutes: u32, at: DateTime<Utc>) -> Result<(), DomainError> {
    if minutes == 0 {
        return Err(DomainError::invalid(
            "lead_time_minutes",
            "a planned conversion takes at least one minute",
        ));
    }
    after_minutes(at, minutes, "lead_time_minutes").map(|_| ())
}

fn check_open_item(facility: &ConvertibleState, item: &ChecklistItem) -> Result<(), DomainError> {
    let done = facility
        .conversion
        .as_ref()
        .and_then(|c| c.checklist.get(item));
    match done {
        None => Err(DomainError::not_found("readiness item", item)),
        Some(true) => Err(DomainError::already_exists(
            "completed readiness item",
            item,
        )),
        Some(false) => Ok(()),
    }
}

/// The conversion, if every readiness item is done.
fn check_ready(facility: &ConvertibleState) -> Result<&Conversion, DomainError> {
    let conversion = facility
        .conversion
        .as_ref()
        .ok_or_else(|| facility.phase.refuse("activate_emergency_use"))?;
    let missing: Vec<&str> = conversion
        .checklist
        .iter()
        .filter(|(_, done)| !**done)
        .map(|(item, _)| item.as_str())
        .collect();
    if missing.is_empty() {
        Ok(conversion)
    } else {
        Err(DomainError::NotReady {
            what: format!("conversion of {}", facility.name),
            missing: missing.join(", "),
        })
    }
}

/// 有序转换 — the lead time is honoured unless the dispatcher opens early, saying why;
/// `early` is refused once the lead time has passed, so the log never calls an
/// on-time activation early.
fn check_lead_time(
    facility: &ConvertibleState,
    conversion: &Conversion,
    early: bool,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    let due = at >= conversion.ready_by;
    match (due, early) {
        (true, false) | (false, true) => Ok(()),
        (false, false) => Err(DomainError::NotReady {
            what: format!("conversion of {}", facility.name),
            missing: format!(
                "lead time runs until {}; give `early` with a reason to open now",
                conversion.ready_by
            ),
        }),
        (true, true) => Err(DomainError::invalid(
            "early",
            format!(
                "the lead time passed at {}; this activation is not early",
                conversion.ready_by
            ),
        )),
    }
}

impl ConvertibleState {
    fn apply(mut self, event: &ConvertibleEvent) -> Self {
        match event {
            ConvertibleEvent::ConvertibleFacilityRegistered(_) => {}
            ConvertibleEvent::ConversionStarted(e) => {
                self.phase = ConversionPhase::Converting;
                let checklist = e
                    .checklist
                    .iter()
                    .map(|item| (item.clone(), false))
                    .collect();
                self.conversion = Some(Conversion {
                    ready_by: e.ready_by,
                    target_beds: e.target_beds.clone(),
                    checklist,
                });
            }
            ConvertibleEvent::ReadinessItemCompleted(e) => {
                if let Some(done) = self
                    .conversion
                    .as_mut()
                    .and_then(|c| c.checklist.get_mut(&e.item))
                {
                    *done = true;
                }
            }
            ConvertibleEvent::EmergencyUseActivated(e) => {
                self.phase = ConversionPhase::EmergencyActive;
                self.pools = BedPools::open_designated(&e.target_beds, e.at);
            }
            ConvertibleEvent::Beds(e) => self.pools.apply(e),
            ConvertibleEvent::RecoveryStarted(_) => self.phase = ConversionPhase::Recovering,
            ConvertibleEvent::ConversionCancelled(_) | ConvertibleEvent::RecoveryCompleted(_) => {
                self.phase = ConversionPhase::Peacetime;
                self.conversion = None;
                self.pools = BedPools::default();
            }
        }
        self
    }
}
