//! The Rust events and `proto/ercs/v1` must not drift apart, in either direction.
//!
//! 1. Every message the Rust side declares (events and nested records, with field
//!    names and numbers from the `message!` declarations) is in the proto files with
//!    exactly those fields and numbers, and the proto files hold no other message.
//! 2. Every event type has a sample; serializing it yields exactly the declared
//!    field names, with JSON values of the kind the proto type says (recursively into
//!    nested messages), so a serde rename, skip or flatten cannot slip past.
//! 3. Every sample decodes back from `(event_type, version, data)` to itself.
//! 4. Every enumeration events carry is declared in the proto (`// enum Name: ...`)
//!    with exactly the Rust serde names, both ways, and every sample value of a field
//!    marked `// enum Name` is one of them; so renaming a variant fails here.
//! 5. Every event message states its schema version (`// version: N`), equal to the
//!    Rust `schema_version()`.

#[path = "support/proto.rs"]
mod proto;
#[path = "support/samples.rs"]
mod samples;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::PathBuf;

use ercs_domain::DomainEvent;
use ercs_domain::schema::{
    MessageSchema, enum_schemas, event_schemas, event_versions, record_schemas,
};
use proto::{Annotations, FieldType, Label, Messages};
use serde_json::Value;

/// One event as the log would store it, and whether it decoded back to itself.
pub struct Sample {
    event_type: &'static str,
    version: u16,
    data: Value,
    round_trips: bool,
}

impl Sample {
    fn of<E: DomainEvent + PartialEq + Debug>(event: E) -> Self {
        let data = event.data().expect("events serialize");
        let decoded = E::decode(event.event_type(), event.schema_version(), data.clone());
        let round_trips = matches!(&decoded, Ok(back) if *back == event);
        Self {
            event_type: event.event_type(),
            version: event.schema_version(),
            data,
            round_trips,
        }
    }
}

fn proto_messages() -> Messages {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto/ercs/v1");
    proto::parse_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
}

fn proto_annotations() -> Annotations {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto/ercs/v1");
    proto::annotations_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
}

fn rust_messages() -> BTreeMap<&'static str, &'static MessageSchema> {
    let all: Vec<_> = event_schemas()
        .into_iter()
        .chain(record_schemas())
        .collect();
    let by_name: BTreeMap<_, _> = all.iter().map(|s| (s.name, *s)).collect();
    assert_eq!(
        by_name.len(),
        all.len(),
        "a message name is declared twice on the Rust side"
    );
    by_name
}

fn fields_of(schema: &MessageSchema) -> BTreeSet<(String, u32)> {
    schema
        .fields
        .iter()
        .map(|f| (f.name.to_owned(), f.number))
        .collect()
}

#[test]
fn every_rust_message_is_in_the_proto_files_with_the_same_fields_and_numbers() {
    let protos = proto_messages();
    let mut drift = Vec::new();
    for (name, schema) in rust_messages() {
        let Some(fields) = protos.get(name) else {
            drift.push(format!("{name}: declared in Rust, missing from proto"));
            continue;
        };
        let in_proto: BTreeSet<_> = fields.iter().map(|f| (f.name.clone(), f.number)).collect();
        let in_rust = fields_of(schema);
        for (field, number) in in_rust.difference(&in_proto) {
            drift.push(format!("{name}.{field} = {number}: in Rust, not in proto"));
        }
        for (field, number) in in_proto.difference(&in_rust) {
            drift.push(format!("{name}.{field} = {number}: in proto, not in Rust"));
        }
    }
    assert!(
        drift.is_empty(),
        "Rust and proto have drifted:\n{}",
        drift.join("\n")
    );
}

#[test]
fn every_proto_message_is_declared_on_the_rust_side() {
    let rust = rust_messages();
    let extra: Vec<_> = proto_messages()
        .into_keys()
        .filter(|name| !rust.contains_key(name.as_str()))
        .collect();
    assert!(
        extra.is_empty(),
        "proto messages with no Rust type: {extra:?}"
    );
}

#[test]
fn field_names_and_numbers_are_unique_within_each_proto_message() {
    for (name, fields) in proto_messages() {
        let names: BTreeSet<_> = fields.iter().map(|f| &f.name).collect();
        let numbers: BTreeSet<_> = fields.iter().map(|f| f.number).collect();
        assert_eq!(
            (names.len(), numbers.len()),
            (fields.len(), fields.len()),
            "{name} repeats a field name or number"
        );
    }
}

#[test]
fn every_event_type_has_a_sample() {
    let sampled: BTreeSet<_> = samples::all().iter().map(|s| s.event_type).collect();
    let declared: BTreeSet<_> = event_schemas().iter().map(|s| s.name).collect();
    assert_eq!(sampled, declared);
}

#[test]
fn every_sample_serializes_to_exactly_the_declared_fields_and_proto_types() {
    let schema = Schema {
        protos: proto_messages(),
        annotations: proto_annotations(),
    };
    let rust = rust_messages();
    for sample in samples::all() {
        let Value::Object(object) = &sample.data else {
            panic!("{} data is not a JSON object", sample.event_type)
        };
        let keys: BTreeSet<_> = object.keys().map(String::as_str).collect();
        let declared: BTreeSet<_> = rust[sample.event_type]
            .fields
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(
            keys, declared,
            "{} serializes other fields than it declares",
            sample.event_type
        );
        let errors = check_message(&schema, sample.event_type, &sample.data, sample.event_type);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
}

#[test]
fn every_sample_decodes_back_to_itself() {
    let failed: Vec<_> = samples::all()
        .into_iter()
        .filter(|s| !s.round_trips)
        .map(|s| s.event_type)
        .collect();
    assert!(failed.is_empty(), "did not round-trip: {failed:?}");
}

#[test]
fn an_unknown_event_type_is_not_decoded() {
    let err = ercs_domain::team::TeamEvent::decode("TeamTeleported", 1, serde_json::json!({}))
        .unwrap_err();
    assert!(matches!(err, ercs_domain::DecodeError::UnknownEventType(_)));
}

/// The proto files: messages and what their comments declare.
struct Schema {
    protos: Messages,
    annotations: Annotations,
}

/// Checks a JSON object against a proto message: the same keys, and each value of
/// the kind its proto type maps to in proto3 JSON (and of its enumeration, if any).
fn check_message(schema: &Schema, message: &str, value: &Value, path: &str) -> Vec<String> {
    let Some(fields) = schema.protos.get(message) else {
        return vec![format!("{path}: no proto message {message}")];
    };
    let Value::Object(object) = value else {
        return vec![format!("{path}: expected an object for {message}")];
    };
    let expected: BTreeSet<_> = fields.iter().map(|f| f.name.as_str()).collect();
    let actual: BTreeSet<_> = object.keys().map(String::as_str).collect();
    let mut errors = Vec::new();
    if expected != actual {
        errors.push(format!(
            "{path}: JSON keys {actual:?} differ from proto fields {expected:?}"
        ));
    }
    for field in fields {
        if let Some(v) = object.get(&field.name) {
            let path = format!("{path}.{}", field.name);
            errors.extend(check_field(schema, field, v, &path));
            errors.extend(check_enum(schema, message, field, v, &path));
        }
    }
    errors
}

fn check_field(schema: &Schema, field: &proto::Field, value: &Value, path: &str) -> Vec<String> {
    match (&field.ty, &field.label, value) {
        (FieldType::Map(_, v), _, Value::Object(entries)) => entries
            .values()
            .flat_map(|e| check_type(schema, v, e, path))
            .collect(),
        (FieldType::Map(..), _, _) => vec![format!("{path}: expected an object for a map")],
        (FieldType::Named(t), Label::Repeated, Value::Array(items)) => items
            .iter()
            .flat_map(|e| check_type(schema, t, e, path))
            .collect(),
        (FieldType::Named(_), Label::Repeated, _) => vec![format!("{path}: expected an array")],
        (FieldType::Named(_), Label::Optional, Value::Null) => vec![],
        (FieldType::Named(t), _, Value::Null)
            if schema.protos.contains_key(t) || t.starts_with("google.") =>
        {
            vec![]
        }
        (FieldType::Named(t), _, v) => check_type(schema, t, v, path),
    }
}

fn check_type(schema: &Schema, ty: &str, value: &Value, path: &str) -> Vec<String> {
    let ok = match ty {
        "string" | "google.protobuf.Timestamp" => value.is_string(),
        "uint32" | "uint64" => value.is_u64(),
        "int32" | "int64" => value.is_i64(),
        "double" | "float" => value.is_number(),
        "bool" => value.is_boolean(),
        message => return check_message(schema, message, value, path),
    };
    if ok {
        vec![]
    } else {
        vec![format!("{path}: {value} is not a proto {ty}")]
    }
}

/// A field marked `// enum Name` holds only that enumeration's values (a map, as keys).
fn check_enum(
    schema: &Schema,
    message: &str,
    field: &proto::Field,
    value: &Value,
    path: &str,
) -> Vec<String> {
    let key = (message.to_owned(), field.name.clone());
    let Some(name) = schema.annotations.field_enums.get(&key) else {
        return vec![];
    };
    let Some(values) = schema.annotations.enums.get(name) else {
        return vec![format!("{path}: enum {name} is not declared")];
    };
    let strings: Vec<&str> = match value {
        Value::String(s) => vec![s],
        Value::Object(map) => map.keys().map(String::as_str).collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    strings
        .into_iter()
        .filter(|s| !values.iter().any(|v| enum_value_matches(v, s)))
        .map(|s| format!("{path}: {s:?} is not one of enum {name} {values:?}"))
        .collect()
}

/// `prefix*` matches anything that starts with `prefix`; otherwise the exact value.
fn enum_value_matches(declared: &str, value: &str) -> bool {
    match declared.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix) && value.len() > prefix.len(),
        None => declared == value,
    }
}

#[test]
fn every_rust_enum_is_declared_in_the_proto_with_the_same_values() {
    let declared = proto_annotations().enums;
    let mut drift = Vec::new();
    for schema in enum_schemas() {
        let Some(in_proto) = declared.get(schema.name) else {
            drift.push(format!(
                "enum {}: in Rust, not declared in proto",
                schema.name
            ));
            continue;
        };
        let in_proto: BTreeSet<&str> = in_proto.iter().map(String::as_str).collect();
        let in_rust: BTreeSet<&str> = schema.values.iter().map(String::as_str).collect();
        for value in in_rust.difference(&in_proto) {
            drift.push(format!("{}::{value}: in Rust, not in proto", schema.name));
        }
        for value in in_proto.difference(&in_rust) {
            drift.push(format!("{}::{value}: in proto, not in Rust", schema.name));
        }
    }
    let rust: BTreeSet<_> = enum_schemas().iter().map(|s| s.name).collect();
    for name in declared.keys().filter(|n| !rust.contains(n.as_str())) {
        drift.push(format!("enum {name}: declared in proto, unknown to Rust"));
    }
    assert!(
        drift.is_empty(),
        "enumerations drifted:\n{}",
        drift.join("\n")
    );
}

#[test]
fn every_enum_field_names_a_declared_enum_of_a_real_field() {
    let annotations = proto_annotations();
    let protos = proto_messages();
    for ((message, field), name) in &annotations.field_enums {
        assert!(
            annotations.enums.contains_key(name),
            "{message}.{field}: enum {name} is not declared"
        );
        let known = protos
            .get(message)
            .is_some_and(|fields| fields.iter().any(|f| &f.name == field));
        assert!(
            known,
            "{message}.{field}: marked enum {name} but no such field"
        );
    }
}

#[test]
fn every_event_message_states_the_rust_schema_version() {
    let in_proto = proto_annotations().versions;
    let in_rust: BTreeMap<String, u16> = event_versions()
        .into_iter()
        .map(|(name, version)| (name.to_owned(), version))
        .collect();
    assert_eq!(
        in_proto, in_rust,
        "`// version: N` in proto must equal each event's schema_version() (records have none)"
    );
}

#[test]
fn every_sample_is_written_at_its_declared_version() {
    let in_rust: BTreeMap<_, _> = event_versions().into_iter().collect();
    for sample in samples::all() {
        assert_eq!(
            Some(&sample.version),
            in_rust.get(sample.event_type),
            "{}",
            sample.event_type
        );
    }
}
