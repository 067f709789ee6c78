//! OpenAPI 3.1 schemas of the domain's wire types (feature `openapi`), for the REST
//! API: the command enums it reads and the aggregate states it returns.
//!
//! Most types derive `utoipa::ToSchema` where they are declared, with `schema(...)`
//! overrides where serde reads through a parse (patterns, ranges, examples). What the
//! derive cannot follow is written here: [`AreaCode`] and [`TeamKind`] (enums read
//! from one string), [`BedPools`] (a map written as `[key, pool]` pairs),
//! `usable_from` (a time that may be chrono's earliest), and the closing of enum
//! variants to unknown fields (`close_variants`). `tests/openapi_schemas.rs` checks
//! every schema against what serde really writes and reads.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, ArrayItems, KnownFormat, ObjectBuilder,
    OneOfBuilder, Ref, Schema, SchemaFormat, Type,
};
use utoipa::{PartialSchema, ToSchema};

use crate::area::{AreaCode, DivisionCode, RegionSlug};
use crate::beds::{BedCommand, BedPool, BedPools, FacilityCommand, FacilityState, PoolKey};
use crate::convertible::{ConvertibleCommand, ConvertibleState};
use crate::incident::IncidentCommand;
use crate::supply::{DepotCommand, DepotState, ItemCommand, ItemState};
use crate::team::{CustomKind, TeamCommand, TeamKind, TeamState, kind_custom_prefix, kind_names};
use crate::values::Actor;

/// A named schema, as `utoipa::openapi::ComponentsBuilder::schemas_from_iter` takes it.
pub type NamedSchema = (String, RefOr<Schema>);

/// Every schema of the domain's wire types, sorted by name: the commands, the
/// aggregate states and everything they reach. A schema is named after its Rust type
/// (`TeamCommand`, `DivisionCode`); the names are unique, and references between the
/// schemas use `#/components/schemas/<name>`.
pub fn openapi_components() -> Vec<NamedSchema> {
    let mut found = Vec::new();
    collect::<TeamCommand>(&mut found);
    collect::<DepotCommand>(&mut found);
    collect::<ItemCommand>(&mut found);
    collect::<BedCommand>(&mut found);
    collect::<FacilityCommand>(&mut found);
    collect::<ConvertibleCommand>(&mut found);
    collect::<IncidentCommand>(&mut found);
    collect::<TeamState>(&mut found);
    collect::<FacilityState>(&mut found);
    collect::<DepotState>(&mut found);
    collect::<ItemState>(&mut found);
    collect::<ConvertibleState>(&mut found);
    // Value types no command or state holds, for the API's own use.
    collect::<Actor>(&mut found);
    collect::<CustomKind>(&mut found);
    let mut schemas = unique_by_name(found);
    for (_, schema) in &mut schemas {
        close_variants(schema);
    }
    schemas
}

/// `T` and every schema it references.
fn collect<T: ToSchema>(found: &mut Vec<NamedSchema>) {
    found.push((T::name().into_owned(), T::schema()));
    T::schemas(found);
}

/// One entry per name. A name met twice must carry the same schema both times, or two
/// types share an ident and one needs `#[schema(as = ...)]`.
fn unique_by_name(found: Vec<NamedSchema>) -> Vec<NamedSchema> {
    let mut by_name = std::collections::BTreeMap::new();
    for (name, schema) in found {
        if let Some(seen) = by_name.get(&name) {
            assert!(seen == &schema, "two types share the schema name {name}");
        } else {
            by_name.insert(name, schema);
        }
    }
    by_name.into_iter().collect()
}

/// Every enum with data here is externally tagged and `deny_unknown_fields`: a variant
/// with data is an object of exactly one key, and its body takes no other fields. The
/// derive leaves both objects open; this closes them. (A one-key object in a `oneOf`
/// is such a variant: no other schema here has one.)
fn close_variants(schema: &mut RefOr<Schema>) {
    let RefOr::T(Schema::OneOf(one_of)) = schema else {
        return;
    };
    for branch in &mut one_of.items {
        let RefOr::T(Schema::Object(variant)) = branch else {
            continue;
        };
        if variant.properties.len() != 1 {
            continue;
        }
        variant.additional_properties = Some(closed());
        for body in variant.properties.values_mut() {
            if let RefOr::T(Schema::Object(fields)) = body
                && !fields.properties.is_empty()
            {
                fields.additional_properties = Some(closed());
            }
        }
    }
}

fn closed() -> Box<AdditionalProperties<Schema>> {
    Box::new(AdditionalProperties::FreeForm(false))
}

fn reference<T: ToSchema>() -> Ref {
    Ref::from_schema_name(T::name())
}

/// On the wire one string: digits are a [`DivisionCode`], anything else a
/// [`RegionSlug`]. The two patterns are disjoint (a slug starts with a letter).
impl PartialSchema for AreaCode {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(reference::<DivisionCode>())
            .item(reference::<RegionSlug>())
            .description(Some(
                "Any area of the hierarchy: a GB/T 2260 division code (city, district, \
                 township) or the slug of a region (区域).",
            ))
            .examples(["500101", "wanzhou-sanxia"])
            .into()
    }
}

impl ToSchema for AreaCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AreaCode")
    }

    fn schemas(schemas: &mut Vec<NamedSchema>) {
        collect::<DivisionCode>(schemas);
        collect::<RegionSlug>(schemas);
    }
}

/// On the wire one string: a named kind, or `custom:` and a [`CustomKind`] slug.
impl PartialSchema for TeamKind {
    fn schema() -> RefOr<Schema> {
        let named = kind_names()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
        let custom = format!("^{}[a-z0-9_-]{{1,64}}$", kind_custom_prefix());
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(named))
                    .description(Some(
                        "紧急医学救援, 突发急性传染病防控, 突发中毒事件处置, 中医疫病防治, \
                         背囊化快速反应小分队",
                    )),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(custom))
                    .examples(["custom:nuclear_radiation"])
                    .description(Some(
                        "A kind the seeds do not name, e.g. `custom:nuclear_radiation`.",
                    )),
            )
            .description(Some(
                "A team's kind: one of the five of the seeds, or `custom:<slug>`.",
            ))
            .examples(["medical_rescue", "custom:nuclear_radiation"])
            .into()
    }
}

impl ToSchema for TeamKind {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TeamKind")
    }
}

/// On the wire a list of `[key, pool]` pairs, each key once.
impl PartialSchema for BedPools {
    fn schema() -> RefOr<Schema> {
        let pair = ArrayBuilder::new()
            .prefix_items([
                Schema::from(one_ref::<PoolKey>()),
                Schema::from(one_ref::<BedPool>()),
            ])
            .items(ArrayItems::False)
            .min_items(Some(2));
        ArrayBuilder::new()
            .items(pair)
            .description(Some(
                "All the bed pools of one facility, one per bed type and ladder class, as \
                 `[key, pool]` pairs (a key is not a JSON object key).",
            ))
            .into()
    }
}

impl ToSchema for BedPools {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("BedPools")
    }

    fn schemas(schemas: &mut Vec<NamedSchema>) {
        collect::<PoolKey>(schemas);
        collect::<BedPool>(schemas);
    }
}

/// `BedPool::usable_from`: a time, the earliest time chrono has (designated beds), or
/// null. `anyOf`, since a checker that does not assert `format` takes the earliest time
/// for a date-time too.
pub(crate) fn usable_from() -> Schema {
    let earliest = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let earliest = serde_json::to_value(earliest).expect("a time serializes");
    AnyOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .examples(["2025-07-01T09:00:00Z"]),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([earliest]))
                .description(Some("Always usable: designated beds.")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "From when the beds may be used: a time; chrono's earliest instant for \
             designated beds, usable from the start; null while dormant.",
        ))
        .build()
        .into()
}

/// A `$ref` where a plain schema is wanted (a prefix item): `oneOf` of the one ref.
fn one_ref<T: ToSchema>() -> utoipa::openapi::schema::OneOf {
    OneOfBuilder::new().item(reference::<T>()).build()
}
