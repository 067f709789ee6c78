//! The Rust side of the event schema: every event payload and nested record declares
//! its protobuf message name and field numbers (see the `message!` macro), and this
//! registry lists them all, with each event's schema version and the values of every
//! enumeration an event carries. `tests/proto_drift.rs` compares it with `proto/ercs/v1`.
//!
//! Enumerations travel as snake_case strings (what serde writes to the log), not as
//! proto `enum`s, whose JSON mapping would use the proto value names instead. The
//! proto files declare each one's values in a comment, `// enum BedClass: designated,
//! rapid_expansion, rapid_vacate`, and mark each field that holds one with a trailing
//! `// enum BedClass`; the drift test compares those values with [`enum_schemas`].

use serde::Serialize;

use crate::event::DomainEvent;

/// One field of a message: its protobuf number and its name (the serde name too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSchema {
    pub number: u32,
    pub name: &'static str,
}

/// A message as the Rust side declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSchema {
    pub name: &'static str,
    pub fields: &'static [FieldSchema],
}

/// A type that is one protobuf message of the event schema.
pub trait Message {
    const SCHEMA: MessageSchema;
}

/// Every event payload, across all aggregates (each once).
pub fn event_schemas() -> Vec<&'static MessageSchema> {
    let mut all: Vec<&'static MessageSchema> = Vec::new();
    all.extend(crate::team::TeamEvent::schemas());
    all.extend(crate::supply::ItemEvent::schemas());
    all.extend(crate::supply::DepotEvent::schemas());
    all.extend(crate::beds::FacilityEvent::schemas());
    all.extend(crate::convertible::ConvertibleEvent::schemas());
    all.extend(crate::incident::IncidentEvent::schemas());
    // Bed events are nested in both facility kinds; list them once.
    let mut seen = std::collections::BTreeSet::new();
    all.retain(|schema| seen.insert(schema.name));
    all
}

/// The nested records that events carry.
pub fn record_schemas() -> Vec<&'static MessageSchema> {
    vec![
        &<crate::geo::GeoPoint as Message>::SCHEMA,
        &<crate::supply::ItemDetails as Message>::SCHEMA,
        &<crate::supply::LotPick as Message>::SCHEMA,
        &<crate::supply::Delivery as Message>::SCHEMA,
        &<crate::beds::BedCounts as Message>::SCHEMA,
    ]
}

/// Every event type with the schema version it is written at today.
pub fn event_versions() -> Vec<(&'static str, u16)> {
    let mut all = Vec::new();
    all.extend(crate::team::TeamEvent::versions());
    all.extend(crate::supply::ItemEvent::versions());
    all.extend(crate::supply::DepotEvent::versions());
    all.extend(crate::beds::FacilityEvent::versions());
    all.extend(crate::convertible::ConvertibleEvent::versions());
    all.extend(crate::incident::IncidentEvent::versions());
    let mut seen = std::collections::BTreeSet::new();
    all.retain(|(name, _)| seen.insert(*name));
    all
}

/// An enumeration carried in events, with the strings its values serialize to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumSchema {
    pub name: &'static str,
    /// The serde names; `prefix*` stands for any value starting with `prefix`.
    pub values: Vec<String>,
}

/// Every enumeration that events carry.
pub fn enum_schemas() -> Vec<EnumSchema> {
    use crate::{area, beds, convertible, incident, supply, team};
    let mut team_kinds = values_of("TeamKind", &team::kind_names());
    team_kinds
        .values
        .push(format!("{}*", team::kind_custom_prefix()));
    vec![
        values_of("Tier", area::Tier::ALL),
        values_of("BedType", &beds::BedType::ALL),
        values_of("BedClass", beds::BedClass::ALL),
        values_of("FacilityKind", beds::FacilityKind::ALL),
        values_of("PeacetimeUse", convertible::PeacetimeUse::ALL),
        values_of("IncidentKind", incident::IncidentKind::ALL),
        values_of("ResponseLevel", incident::ResponseLevel::ALL),
        values_of("SupplyCategory", supply::SupplyCategory::ALL),
        values_of("ReserveTier", supply::ReserveTier::ALL),
        values_of("WriteOffCause", supply::WriteOffCause::ALL),
        team_kinds,
    ]
}

fn values_of<T: Serialize>(name: &'static str, all: &[T]) -> EnumSchema {
    let values = all
        .iter()
        .map(|value| match serde_json::to_value(value) {
            Ok(serde_json::Value::String(s)) => s,
            other => format!("{other:?}"),
        })
        .collect();
    EnumSchema { name, values }
}
