//! The OpenAPI 3.1 description of the API, served at `/api/v1/openapi.json` and
//! committed as `openapi/openapi.json` (a test fails when the two differ).
//!
//! The schemas are the domain's own (`utoipa::ToSchema` derives, checked against
//! serde in `ercs-domain`), so the documented bodies are the ones the service
//! reads. Paths are generated from the same tables the routes are: one operation
//! per collection and per command (`crate::examples`), each body schema taken from
//! its variant of the domain's command enum, each with its example.

use std::collections::BTreeMap;

use ercs_projections::one_network::ResourceKind;
use serde_json::{Map, Value, json};

use crate::examples::{Action, actions};

/// The generated document as JSON, keys sorted, as committed.
pub fn document_json() -> Value {
    let components = components();
    let mut paths = Map::new();
    paths.insert(
        "/healthz".into(),
        health("Liveness: the process answers HTTP"),
    );
    paths.insert("/readyz".into(), health("Readiness: the event log answers and the one-network view has caught up with the log as it was at start (503 with Retry-After until then)"));
    for kind in ResourceKind::ALL {
        paths.insert(
            format!("/api/v1/{kind}"),
            collection_path(kind, &components),
        );
        paths.insert(format!("/api/v1/{kind}/{{id}}"), item_path(kind));
        for action in actions(kind).iter().skip(1) {
            paths.insert(
                format!("/api/v1/{kind}/{{id}}/{}", action.name),
                json!({"post": command_operation(kind, action, &components, false)}),
            );
        }
    }
    paths.insert("/api/v1/network".into(), network_path());
    paths.insert("/api/v1/feed".into(), feed_path());
    paths.extend(gis_paths());
    paths.extend(plan_paths());
    let mut schemas: Map<String, Value> = components.into_iter().collect();
    schemas.extend(api_schemas());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ERCS — health-emergency resource one network (卫生应急资源“一张网”)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": DESCRIPTION,
            "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"},
        },
        "tags": (ResourceKind::ALL.iter().map(|k| json!({"name": k.as_str()}))
            .chain(["network", "feed", "gis", "plans", "health"].map(|t| json!({"name": t})))
            .collect::<Vec<_>>()),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": parameters(),
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details: `type` is stable, `field` names the input at fault",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
                }
            }
        }
    })
}

const DESCRIPTION: &str = "Every response team, stockpile, isolation bed and 平急两用 facility of \
the city, from an event log that is the only source of truth. Writes answer with the log \
`position` they reached; pass it as `min_position` to read your own write. `If-Match` carries \
a resource's revision (its `ETag`); a stale one is a 409. `Idempotency-Key` makes a retried \
POST append nothing and answer as the first time. Errors are RFC 9457 problem+json.";

fn components() -> BTreeMap<String, Value> {
    ercs_domain::openapi::openapi_components()
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or(Value::Null)))
        .collect()
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The domain's command enum and state of each collection.
fn names(kind: ResourceKind) -> (&'static str, &'static str) {
    match kind {
        ResourceKind::Teams => ("TeamCommand", "TeamState"),
        ResourceKind::Facilities => ("FacilityCommand", "FacilityState"),
        ResourceKind::Depots => ("DepotCommand", "DepotState"),
        ResourceKind::Convertibles => ("ConvertibleCommand", "ConvertibleState"),
        ResourceKind::Incidents => ("IncidentCommand", "IncidentRecord"),
        ResourceKind::Items => ("ItemCommand", "ItemState"),
    }
}

/// The commands of a collection's domain enum (and its nested bed commands), by
/// name, as the schemas list them: what the API must offer.
pub fn domain_commands(kind: ResourceKind) -> Vec<String> {
    let components = components();
    let variants = |name: &str| -> Vec<String> {
        components
            .get(name)
            .and_then(|schema| schema.get("oneOf"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|variant| match variant {
                Value::Object(v) if v.contains_key("properties") => v["properties"]
                    .as_object()
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default(),
                Value::Object(v) => v
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|e| {
                        e.iter()
                            .filter_map(|n| n.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                _ => Vec::new(),
            })
            .collect()
    };
    let mut all = variants(names(kind).0);
    if all.iter().any(|name| name == "beds") {
        all.retain(|name| name != "beds");
        all.extend(variants("BedCommand"));
    }
    all
}

/// The body schema of one command: its variant's fields in the command enum
/// (or in `BedCommand` for bed actions); `None` for a command without fields.
fn body_schema(
    kind: ResourceKind,
    action: &Action,
    components: &BTreeMap<String, Value>,
) -> Option<Value> {
    let enum_name = if action.nested {
        "BedCommand"
    } else {
        names(kind).0
    };
    let variants = components.get(enum_name)?.get("oneOf")?.as_array()?;
    variants
        .iter()
        .find_map(|variant| variant.get("properties")?.get(action.name).cloned())
}

fn common_write_parameters() -> Vec<Value> {
    ["IfMatch", "IdempotencyKey", "Actor"]
        .map(|p| json!({"$ref": format!("#/components/parameters/{p}")}))
        .to_vec()
}

fn command_operation(
    kind: ResourceKind,
    action: &Action,
    components: &BTreeMap<String, Value>,
    create: bool,
) -> Value {
    let mut parameters = common_write_parameters();
    if !create {
        parameters.insert(0, json!({"$ref": "#/components/parameters/Id"}));
    }
    let mut operation = json!({
        "tags": [kind.as_str()],
        "operationId": format!("{kind}_{}", action.name),
        "summary": action.summary,
        "parameters": parameters,
        "responses": write_responses(create),
    });
    if let Some(schema) = body_schema(kind, action, components) {
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema, "example": action.example}}
        });
    } else {
        operation["description"] = json!("No body: the command has no fields.");
    }
    operation
}

fn write_responses(create: bool) -> Value {
    let headers = json!({
        "ETag": {"description": "The resource's revision afterwards", "schema": {"type": "string"}, "example": "\"4\""},
        "ERCS-Position": {"description": "The log position the write reached", "schema": {"type": "integer"}},
    });
    let mut ok = json!({
        "description": if create { "Created" } else { "Done" },
        "headers": headers,
        "content": {"application/json": {
            "schema": schema_ref("WriteOutcome"),
            "example": {"id": "5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11", "revision": 1, "position": 4411,
                        "events": [{"type": "TeamMobilised", "data": {"incident": "0f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44"}}]}
        }}
    });
    if create {
        ok["headers"]["Location"] =
            json!({"description": "Where to read it", "schema": {"type": "string"}});
    }
    let problem = json!({"$ref": "#/components/responses/Problem"});
    json!({
        if create { "201" } else { "200" }: ok,
        "400": problem, "404": problem, "409": problem, "413": problem, "415": problem,
        "422": problem, "503": problem,
    })
}

fn collection_path(kind: ResourceKind, components: &BTreeMap<String, Value>) -> Value {
    let state = names(kind).1;
    let create = &actions(kind)[0];
    let list_parameters: Vec<Value> = [
        "Tier",
        "Area",
        "Kind",
        "Status",
        "Bbox",
        "Limit",
        "Cursor",
        "MinPosition",
        "AsOf",
    ]
    .iter()
    .map(|p| json!({"$ref": format!("#/components/parameters/{p}")}))
    .collect();
    json!({
        "get": {
            "tags": [kind.as_str()],
            "operationId": format!("list_{kind}"),
            "summary": format!("List {kind}, filtered, a page at a time"),
            "parameters": list_parameters,
            "responses": {
                "200": {
                    "description": "A page; follow `next_cursor` for the next",
                    "content": {"application/json": {"schema": {
                        "allOf": [schema_ref("ResourcePage")],
                        "properties": {"items": {"type": "array", "items": resource_schema(state)}}
                    }}}
                },
                "400": {"$ref": "#/components/responses/Problem"},
                "422": {"$ref": "#/components/responses/Problem"},
                "503": {"$ref": "#/components/responses/Problem"},
            }
        },
        "post": command_operation(kind, create, components, true),
    })
}

fn resource_schema(state: &str) -> Value {
    json!({"allOf": [schema_ref("Resource")], "properties": {"state": schema_ref(state)}})
}

fn item_path(kind: ResourceKind) -> Value {
    json!({"get": {
        "tags": [kind.as_str()],
        "operationId": format!("get_{kind}"),
        "summary": format!("One of the {kind}, with its revision as ETag"),
        "parameters": (["Id", "MinPosition", "AsOf"].map(|p| json!({"$ref": format!("#/components/parameters/{p}")}))),
        "responses": {
            "200": {
                "description": "The resource",
                "headers": {"ETag": {"schema": {"type": "string"}, "description": "Its revision"}},
                "content": {"application/json": {"schema": resource_schema(names(kind).1)}}
            },
            "304": {"description": "Unchanged since the `If-None-Match` ETag"},
            "404": {"$ref": "#/components/responses/Problem"},
            "422": {"$ref": "#/components/responses/Problem"},
            "503": {"$ref": "#/components/responses/Problem"},
        }
    }})
}

fn network_path() -> Value {
    json!({"get": {
        "tags": ["network"],
        "operationId": "network",
        "summary": "The one network rolled up: teams, beds, supplies, 平急两用 venues, incidents, stale reports",
        "parameters": [
            {"name": "group_by", "in": "query", "schema": {"type": "string"}, "example": "tier,kind",
             "description": "Keep only these key fields (tier, area, kind, status, bed_type, class, item) and sum the rest"},
            {"name": "area_level", "in": "query", "schema": {"enum": ["own", "district"]},
             "description": "`district` counts townships and institutions in their district"},
            {"name": "stale_after_minutes", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 5256000}, "example": 1440,
             "description": "Flag bed reports older than this (default 24 h)"},
            {"$ref": "#/components/parameters/MinPosition"},
            {"$ref": "#/components/parameters/AsOf"},
        ],
        "responses": {
            "200": {"description": "Rollups, with the position they reflect",
                    "content": {"application/json": {"schema": {"type": "object"}}}},
            "400": {"$ref": "#/components/responses/Problem"},
            "422": {"$ref": "#/components/responses/Problem"},
            "503": {"$ref": "#/components/responses/Problem"},
        }
    }})
}

fn feed_path() -> Value {
    json!({"get": {
        "tags": ["feed"],
        "operationId": "feed",
        "summary": "Live feed (server-sent events): each change as a GeoJSON feature and its district rollup",
        "description": "Each `update` event has `id` = its log position. Reconnect with `Last-Event-ID` \
    (or `last_event_id`) to resume with no gap and no duplicate. A `resync` event means this client fell \
    behind: refetch the collections, then keep reading. A comment line every 15 s keeps proxies open. \
    A resume older than the feed's memory is served from the log, a few at a time: the others wait \
    (receiving comment lines), and beyond the waiting queue a resume is refused with 503 and Retry-After.",
        "parameters": [
            {"name": "collection", "in": "query", "schema": {"type": "string"}, "example": "teams,facilities",
             "description": "Only these collections"},
            {"$ref": "#/components/parameters/Tier"}, {"$ref": "#/components/parameters/Area"},
            {"$ref": "#/components/parameters/Kind"}, {"$ref": "#/components/parameters/Status"},
            {"$ref": "#/components/parameters/Bbox"},
            {"name": "last_event_id", "in": "query", "schema": {"type": "integer"},
             "description": "Resume after this position (the `Last-Event-ID` header wins)"},
        ],
        "responses": {
            "200": {"description": "An endless event stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"},
                        "example": "id: 4412\nevent: update\ndata: {\"position\":4412,\"collection\":\"teams\",\"feature\":{…},\"rollup\":{…}}\n\n"}}},
            "400": {"$ref": "#/components/responses/Problem"},
            "503": {"$ref": "#/components/responses/Problem"},
        }
    }})
}

/// Surge plans: propose, read, approve.
fn plan_paths() -> Map<String, Value> {
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let plan_id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"},
        "example": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c88"});
    let record = json!({"type": "object", "description": "The plan's record: request, problem, plan (assignments, shortfalls, escalations, certificate) and approval",
        "properties": {"plan_id": {"type": "string"}, "request": {"type": "object"}, "problem": {"type": "object"},
                       "plan": {"type": "object"}, "approval": {"type": "object"}}});
    let mut paths = Map::new();
    paths.insert("/api/v1/plans".into(), json!({"post": {
        "tags": ["plans"], "operationId": "propose_plan",
        "summary": "Plan an incident's recorded demand (and/or ad-hoc demand) optimally over the one network",
        "parameters": [{"$ref": "#/components/parameters/MinPosition"}, {"$ref": "#/components/parameters/Actor"}],
        "requestBody": {"required": true, "content": {"application/json": {
            "schema": {"type": "object", "additionalProperties": false, "properties": {
                "incident": schema_ref("IncidentId"),
                "demands": {"type": "array", "items": {"type": "object"},
                            "description": "Ad-hoc demands: id, location {lon, lat}, area, priority (red|orange|yellow|green), needs {\"bed:adult_icu\": 4}"},
                "settings": {"type": "object", "description": "Routing settings (horizon, standard, escalation costs)"}}},
            "example": {"incident": "0f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44"}}}},
        "responses": {"201": {"description": "The plan, recorded", "content": {"application/json": {"schema": record}}},
                      "400": problem, "422": problem, "503": problem}
    }}));
    paths.insert("/api/v1/plans/{id}".into(), json!({"get": {
        "tags": ["plans"], "operationId": "get_plan", "summary": "A plan, with its approval once approved",
        "parameters": [plan_id],
        "responses": {"200": {"description": "The plan", "content": {"application/json": {"schema": record}}}, "404": problem}
    }}));
    paths.insert("/api/v1/plans/{id}/approve".into(), json!({"post": {
        "tags": ["plans"], "operationId": "approve_plan",
        "summary": "Approve: reserve the beds and stock and mobilise the teams, each event carrying the plan id; twice appends nothing",
        "parameters": [plan_id, {"$ref": "#/components/parameters/Actor"}],
        "responses": {"200": {"description": "What each dispatch command did", "content": {"application/json": {"schema": record}}},
                      "404": problem, "409": problem}
    }}));
    paths
}

/// OGC API – Features (Part 1) under `/api/v1/gis`.
fn gis_paths() -> Map<String, Value> {
    let get = |id: &str, summary: &str, parameters: Value, media: &str, example: Value| {
        json!({"get": {
            "tags": ["gis"], "operationId": id, "summary": summary, "parameters": parameters,
            "responses": {
                "200": {"description": summary, "content": {media: {"schema": {"type": "object"}, "example": example}}},
                "400": {"$ref": "#/components/responses/Problem"},
                "404": {"$ref": "#/components/responses/Problem"},
            }
        }})
    };
    let collection = json!({"name": "collectionId", "in": "path", "required": true,
        "schema": {"enum": ["teams", "facilities", "depots", "convertibles", "areas", "townships"]},
        "example": "facilities"});
    let crs = json!({"name": "crs", "in": "query", "schema": {"enum": ["wgs84", "gcj02", "bd09"], "default": "wgs84"},
        "description": "Output coordinates: WGS-84, GCJ-02 (AMap, Tencent) or BD-09 (Baidu)", "example": "gcj02"});
    let reference = |p: &str| json!({"$ref": format!("#/components/parameters/{p}")});
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/gis".into(),
        get(
            "gis_landing",
            "OGC API – Features landing page",
            json!([]),
            "application/json",
            json!({"title": "ERCS one network", "links": []}),
        ),
    );
    paths.insert(
        "/api/v1/gis/conformance".into(),
        get(
            "gis_conformance",
            "Conformance classes",
            json!([]),
            "application/json",
            json!({"conformsTo": ["http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"]}),
        ),
    );
    paths.insert(
        "/api/v1/gis/collections".into(),
        get(
            "gis_collections",
            "The feature collections",
            json!([]),
            "application/json",
            json!({"collections": [{"id": "facilities", "itemType": "feature"}]}),
        ),
    );
    paths.insert(
        "/api/v1/gis/collections/{collectionId}".into(),
        get(
            "gis_collection",
            "One collection",
            json!([collection]),
            "application/json",
            json!({"id": "facilities", "itemType": "feature"}),
        ),
    );
    paths.insert(
        "/api/v1/gis/collections/{collectionId}/items".into(),
        get(
            "gis_items",
            "GeoJSON features of a collection, filtered, a page at a time (`next` link)",
            json!([
                collection,
                reference("Bbox"),
                reference("Tier"),
                reference("Area"),
                reference("Kind"),
                reference("Status"),
                reference("Limit"),
                reference("Cursor"),
                crs,
                reference("MinPosition"),
                reference("AsOf")
            ]),
            "application/geo+json",
            json!({"type": "FeatureCollection", "features": [], "numberReturned": 0, "links": []}),
        ),
    );
    paths.insert("/api/v1/gis/collections/{collectionId}/items/{featureId}".into(), get("gis_item",
        "One GeoJSON feature, with its revision as ETag",
        json!([collection, {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"},
               "example": "500101"}, crs]),
        "application/geo+json",
        json!({"type": "Feature", "id": "500101", "geometry": null, "properties": {}})));
    paths
}

fn health(summary: &str) -> Value {
    json!({"get": {"tags": ["health"], "summary": summary,
        "responses": {"200": {"description": "OK"}, "503": {"$ref": "#/components/responses/Problem"}}}})
}

fn parameters() -> Value {
    let query = |name: &str, description: &str, schema: Value, example: Value| json!({"name": name, "in": "query", "description": description, "schema": schema, "example": example});
    let header = |name: &str, description: &str, example: &str| json!({"name": name, "in": "header", "description": description, "schema": {"type": "string"}, "example": example});
    json!({
        "Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"},
               "description": "The resource's id (a UUID; an item code for catalogue items)",
               "example": "5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11"},
        "Tier": query("tier", "Only this tier", schema_ref("Tier"), json!("district")),
        "Area": query("area", "Only resources in this area or inside it (division code or region slug)", json!({"type": "string"}), json!("500101")),
        "Kind": query("kind", "Only this kind: team kind, facility kind, reserve tier, peacetime use, incident kind, item category", json!({"type": "string"}), json!("medical_rescue")),
        "Status": query("status", "Only this status (standby, deployed, emergency_active, open, ...)", json!({"type": "string"}), json!("standby")),
        "Bbox": query("bbox", "Only points inside west,south,east,north (WGS-84)", json!({"type": "string"}), json!("107.9,30.5,108.9,31.1")),
        "Limit": query("limit", "Page size", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}), json!(50)),
        "Cursor": query("cursor", "The `next_cursor` of the previous page", json!({"type": "string"}), json!("5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11")),
        "MinPosition": query("min_position", "Wait (at most 2 s, else 503 with Retry-After) until the view has reached this log position; a position beyond the log's head is a 422 `position-beyond-head`", json!({"type": "integer", "minimum": 0}), json!(4411)),
        "AsOf": query("as_of", "Read as of a log position or an RFC 3339 time, folded from the log forward from the nearest kept view of the past", json!({"type": "string"}), json!("2026-11-23T08:00:00Z")),
        "IfMatch": header("If-Match", "The revision (ETag) the command was decided against; a stale one is a 409", "\"3\""),
        "IdempotencyKey": header("Idempotency-Key", "Makes a retry append nothing and answer as the first time", "b6f1c0de-7c1e-4d0a-9e55-2f3a1b4c5d6e"),
        "Actor": header("ERCS-Actor", "Who issues the command (recorded on every event); default `dispatcher`", "万州区卫健委 张伟"),
    })
}

/// The API's own response shapes.
fn api_schemas() -> Map<String, Value> {
    let object = |properties: Value, required: Value, example: Value| json!({"type": "object", "properties": properties, "required": required, "example": example});
    let mut schemas = Map::new();
    schemas.insert("Problem".into(), object(
        json!({
            "type": {"type": "string", "format": "uri"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "field": {"type": "string", "description": "The input field at fault"},
        }),
        json!(["type", "title", "status", "detail"]),
        json!({"type": "https://ercs.example/problems/invalid-field", "title": "Invalid field", "status": 422,
               "detail": "`headcount`: must be between 1 and 10000", "field": "headcount"}),
    ));
    schemas.insert("WriteOutcome".into(), object(
        json!({
            "id": {"type": "string"},
            "revision": {"type": ["integer", "null"], "description": "The resource's revision afterwards"},
            "position": {"type": ["integer", "null"], "description": "The log position reached; use as min_position"},
            "events": {"type": "array", "items": {"type": "object", "properties": {
                "type": {"type": "string"}, "data": {"type": "object"}}}},
        }),
        json!(["id", "events"]),
        json!({"id": "5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11", "revision": 0, "position": 4411,
               "events": [{"type": "TeamRegistered", "data": {}}]}),
    ));
    schemas.insert("Resource".into(), object(
        json!({
            "kind": {"enum": (ResourceKind::ALL.map(|k| k.as_str()))},
            "id": {"type": "string"}, "name": {"type": "string"},
            "tier": {"anyOf": [schema_ref("Tier"), {"type": "null"}]},
            "areas": {"type": "array", "items": {"type": "string"}},
            "subkind": {"type": "string"}, "status": {"type": ["string", "null"]},
            "point": {"anyOf": [schema_ref("GeoPoint"), {"type": "null"}]},
            "mark": {"type": ["object", "null"], "properties": {
                "revision": {"type": "integer"}, "position": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"}}},
            "state": {"type": "object"},
        }),
        json!(["kind", "id", "name", "areas", "subkind", "state"]),
        json!({"kind": "teams", "id": "5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11", "name": "万州区紧急医学救援队",
               "tier": "district", "areas": ["500101"], "subkind": "medical_rescue", "status": "standby",
               "point": {"lon": 108.408, "lat": 30.807}, "mark": {"revision": 0, "position": 1782, "at": "2026-11-23T08:00:00Z"},
               "state": {}}),
    ));
    schemas.insert("ResourcePage".into(), object(
        json!({
            "items": {"type": "array", "items": schema_ref("Resource")},
            "next_cursor": {"type": "string", "description": "Absent on the last page"},
            "position": {"type": "integer", "description": "The log position the page reflects"},
        }),
        json!(["items", "position"]),
        json!({"items": [], "position": 4410}),
    ));
    schemas.insert("IncidentRecord".into(), object(
        json!({
            "kind": schema_ref("IncidentKind"), "title": schema_ref("Name"), "level": schema_ref("ResponseLevel"),
            "affected_areas": {"type": "array", "items": schema_ref("DivisionCode")}, "closed": {"type": "boolean"},
        }),
        json!(["kind", "title", "level", "affected_areas", "closed"]),
        json!({"kind": "infectious_disease", "title": "万州区呼吸道传染病聚集性疫情", "level": "IV",
               "affected_areas": ["500101"], "closed": false}),
    ));
    schemas
}
