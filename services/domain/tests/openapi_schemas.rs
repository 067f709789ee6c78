//! The OpenAPI schemas tell the truth about the wire, in both directions.
//!
//! 1. Every command sample (every variant of every command enum) and every state the
//!    deciders leave, serialized by serde, fits the schema of its type; every variant
//!    of every enum with data is taken by some sample.
//! 2. Every value the schemas describe, built from their examples, is read by serde:
//!    one per `oneOf` branch of every schema.
//! 3. Every example is read by serde and fits its own schema, and every leaf schema
//!    (ids, codes, names, numbers, enums) has one.
//! 4. For the leaf schemas, serde and the schema accept exactly the same values over a
//!    set of probes (lengths, characters, ranges, digits), so a pattern or bound that
//!    drifts from the parse fails here.
//! 5. An unknown field is refused by the schema exactly where serde refuses it.

#![cfg(feature = "openapi")]

#[path = "support/json_schema.rs"]
mod json_schema;
#[path = "support/wire.rs"]
mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use utoipa::ToSchema;

use ercs_domain::area::*;
use ercs_domain::beds::*;
use ercs_domain::convertible::*;
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::*;
use ercs_domain::incident::*;
use ercs_domain::openapi::openapi_components;
use ercs_domain::supply::*;
use ercs_domain::team::*;
use ercs_domain::values::*;
use json_schema::Components;

fn components() -> &'static Components {
    static COMPONENTS: OnceLock<Components> = OnceLock::new();
    COMPONENTS.get_or_init(|| Components::new(openapi_components()))
}

/// Serde's reading of a value into a type, written back out.
type Reader = fn(Value) -> Result<Value, String>;

fn read<T: DeserializeOwned + Serialize>(value: Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(value).map_err(|e| e.to_string())?;
    Ok(serde_json::to_value(typed).unwrap())
}

fn reader<T: DeserializeOwned + Serialize + ToSchema>() -> (String, Reader) {
    (T::name().into_owned(), read::<T>)
}

/// Serde for every schema `openapi_components()` returns, by schema name.
fn readers() -> BTreeMap<String, Reader> {
    BTreeMap::from([
        reader::<Actor>(),
        reader::<AreaCode>(),
        reader::<BedClass>(),
        reader::<BedCommand>(),
        reader::<BedCounts>(),
        reader::<BedPool>(),
        reader::<BedPools>(),
        reader::<BedType>(),
        reader::<CapabilityTag>(),
        reader::<ChecklistItem>(),
        reader::<Conversion>(),
        reader::<ConversionPhase>(),
        reader::<ConvertibleCommand>(),
        reader::<ConvertibleState>(),
        reader::<CustomKind>(),
        reader::<DepotCommand>(),
        reader::<DepotId>(),
        reader::<DepotState>(),
        reader::<Delivery>(),
        reader::<DivisionCode>(),
        reader::<FacilityCommand>(),
        reader::<FacilityId>(),
        reader::<FacilityKind>(),
        reader::<FacilityState>(),
        reader::<GeoPoint>(),
        reader::<Headcount>(),
        reader::<IncidentCommand>(),
        reader::<IncidentId>(),
        reader::<IncidentKind>(),
        reader::<ItemCode>(),
        reader::<ItemCommand>(),
        reader::<ItemDetails>(),
        reader::<ItemPhase>(),
        reader::<ItemState>(),
        reader::<Lot>(),
        reader::<LotNumber>(),
        reader::<LotPick>(),
        reader::<Name>(),
        reader::<Outbound>(),
        reader::<PeacetimeUse>(),
        reader::<PlanId>(),
        reader::<PoolKey>(),
        reader::<Quantity>(),
        reader::<Reason>(),
        reader::<RegionSlug>(),
        reader::<ReserveTier>(),
        reader::<ResponseLevel>(),
        reader::<ShelfLife>(),
        reader::<Shipment>(),
        reader::<ShipmentId>(),
        reader::<ShipmentState>(),
        reader::<SupplyCategory>(),
        reader::<TeamCommand>(),
        reader::<TeamId>(),
        reader::<TeamKind>(),
        reader::<TeamState>(),
        reader::<TeamStatus>(),
        reader::<Tier>(),
        reader::<TransferId>(),
        reader::<Unit>(),
        reader::<WriteOffCause>(),
    ])
}

fn reader_for(name: &str) -> Reader {
    *readers()
        .get(name)
        .unwrap_or_else(|| panic!("no reader for {name}"))
}

#[test]
fn every_schema_has_a_unique_name_a_reader_and_resolvable_refs() {
    let named: Vec<String> = openapi_components().into_iter().map(|(n, _)| n).collect();
    let unique: BTreeSet<&String> = named.iter().collect();
    assert_eq!(unique.len(), named.len(), "duplicate schema names");
    let readers: BTreeSet<String> = readers().into_keys().collect();
    let named: BTreeSet<String> = named.into_iter().collect();
    assert_eq!(named, readers, "schemas and readers differ");
    for (name, schema) in &components().schemas {
        for target in refs(schema) {
            assert!(
                components().schemas.contains_key(&target),
                "{name} refers to {target}, which is not a component"
            );
        }
    }
}

#[test]
fn the_components_make_an_openapi_document() {
    let components = utoipa::openapi::ComponentsBuilder::new()
        .schemas_from_iter(openapi_components())
        .build();
    let document = utoipa::openapi::OpenApiBuilder::new()
        .components(Some(components))
        .build();
    let json = serde_json::to_value(&document).unwrap();
    assert_eq!(json["openapi"], "3.1.0");
    let schemas = json["components"]["schemas"].as_object().unwrap();
    assert_eq!(schemas.len(), readers().len());
}

fn refs(schema: &Value) -> Vec<String> {
    match schema {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("$ref", Value::String(r)) => {
                    vec![r.trim_start_matches("#/components/schemas/").to_owned()]
                }
                _ => refs(value),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn every_command_and_state_serde_writes_fits_its_schema() {
    let mut failures = Vec::new();
    for sample in wire::all() {
        let (errors, _) = components().check(&sample.schema, &sample.json);
        if !errors.is_empty() {
            failures.push(format!("{} {}: {errors:#?}", sample.schema, sample.json));
        }
        // Serde reads back what it wrote.
        let back = reader_for(&sample.schema)(sample.json.clone());
        assert_eq!(back.as_ref(), Ok(&sample.json), "{}", sample.schema);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_variant_of_every_enum_with_data_has_a_sample() {
    let taken: BTreeSet<(String, usize)> = wire::all()
        .iter()
        .flat_map(|sample| components().check(&sample.schema, &sample.json).1)
        .collect();
    let mut missing = Vec::new();
    for (name, schema) in &components().schemas {
        let Some(branches) = schema.get("oneOf").and_then(Value::as_array) else {
            continue;
        };
        for (index, branch) in branches.iter().enumerate() {
            if !taken.contains(&(name.clone(), index)) {
                missing.push(format!("{name} branch {index}: {branch}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no sample takes:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_value_the_schemas_describe_is_read_by_serde() {
    let mut failures = Vec::new();
    for (name, schema) in &components().schemas {
        let instances = match schema.get("oneOf").and_then(Value::as_array) {
            Some(branches) => branches.iter().map(instance).collect(),
            None => vec![instance(schema)],
        };
        for value in instances {
            if let Err(e) = reader_for(name)(value.clone()) {
                failures.push(format!("{name} {value}: {e}"));
            }
            assert!(components().accepts(name, &value), "{name} {value}");
        }
    }
    assert!(
        failures.is_empty(),
        "serde refuses:\n{}",
        failures.join("\n")
    );
}

/// A value the schema describes, built from examples, with every optional field set.
fn instance(schema: &Value) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return instance(components().schema(name));
    }
    if let Some(example) = examples(schema).into_iter().next() {
        return example;
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    let choice = schema.get("oneOf").or_else(|| schema.get("anyOf"));
    if let Some(branches) = choice.and_then(Value::as_array) {
        let not_null = branches
            .iter()
            .find(|b| b.get("type") != Some(&json!("null")));
        return instance(not_null.unwrap());
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.iter().find(|k| *k != "null").unwrap().clone(),
        Some(kind) => kind.clone(),
        None => panic!("cannot build a value for {schema}"),
    };
    match kind.as_str().unwrap() {
        "object" => object_instance(schema),
        "array" => array_instance(schema),
        "string" => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2025-07-01T08:00:00Z"),
            _ => panic!("a string without an example: {schema}"),
        },
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        other => panic!("cannot build a {other}"),
    }
}

fn object_instance(schema: &Value) -> Value {
    let mut object = serde_json::Map::new();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (key, sub) in properties {
            object.insert(key.clone(), instance(sub));
        }
    }
    if let (Some(keys), Some(Value::Object(values))) = (
        schema.get("propertyNames"),
        schema.get("additionalProperties"),
    ) {
        let key = instance(keys).as_str().unwrap().to_owned();
        object.insert(key, instance(&Value::Object(values.clone())));
    }
    Value::Object(object)
}

fn array_instance(schema: &Value) -> Value {
    if let Some(prefix) = schema.get("prefixItems").and_then(Value::as_array) {
        return prefix.iter().map(instance).collect();
    }
    match schema.get("items") {
        Some(items @ Value::Object(_)) => json!([instance(items)]),
        _ => json!([]),
    }
}

fn examples(schema: &Value) -> Vec<Value> {
    let single = schema.get("example").cloned();
    let many = schema.get("examples").and_then(Value::as_array).cloned();
    single
        .into_iter()
        .chain(many.into_iter().flatten())
        .collect()
}

/// A leaf: a value with no fields of its own (text, number, enum, or a choice of them).
fn is_leaf(schema: &Value) -> bool {
    match schema.get("oneOf").and_then(Value::as_array) {
        Some(branches) => branches.iter().all(|b| b.get("properties").is_none()),
        None => schema.get("properties").is_none() && schema.get("type") != Some(&json!("array")),
    }
}

#[test]
fn every_example_is_read_by_serde_and_fits_its_schema() {
    let mut failures = Vec::new();
    for (name, schema) in &components().schemas {
        let found = examples(schema);
        if found.is_empty() && is_leaf(schema) {
            failures.push(format!("{name} has no example"));
        }
        for example in found {
            let (errors, _) = components().check(name, &example);
            if !errors.is_empty() {
                failures.push(format!("{name} example {example}: {errors:?}"));
            }
            if let Err(e) = reader_for(name)(example.clone()) {
                failures.push(format!("{name} example {example}: serde refuses: {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Strings near every rule of the text types: characters, digits, names, ids.
#[rustfmt::skip]
const TEXT_PROBES: &[&str] = &[
    "", "a", "ecmo", "ECMO", "two words", "万州区人民医院", "中", "a\u{7}b", "a\nb", "a\u{9f}b",
    "a\u{a0}b", "-wanzhou", "_sanxia", "wanzhou-sanxia", "7-cdc", "N95-1860", "n95.v2_a",
    "G-2025/07", "a/b", "a:b",
    "500101", "500101001", "500101010", "500101100", "500101000", "500101001001",
    "500101001000", "500000", "50010", "5001010", "50010100a", "900101", "000101", "100000",
    "800000", "５00101",
    "custom:nuclear_radiation", "custom:", "custom:X", "custom:a b", "Custom:x",
    "medical_rescue", "medical_rescu", "poisoning", "district", "city", "DISTRICT", "regional",
    "institution", "I", "II", "III", "IV", "V", "iii", "adult_icu", "AdultIcu",
    "general_isolation", "designated", "active", "retired", "peacetime", "emergency_active",
    "hotel", "expired", "hospital", "vaccine", "mass_casualty",
    "7f3c2a9e-4b1d-4e8a-9c2f-1a5b6c7d8e90", "7f3c2a9e-4b1d-4e8a-9c2f-1a5b6c7d8e9", "not-a-uuid",
];

/// Values near every rule the leaf types have: the text probes, lengths around every
/// limit, and numbers around every bound.
fn probes() -> Vec<Value> {
    let mut text: Vec<String> = TEXT_PROBES.iter().map(|s| s.to_string()).collect();
    for n in [16, 17, 64, 65, 120, 121, 128, 129, 500, 501] {
        text.push("x".repeat(n));
        text.push("中".repeat(n));
    }
    text.push(format!("custom:{}", "x".repeat(64)));
    text.push(format!("custom:{}", "x".repeat(65)));
    let mut values: Vec<Value> = text.into_iter().map(Value::String).collect();
    for n in [
        -1i64,
        0,
        1,
        12,
        10_000,
        10_001,
        36_500,
        36_501,
        2_147_483_647,
        2_147_483_648,
        4_294_967_295,
        4_294_967_296,
    ] {
        values.push(json!(n));
    }
    values.extend([json!(1.5), json!("12"), json!(null), json!(true)]);
    values
}

#[test]
fn leaf_schemas_accept_exactly_what_serde_accepts() {
    let mut failures = Vec::new();
    for (name, schema) in &components().schemas {
        if !is_leaf(schema) || schema.get("type") == Some(&json!("object")) {
            continue;
        }
        for probe in probes() {
            let by_serde = reader_for(name)(probe.clone()).is_ok();
            let by_schema = components().accepts(name, &probe);
            if by_serde != by_schema {
                failures.push(format!(
                    "{name} {probe}: serde {}, schema {}",
                    verdict(by_serde),
                    verdict(by_schema)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn verdict(accepts: bool) -> &'static str {
    if accepts { "accepts" } else { "refuses" }
}

#[test]
fn an_unknown_field_is_refused_by_the_schema_exactly_where_serde_refuses_it() {
    let mut failures = Vec::new();
    for sample in wire::all() {
        for probe in with_unknown_field(&sample.json) {
            let by_serde = reader_for(&sample.schema)(probe.clone()).is_ok();
            let by_schema = components().accepts(&sample.schema, &probe);
            if by_serde != by_schema {
                failures.push(format!(
                    "{} {probe}: serde {}, schema {}",
                    sample.schema,
                    verdict(by_serde),
                    verdict(by_schema)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The value with one unknown field added at the top, and (for an enum variant, an
/// object of one key) inside the variant's body.
fn with_unknown_field(value: &Value) -> Vec<Value> {
    let Value::Object(object) = value else {
        return Vec::new();
    };
    let mut top = object.clone();
    top.insert("unknown_field".into(), json!(1));
    let mut probes = vec![Value::Object(top)];
    if let [(key, Value::Object(body))] = object.iter().collect::<Vec<_>>().as_slice() {
        let mut body = body.clone();
        body.insert("unknown_field".into(), json!(1));
        probes.push(json!({ key.as_str(): body }));
    }
    probes
}
