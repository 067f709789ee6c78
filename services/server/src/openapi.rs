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
        health(
            "Liveness: the process answers HTTP",
            json!({"status": {"const": "ok"}}),
        ),
    );
    paths.insert(
        "/readyz".into(),
        health(
            "Readiness: the event log answers, the one-network view has caught up with the log as it was at start, and it keeps within `--max-lag` seconds of the log (else 503 problem+json saying which, with Retry-After)",
            json!({"status": {"const": "ready"}, "log_position": position_schema()}),
        ),
    );
    paths.insert("/metrics".into(), metrics_path());
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
    paths.insert("/api/v1/feed/tickets".into(), feed_tickets_path());
    paths.extend(token_paths());
    paths.extend(gis_paths());
    paths.extend(plan_paths());
    paths.extend(crate::routes::audit::paths());
    paths.extend(crate::routes::drills::paths());
    with_default_problem(&mut paths);
    let mut schemas: Map<String, Value> = components.into_iter().collect();
    schemas.extend(api_schemas());
    schemas.extend(gis_schemas());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ERCS — health-emergency resource one network (卫生应急资源“一张网”)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": DESCRIPTION,
            "license": {"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"},
        },
        "tags": (ResourceKind::ALL.iter().map(|k| json!({"name": k.as_str()}))
            .chain(["network", "feed", "gis", "plans", "audit", "access", "health"].map(|t| json!({"name": t})))
            .chain([json!({"name": "drills", "description": DRILLS})])
            .collect::<Vec<_>>()),
        "paths": paths,
        // Every operation but the health checks needs a bearer token (see `auth`).
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "A JWT (HS256, RS256 or ES256; `sub`, `name`, `role`, `jurisdiction`,                     `iss`, `aud`, `exp`) or an API token from `ercs token create`. Missing or bad: 401;                     a role or jurisdiction that may not: 403"}},
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
a resource's revision (its `ETag`); a stale one is a 409 whose `ETag` header is the current \
revision. `Idempotency-Key` makes a command take effect at most once: the log keeps the key with \
the command's events, so a retry (after a timeout or a crash, or a twin sent at the same moment) \
appends nothing and answers as the first time, with `Idempotent-Replayed: true`; the same key \
with another body is a 422. Every command must be sent as `Content-Type: application/json` \
(else 415), even one without a body. Errors are RFC 9457 problem+json. Every request but the \
health checks carries `Authorization: Bearer <token>`; the token, not the client, says who acts, and \
every event records it.";

fn components() -> BTreeMap<String, Value> {
    ercs_domain::openapi::openapi_components()
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap_or(Value::Null)))
        .collect()
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn parameter(name: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

/// Any error, as RFC 9457 problem+json.
fn problem() -> Value {
    json!({"$ref": "#/components/responses/Problem"})
}

/// The domain's command enum and state of each collection.
fn names(kind: ResourceKind) -> (&'static str, &'static str) {
    match kind {
        ResourceKind::Teams => ("TeamCommand", "TeamState"),
        ResourceKind::Facilities => ("FacilityCommand", "FacilityState"),
        ResourceKind::Depots => ("DepotCommand", "DepotState"),
        ResourceKind::Convertibles => ("ConvertibleCommand", "ConvertibleRecord"),
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
    ["IfMatch", "IdempotencyKey"]
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
        parameters.insert(0, id_parameter(kind));
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

/// The path's `{id}`: a UUID, or an item code for the catalogue.
fn id_parameter(kind: ResourceKind) -> Value {
    let name = if kind == ResourceKind::Items {
        "ItemId"
    } else {
        "Id"
    };
    json!({"$ref": format!("#/components/parameters/{name}")})
}

fn write_responses(create: bool) -> Value {
    let headers = json!({
        "ETag": {"description": "The resource's revision afterwards", "schema": etag_schema(), "example": "\"4\""},
        "ERCS-Position": {"description": "The log position the write reached", "schema": position_schema()},
        "Idempotent-Replayed": {"description": "`true` when this answers a retry of an `Idempotency-Key` \
            already applied: nothing was appended now", "schema": {"type": "string", "enum": ["true"]}},
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
    let problem = problem();
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
                "400": problem(), "503": problem(), "422": problem(),
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
        "parameters": [id_parameter(kind), parameter("MinPosition"), parameter("AsOf")],
        "responses": {
            "200": {
                "description": "The resource",
                "headers": {"ETag": {"schema": etag_schema(), "description": "Its revision"},
                            "ERCS-Position": {"schema": position_schema(), "description": "The log position the answer reflects"}},
                "content": {"application/json": {"schema": resource_schema(names(kind).1)}}
            },
            "304": {"description": "Unchanged since the `If-None-Match` ETag"},
            "400": problem(), "404": problem(), "503": problem(), "422": problem(),
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
                    "content": {"application/json": {"schema": schema_ref("NetworkRollups")}}},
                    "400": problem(), "503": problem(), "422": problem(),
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
    The feed lasts as long as what opened it: when the JWT expires, or the API token is revoked (a \
    ticket's feed: the token the ticket was asked with), a last `closed` event says why and the \
    stream ends; authenticate again and resume with `last_event_id`. \
    A resume older than the feed's memory is served from the log, a few at a time: the others wait \
    (receiving comment lines), and beyond the waiting queue a resume is refused with 503 and Retry-After.",
        "parameters": [
            {"name": "collection", "in": "query", "schema": {"type": "string"}, "example": "teams,facilities",
             "description": "Only these collections"},
            {"$ref": "#/components/parameters/Tier"}, {"$ref": "#/components/parameters/Area"},
            {"$ref": "#/components/parameters/Kind"}, {"$ref": "#/components/parameters/Status"},
            {"$ref": "#/components/parameters/Bbox"},
            {"name": "incident", "in": "query", "schema": {"type": "string", "format": "uuid"},
             "description": "Only changes to this incident and to what is committed to it (its teams, the facilities, venues and depots its plans hold)"},
            {"name": "crs", "in": "query", "schema": {"enum": ["wgs84", "gcj02", "bd09", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"]},
             "description": "Coordinates in WGS-84 (default), GCJ-02 (AMap, Tencent) or BD-09 (Baidu)"},
            {"name": "detail", "in": "query", "schema": {"enum": ["full", "summary"], "default": "full"},
             "description": "`full`: each feature carries the resource's whole state in `properties.state`, as \
              `GET` of the resource answers it. `summary`: without `properties.state`, for a map or a list \
              (name, tier, areas, kind, status, revision, what it is held for; the rollup as always); fetch \
              the resource when its detail is wanted. A depot's summary is under a third of its full update."},
            {"name": "last_event_id", "in": "query", "schema": position_schema(),
             "description": "Resume after this position (the `Last-Event-ID` header wins)"},
            {"name": "Last-Event-ID", "in": "header", "schema": position_schema(),
             "description": "The `id` of the last event received: resume right after it"},
            {"name": "ticket", "in": "query", "schema": {"type": "string"},
             "description": "For a browser's `EventSource`, which cannot send `Authorization`: a ticket from \
              `POST /api/v1/feed/tickets`, which opens one connection within 60 s of being issued. To reconnect, \
              ask for a new ticket and pass `last_event_id`."},
        ],
        "responses": {
            "200": {"description": "An endless event stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"},
                        "example": "id: 4412\nevent: update\ndata: {\"position\":4412,\"collection\":\"teams\",\"feature\":{…},\"rollup\":{…}}\n\n"}}},
            "400": problem(), "401": problem(), "503": problem(),
            "429": problem(),
        }
    }})
}

/// API tokens, administered while the service runs.
const DRILLS: &str = "Drills (演练). Each drill is a network of its own on a sandbox log: every \
network endpoint above is served inside a drill under `/api/v1/drills/{drill}` (e.g. \
`/api/v1/drills/{drill}/teams`, `…/plans`, `…/gis/collections`, `…/feed`), exactly as live, and \
nothing done there reaches the live log. Every answer inside a drill carries its id in the \
`ERCS-Drill` header and as `drill` in each JSON object body, every feed message as `drill`, every \
event in its metadata; commands are stamped with drill time. Drill directors (演练导演) and admins \
start and steer drills; inside one, its directors and players (演练参演) command (a player within \
its jurisdiction), dashboards read, and a live account acts only if the drill lists its subject \
in `participants`.";

fn token_paths() -> Map<String, Value> {
    let record = json!({"type": "object", "required": ["token_id", "principal", "created_at"], "properties": {
        "token_id": {"type": "string", "format": "uuid"},
        "principal": {"type": "object", "properties": {"subject": {"type": "string"}, "name": {"type": "string"},
                      "role": {"type": "string"}, "jurisdiction": {"type": "string"}}},
        "created_at": {"type": "string", "format": "date-time"},
        "revoked_at": {"type": ["string", "null"], "format": "date-time"}}});
    let roles: Vec<&str> = crate::auth::Role::ALL.iter().map(|r| r.as_str()).collect();
    let mut paths = Map::new();
    paths.insert("/api/v1/tokens".into(), json!({"post": {
        "tags": ["access"], "operationId": "create_token",
        "summary": "Create an API token for a machine (admins only); the token is shown once, only its digest is kept",
        "requestBody": {"required": true, "content": {"application/json": {
            "schema": {"type": "object", "additionalProperties": false,
                       "required": ["subject", "name", "role", "jurisdiction"], "properties": {
                "subject": {"type": "string", "description": "The account's stable id"},
                "name": {"type": "string", "description": "The name a person reads in the audit trail"},
                "role": {"enum": roles},
                "jurisdiction": {"type": "string", "description": "A division code (500101) or region"}}},
            "example": {"subject": "wanzhou-his", "name": "万州区人民医院床位上报系统",
                        "role": "district_dispatcher", "jurisdiction": "500101"}}}},
        "responses": {"201": {"description": "The token (shown once) and its record", "content": {"application/json": {
            "schema": {"type": "object", "required": ["token", "record"],
                       "properties": {"token": {"type": "string"}, "record": record.clone()}}}}},
            "400": problem(), "403": problem(), "415": problem(), "422": problem(), "503": problem()}
    }}));
    paths.insert("/api/v1/tokens/{id}/revoke".into(), json!({"post": {
        "tags": ["access"], "operationId": "revoke_token",
        "summary": "Revoke an API token (admins only): refused from its next request on, at every replica",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}],
        "responses": {"200": {"description": "The revoked token's record", "content": {"application/json": {"schema": record}}},
            "403": problem(), "404": problem(), "409": problem(), "503": problem()}
    }}));
    paths
}

fn feed_tickets_path() -> Value {
    json!({"post": {
        "tags": ["feed"],
        "operationId": "feed_ticket",
        "summary": "A one-use ticket that opens the feed from a browser's EventSource, which cannot send a token",
        "description": "The ticket names the caller (its role and jurisdiction apply to the feed it opens), opens \
    one feed connection, and only within 60 s; it is kept in the log as a digest, so any replica accepts it, \
    and of two connections racing with one ticket exactly one opens. No request body.",
        "responses": {
            "201": {"description": "The ticket, shown once",
                    "content": {"application/json": {"schema": schema_ref("FeedTicket")}}},
            "401": problem(), "503": problem(),
        }
    }})
}

/// Surge plans: propose, read, approve.
fn plan_paths() -> Map<String, Value> {
    let problem = problem();
    let plan_id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"},
        "example": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c88"});
    let record = schema_ref("PlanRecord");
    let outcome = schema_ref("PlanOutcome");
    let mut paths = Map::new();
    paths.insert("/api/v1/plans".into(), json!({"post": {
        "tags": ["plans"], "operationId": "propose_plan",
        "summary": "Plan an incident's recorded demand (and/or ad-hoc demand) optimally over the one network",
        "description": "For an incident, only what its approved plans do not already cover (held, on the way or in use) \
            is planned; when they cover it all the answer is `422 demand-covered`. With an `Idempotency-Key` a retry \
            answers with the plan the first request made (`Idempotent-Replayed: true`). With `supersedes` the plan replaces \
            an approved one (`409 plan-cancelled`, `plan-superseded` or `plan-not-approved` when that plan cannot be replaced).",
        "parameters": [{"$ref": "#/components/parameters/MinPosition"},
                       {"$ref": "#/components/parameters/IdempotencyKey"}],
        "requestBody": {"required": true, "content": {"application/json": {
            "schema": {"type": "object", "additionalProperties": false, "properties": {
                "incident": schema_ref("IncidentId"),
                "supersedes": {"type": "string", "format": "uuid",
                    "description": "An approved plan of the same incident that this one replaces: what it holds is offered to \
                     this plan, and approving this plan hands it over (only the difference dispatched, the rest released)"},
                "demands": {"type": "array", "items": {"type": "object"},
                            "description": "Ad-hoc demands: id, location {lon, lat}, area, priority (red|orange|yellow|green), needs {\"bed:adult_icu\": 4}"},
                "settings": {"type": "object", "additionalProperties": false,
                             "description": "Routing settings; an unknown one is refused. Service standards by kind: \
                              `standard_minutes` (beds: pre-hospital 14), `team_standard_minutes` and \
                              `supply_standard_minutes` (the 2-hour rescue circle, 120)",
                             "properties": {"horizon_minutes": {"type": "integer", "minimum": 0},
                                            "standard_minutes": {"type": "integer", "minimum": 0},
                                            "team_standard_minutes": {"type": "integer", "minimum": 0},
                                            "supply_standard_minutes": {"type": "integer", "minimum": 0},
                                            "escalation": {"type": "object"}, "roads": {"type": "object"},
                                            "nearest_sources": {"type": "integer", "minimum": 0},
                                            "nearest_per_tier": {"type": "integer", "minimum": 0}}}}},
            "example": {"incident": "0f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44"}}}},
        "responses": {"201": {"description": "The plan, recorded", "content": {"application/json": {"schema": outcome.clone()}}},
                      "400": problem, "404": problem, "409": problem, "413": problem, "415": problem, "422": problem, "503": problem}
    }}));
    paths.insert("/api/v1/plans/{id}".into(), json!({"get": {
        "tags": ["plans"], "operationId": "get_plan", "summary": "A plan, with its approval once approved",
        "parameters": [plan_id],
        "responses": {"200": {"description": "The plan", "content": {"application/json": {"schema": record}}}, "404": problem}
    }}));
    paths.insert("/api/v1/incidents/{id}/held".into(), json!({"get": {
        "tags": ["incidents"], "operationId": "incident_holdings",
        "summary": "Everything an incident holds: teams mobilised or on scene, beds and stock its plans reserve",
        "description": "What closing the incident releases. `close` refuses while anything is held, \
                        unless sent with `\"release_all\": true`.",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
                       {"$ref": "#/components/parameters/MinPosition"}],
        "responses": {"200": {"description": "What it holds", "content": {"application/json": {"schema": schema_ref("Holdings")}}},
                      "400": problem, "404": problem, "422": problem, "503": problem}
    }}));
    let assignment_item = json!({"type": "object",
                    "required": ["index", "source", "demand", "commodity", "quantity"], "properties": {
                    "index": {"type": "integer", "minimum": 0}, "source": {"type": "string"}, "demand": {"type": "string"},
                    "source_name": {"type": ["string", "null"]}, "demand_name": {"type": ["string", "null"]},
                    "commodity": {"type": "string"}, "quantity": {"type": "integer", "minimum": 0},
                    "travel_minutes": {"type": "number"}, "lead_minutes": {"type": "number"},
                    "arrival_minutes": {"type": "number"}, "within_standard": {"type": "boolean"},
                    "tier_path": {"type": "array", "items": {"type": "string"}},
                    "next_best": {"type": "object", "required": ["source", "arrival_minutes", "tier_path", "extra_seconds_per_unit"],
                        "description": "The best source this demand is not already served from: when a unit from it would arrive, across which \
                         tiers, and what each unit from it would add to the plan's cost at the least (its reduced cost, in \
                         seconds of arrival plus tier-crossing penalties)",
                        "properties": {"source": {"type": "string"}, "arrival_minutes": {"type": "number"},
                            "tier_path": {"type": "array", "items": {"type": "string"}},
                            "extra_seconds_per_unit": {"type": "integer", "minimum": 0}}},
                    "why": {"type": "string", "description": "Why this source, in Chinese: lead and drive, arrival against \
                        the standard, the tiers crossed, and the next best source with its extra cost per unit"},
                    "dispatch": {"type": "object"}}});
    paths.insert("/api/v1/plans/{id}/assignments".into(), json!({"get": {
        "tags": ["plans"], "operationId": "plan_assignments",
        "summary": "A page of a plan's assignments, named, with what each dispatch did once approved",
        "parameters": [plan_id.clone(),
            {"$ref": "#/components/parameters/Limit"},
            {"name": "cursor", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]+$"},
             "description": "The `next_cursor` of the previous page: the index of its last assignment", "example": "99"},
            {"name": "commodity", "in": "query", "schema": {"type": "string"}, "example": "bed:negative_flow_isolation",
             "description": "Only this commodity"},
            {"name": "demand", "in": "query", "schema": {"type": "string"}, "example": "area/500101001",
             "description": "Only this demand"}],
        "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"type": "object",
            "required": ["plan", "items"], "properties": {
                "plan": {"type": "string", "format": "uuid"},
                "next_cursor": {"type": "string", "description": "Absent on the last page"},
                "items": {"type": "array", "items": assignment_item}}}}}},
                      "400": problem.clone(), "404": problem.clone(), "503": problem.clone()}
    }}));
    paths.insert("/api/v1/plans/{id}/problem".into(), json!({"get": {
        "tags": ["plans"], "operationId": "plan_problem",
        "summary": "The routing problem a plan was made for, its sources rebuilt from the log as of `planned_at`",
        "description": "A plan's record is compact: it keeps its demands and settings, not the whole network. This \
            rebuilds the sources exactly as the planner saw them, so `Certificate::verify` can re-check the plan.",
        "parameters": [plan_id.clone()],
        "responses": {"200": {"description": "The problem", "content": {"application/json": {"schema": {"type": "object",
            "required": ["sources", "demands", "settings"], "properties": {
                "sources": {"type": "array", "items": {"type": "object"}},
                "demands": {"type": "array", "items": {"type": "object"}},
                "settings": {"type": "object"}}}}}},
                      "404": problem.clone(), "503": problem.clone()}
    }}));
    paths.insert("/api/v1/incidents/{id}/plans".into(), json!({"get": {
        "tags": ["incidents"], "operationId": "incident_plans",
        "summary": "An incident's plans, oldest first, with where each stands",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}},
                       {"$ref": "#/components/parameters/MinPosition"}],
        "responses": {"200": {"description": "Its plans", "content": {"application/json": {"schema": schema_ref("IncidentPlans")}}},
                      "400": problem, "404": problem, "422": problem, "503": problem}
    }}));
    paths.insert("/api/v1/plans/{id}/approve".into(), json!({"post": {
        "tags": ["plans"], "operationId": "approve_plan",
        "summary": "Approve: reserve the beds and stock and mobilise the teams, each event carrying the plan id; twice appends nothing",
        "description": "Every chosen assignment is checked against the network first: if a source no longer offers what \
            the plan takes from it, the answer is `409 plan-stale` naming what changed (in `outcome.changed`) and nothing is \
            dispatched, unless `partial` asks to dispatch what still fits. A dispatch refused halfway by a change the check \
            could not see undoes the approval and cancels the plan (`409 plan-stale`).",
        "parameters": [plan_id.clone()],
        "requestBody": {"required": false, "content": {"application/json": {
            "schema": {"type": "object", "additionalProperties": false, "properties": {
                "assignments": {"type": "array", "items": {"type": "integer", "minimum": 0},
                                "description": "Approve only these assignments (indices into `plan.assignments`)"},
                "partial": {"type": "boolean", "default": false,
                            "description": "Dispatch what still fits and record the rest as `stale`, instead of a 409"}}},
            "example": {"assignments": [0, 1, 3]}}}},
        "responses": {"200": {"description": "What each dispatch command did", "content": {"application/json": {"schema": outcome.clone()}}},
                      "400": problem, "404": problem, "409": problem, "415": problem, "422": problem, "503": problem}
    }}));
    paths.insert("/api/v1/plans/{id}/cancel".into(), json!({"post": {
        "tags": ["plans"], "operationId": "cancel_plan",
        "summary": "Cancel a plan: release every reservation it made and demobilise the teams it mobilised; twice does it once",
        "description": "Stock already issued from its reservations is on its way and is not recalled.",
        "parameters": [plan_id],
        "requestBody": {"required": true, "content": {"application/json": {
            "schema": {"type": "object", "additionalProperties": false, "required": ["reason"],
                       "properties": {"reason": schema_ref("Reason")}},
            "example": {"reason": "疫情形势变化，重新制定方案"}}}},
        "responses": {"200": {"description": "The plan, cancelled", "content": {"application/json": {"schema": outcome}}},
                      "400": problem, "404": problem, "415": problem, "422": problem, "503": problem}
    }}));
    paths
}

/// OGC API – Features (Part 1) under `/api/v1/gis`.
fn gis_paths() -> Map<String, Value> {
    let get = |id: &str, summary: &str, parameters: Value, media: &str, example: Value| {
        let (schema, reads_view) = gis_schema(id);
        let mut responses = json!({
            "200": {"description": summary, "content": {media: {"schema": schema_ref(schema), "example": example}}},
            "400": problem(),
            "404": problem(),
        });
        if reads_view {
            responses["503"] = problem();
        }
        json!({"get": {
            "tags": ["gis"], "operationId": id, "summary": summary, "parameters": parameters,
            "responses": responses,
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

/// The body schema of a GIS operation, and whether it reads the view (and so
/// may wait for `min_position`).
fn gis_schema(operation: &str) -> (&'static str, bool) {
    match operation {
        "gis_landing" => ("OgcLanding", false),
        "gis_conformance" => ("OgcConformance", false),
        "gis_collections" => ("OgcCollections", true),
        "gis_collection" => ("OgcCollection", true),
        "gis_items" => ("FeatureCollection", true),
        _ => ("Feature", false),
    }
}

/// GeoJSON (RFC 7946) and OGC API – Features bodies, as `/api/v1/gis` writes them.
fn gis_schemas() -> Map<String, Value> {
    let position =
        json!({"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2});
    let bbox = json!({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4});
    let link = json!({"type": "object", "required": ["href", "rel"], "properties": {
        "href": {"type": "string", "format": "uri"}, "rel": {"type": "string"},
        "type": {"type": "string"}, "title": {"type": "string"}}});
    let links = json!({"type": "array", "items": link});
    let schemas = json!({
        "Geometry": {"description": "A point (resources, townships) or a district's boundary, in the `crs` asked for",
            "oneOf": [
                {"type": "object", "required": ["type", "coordinates"], "properties": {
                    "type": {"const": "Point"}, "coordinates": position}},
                {"type": "object", "required": ["type", "coordinates"], "properties": {
                    "type": {"const": "MultiPolygon"},
                    "coordinates": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": position}}}}},
            ]},
        "Feature": {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
            "type": {"const": "Feature"}, "id": {"type": "string"},
            "geometry": {"anyOf": [schema_ref("Geometry"), {"type": "null"}]},
            "properties": {"type": "object", "required": ["collection"], "properties": {
                "collection": {"type": "string"}, "name": {"type": "string"},
                "revision": {"type": ["integer", "null"], "minimum": 0},
                "updated_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}}}}},
        "FeatureCollection": {"type": "object",
            "required": ["type", "features", "numberMatched", "numberReturned", "timeStamp", "links"], "properties": {
            "type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": schema_ref("Feature")},
            "numberMatched": {"type": "integer", "minimum": 0}, "numberReturned": {"type": "integer", "minimum": 0},
            "timeStamp": {"type": "string", "format": "date-time"}, "links": links, "bbox": bbox}},
        "OgcCollection": {"type": "object", "required": ["id", "title", "itemType", "links"], "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "itemType": {"const": "feature"},
            "crs": {"type": "array", "items": {"type": "string"}}, "storageCrs": {"type": "string"},
            "extent": {"type": "object", "properties": {"spatial": {"type": "object", "properties": {
                "bbox": {"type": "array", "items": bbox}, "crs": {"type": "string"}}}}},
            "links": links}},
        "OgcCollections": {"type": "object", "required": ["collections", "links"], "properties": {
            "collections": {"type": "array", "items": schema_ref("OgcCollection")}, "links": links}},
        "OgcLanding": {"type": "object", "required": ["title", "links"], "properties": {
            "title": {"type": "string"}, "description": {"type": "string"}, "links": links}},
        "OgcConformance": {"type": "object", "required": ["conformsTo"], "properties": {
            "conformsTo": {"type": "array", "items": {"type": "string", "format": "uri"}}}},
    });
    schemas.as_object().cloned().unwrap_or_default()
}

fn health(summary: &str, properties: Value) -> Value {
    let required: Vec<&String> = properties
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .collect();
    let schema = json!({"type": "object", "properties": properties, "required": required});
    json!({"get": {"tags": ["health"], "summary": summary, "security": [],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
                      "503": problem()}}})
}

/// `/metrics`, for Prometheus: text, and a token like every other read.
fn metrics_path() -> Value {
    json!({"get": {"tags": ["health"],
        "summary": "Metrics in the Prometheus text format (0.0.4): requests by route pattern and status, appends, the view's lag, the feed, plan solve times, the replica's identity. Any valid token (Prometheus: `authorization: {credentials: …}` with a viewer API token)",
        "responses": {"200": {"description": "OK",
            "content": {"text/plain": {"schema": {"type": "string"}}}},
            "401": problem()}}})
}

/// Every operation may also answer what the HTTP layer itself refuses (405 for
/// another method, 413, 431, a malformed request): `default`, problem+json.
fn with_default_problem(paths: &mut Map<String, Value>) {
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            responses.entry("default").or_insert_with(problem);
        }
    }
}

fn parameters() -> Value {
    let query = |name: &str, description: &str, schema: Value, example: Value| json!({"name": name, "in": "query", "description": description, "schema": schema, "example": example});
    let header = |name: &str, description: &str, example: &str| json!({"name": name, "in": "header", "description": description, "schema": {"type": "string"}, "example": example});
    json!({
        "Id": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"},
               "description": "The resource's id", "example": "5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11"},
        "ItemId": {"name": "id", "in": "path", "required": true, "schema": schema_ref("ItemCode"),
                   "description": "The catalogue item's code", "example": "N95"},
        "Tier": query("tier", "Only this tier", schema_ref("Tier"), json!("district")),
        "Area": query("area", "Only resources in this area or inside it (division code or region slug)", schema_ref("AreaCode"), json!("500101")),
        "Kind": query("kind", "Only this kind: team kind, facility kind, reserve tier, peacetime use, incident kind, item category", json!({"type": "string"}), json!("medical_rescue")),
        "Status": query("status", "Only this status (standby, deployed, emergency_active, open, ...)", json!({"type": "string"}), json!("standby")),
        "Bbox": bbox_parameter(),
        "Limit": query("limit", "Page size", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}), json!(50)),
        "Cursor": query("cursor", "The `next_cursor` of the previous page: the id of its last item", cursor_schema(), json!("5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11")),
        "MinPosition": query("min_position", "Wait (at most 2 s, else 503 with Retry-After) until the view has reached this log position; a position beyond the log's head is a 422 `position-beyond-head`", position_schema(), json!(4411)),
        "AsOf": query("as_of", "Read as of a log position or an RFC 3339 time, folded from the log forward from the nearest kept view of the past",
            json!({"oneOf": [position_schema(), {"type": "string", "format": "date-time"}]}), json!("2026-11-23T08:00:00Z")),
        "IfMatch": header("If-Match", "The revision (ETag) the command was decided against; a stale one is a 409", "\"3\""),
        "IdempotencyKey": header("Idempotency-Key", "Names the request: a retry with the same key and body, however late and whatever happened \
            in between, appends nothing and answers as the first time. Kept as long as the log; scoped by method and path", "b6f1c0de-7c1e-4d0a-9e55-2f3a1b4c5d6e"),
    })
}

/// A position in the log: the `ERCS-Position` of a write, an SSE `id`.
/// A stream revision as an entity tag: `"3"`.
fn etag_schema() -> Value {
    json!({"type": "string", "pattern": "^\"[0-9]+\"$"})
}

fn position_schema() -> Value {
    json!({"type": "integer", "format": "int64", "minimum": 0})
}

/// A page cursor is the id of the item it follows: a UUID, a division code or
/// an item code.
fn cursor_schema() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9._-]+$"})
}

/// `bbox=west,south,east,north` as in OGC API – Features: four numbers, comma
/// separated (`style: form`, not exploded), WGS-84 degrees, south ≤ north.
fn bbox_parameter() -> Value {
    let longitude = json!({"type": "number", "minimum": -180, "maximum": 180});
    let latitude = json!({"type": "number", "minimum": -90, "maximum": 90});
    json!({
        "name": "bbox", "in": "query", "style": "form", "explode": false,
        "description": "Only points inside west,south,east,north (WGS-84 degrees; south ≤ north)",
        "schema": {"type": "array", "minItems": 4, "maxItems": 4,
                   "prefixItems": [longitude, latitude, longitude, latitude], "items": false},
        "example": [107.9, 30.5, 108.9, 31.1],
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
            "request_id": {"type": "string", "format": "uuid",
                           "description": "The request's id, as in its `X-Request-Id` header, the log lines written while serving it and the audit metadata of what it appended"},
            "outcome": {"$ref": "#/components/schemas/WriteOutcome",
                        "description": "What the request appended all the same, when a later step of its process \
                                        was refused (`transfer-returned`: dispatched, then returned)"},
        }),
        json!(["type", "title", "status", "detail"]),
        json!({"type": "https://ercs.example/problems/invalid-field", "title": "Invalid field", "status": 422,
               "detail": "`headcount`: must be between 1 and 10000", "field": "headcount"}),
    ));
    schemas.insert("FeedTicket".into(), object(
        json!({
            "ticket": {"type": "string", "description": "Pass as `?ticket=` to GET /api/v1/feed, once, before `expires_at`"},
            "expires_at": {"type": "string", "format": "date-time"},
            "feed": {"type": "string", "description": "The feed's URL with this ticket, for `new EventSource(…)`; \
                     add the feed's other parameters (`&collection=…`, `&last_event_id=…`)"},
        }),
        json!(["ticket", "expires_at", "feed"]),
        json!({"ticket": "ercs-ticket_0b0c5e3f8a8e4a6e9d1e7c1f2a3b4c5d_2f1e…", "expires_at": "2026-12-02T08:01:00Z",
               "feed": "/api/v1/feed?ticket=ercs-ticket_0b0c5e3f8a8e4a6e9d1e7c1f2a3b4c5d_2f1e…"}),
    ));
    let held = |properties: Value, required: Value| json!({"type": "object", "properties": properties, "required": required});
    let name = json!({"type": "string"});
    let uuid = json!({"type": "string", "format": "uuid"});
    let time = json!({"type": "string", "format": "date-time"});
    let beds = held(
        json!({"facility": uuid, "name": name, "plan": uuid, "bed_type": schema_ref("BedType"),
               "class": schema_ref("BedClass"), "beds": {"type": "integer", "minimum": 0}}),
        json!(["facility", "name", "plan", "bed_type", "class", "beds"]),
    );
    schemas.insert("Movement".into(), json!({
        "type": "object", "description": "Stock moving for an incident: a consignment (配送) to a township, facility or site, or a transfer (调拨) between depots",
        "required": ["kind", "id", "from", "from_name", "item", "quantity", "to_area", "dispatched_at"],
        "properties": {
            "kind": {"enum": ["consignment", "transfer"]}, "id": uuid, "from": uuid, "from_name": name,
            "item": schema_ref("ItemCode"), "quantity": {"type": "integer", "minimum": 0},
            "to_area": schema_ref("AreaCode"), "to_depot": uuid, "to_facility": uuid, "location": schema_ref("GeoPoint"),
            "dispatched_at": time, "expected_arrival": time,
            "received_by": {"type": "string", "description": "Who signed for it (签收)"},
            "plan": uuid, "incident": uuid,
        },
    }));
    let holdings = json!({
        "teams": {"type": "array", "description": "Teams mobilising (en route) or on scene", "items": held(
            json!({"team": uuid, "name": name, "status": schema_ref("TeamStatus")}), json!(["team", "name", "status"]))},
        "beds": {"type": "array", "description": "Beds its plans reserve", "items": beds.clone()},
        "stock": {"type": "array", "description": "Stock its plans reserve", "items": held(
            json!({"depot": uuid, "name": name, "plan": uuid, "item": schema_ref("ItemCode"),
                   "quantity": {"type": "integer", "minimum": 0}}),
            json!(["depot", "name", "plan", "item", "quantity"]))},
        "in_transit": {"type": "array", "description": "Consignments and transfers on the road for it, with when each is due",
                       "items": schema_ref("Movement")},
        "beds_in_use": {"type": "array", "description": "Beds its patients occupy (admitted under its plans): in use, not held",
                        "items": beds},
        "delivered": {"type": "array", "description": "Consignments signed for (签收): used, not held", "items": schema_ref("Movement")},
    });
    let mut with_incident = holdings.as_object().cloned().unwrap_or_default();
    with_incident.insert("incident".into(), uuid.clone());
    with_incident.insert("position".into(), json!({"type": "integer", "minimum": 0}));
    schemas.insert("Holdings".into(), json!({
        "type": "object",
        "required": ["incident", "teams", "beds", "stock", "in_transit", "beds_in_use", "delivered", "position"],
        "properties": with_incident,
    }));
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
            "held_for": {"type": "array", "description": "What it holds (`held`), has on the way (`in_transit`) or has in use \
                (`in_use`) for each incident; absent when nothing", "items": {"type": "object",
                "required": ["area", "kind", "status", "incident", "teams", "beds", "units"], "properties": {
                "tier": {"anyOf": [schema_ref("Tier"), {"type": "null"}]}, "area": schema_ref("AreaCode"),
                "kind": {"enum": ["teams", "beds", "stock"]}, "status": {"enum": ["held", "in_transit", "in_use"]},
                "incident": {"type": "string", "format": "uuid"}, "teams": {"type": "integer", "minimum": 0},
                "beds": {"type": "integer", "minimum": 0}, "units": {"type": "integer", "minimum": 0}}}},
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
    let rows = |description: &str| {
        json!({"type": "array", "description": description,
        "items": {"type": "object", "description": "The key fields kept by `group_by`, then the counts, summed"}})
    };
    schemas.insert("NetworkRollups".into(), object(
        json!({
            "at": {"type": "string", "format": "date-time"},
            "position": position_schema(),
            "teams": rows("Teams by tier, area, kind and status"),
            "beds": rows("Beds by area, bed type and ladder class: available now and within the lead time"),
            "supplies": rows("Usable stock by depot area and item, by expiry bucket, with the shortfall against reserve norms"),
            "convertibles": rows("平急两用 venues by area and phase"),
            "convertible_beds": rows("平急两用 beds by area and bed type: planned, open, reachable within the lead time"),
            "incidents": {"type": "array", "items": {"type": "object", "required": ["level", "open"], "properties": {
                "level": schema_ref("ResponseLevel"), "open": {"type": "integer", "minimum": 0}}}},
            "commitments": rows("What each tier and area hold for each incident (`held`), have on the way for it (`in_transit`, \
                counted where it is going) or have in use (`in_use`): teams, beds and units, by tier, area, kind, status and incident"),
            "stale_reports": {"type": "array", "items": {"type": "object",
                "required": ["facility", "name", "bed_type", "class", "reported_at", "age_minutes"], "properties": {
                "facility": {"type": "string"}, "name": {"type": "string"}, "bed_type": schema_ref("BedType"),
                "class": {"type": "string"}, "reported_at": {"type": "string", "format": "date-time"},
                "age_minutes": {"type": "integer"}}}},
            "skipped_events": {"type": "integer", "minimum": 0, "description": "Events the view could not read"},
        }),
        json!(["at", "position", "teams", "beds", "supplies", "convertibles", "convertible_beds", "commitments", "incidents", "stale_reports", "skipped_events"]),
        json!({"at": "2026-11-23T08:00:00Z", "position": 4410, "teams": [{"tier": "district", "count": 38}],
               "beds": [], "supplies": [], "convertibles": [], "convertible_beds": [], "commitments": [], "incidents": [{"level": "IV", "open": 1}],
               "stale_reports": [], "skipped_events": 0}),
    ));
    schemas.insert("PlanRecord".into(), object(
        json!({
            "plan_id": {"type": "string", "format": "uuid"},
            "request": {"type": "object", "description": "What was asked: the incident and/or ad-hoc demands, settings"},
            "problem": {"type": "object", "description": "The routing problem built from the view, to re-check the certificate"},
            "plan": {"type": "object", "description": "Assignments, shortfalls, escalations and the certificate of optimality"},
            "proposed_at": {"type": "string", "format": "date-time"},
            "proposed_by": {"type": "string"},
            "approval": {"type": "object", "required": ["approved_at", "approved_by", "dispatches"], "properties": {
                "approved_at": {"type": "string", "format": "date-time"}, "approved_by": {"type": "string"},
                "partial": {"type": "boolean", "description": "Only a chosen or still-fitting subset was dispatched"},
                "dispatches": {"type": "array", "items": {"type": "object", "required": ["assignment", "outcome"], "properties": {
                    "assignment": {"type": "integer", "minimum": 0},
                    "outcome": {"enum": ["dispatched", "refused", "needs_conversion", "stale"]},
                    "command": {"type": "string"}, "detail": {"type": "string"}, "position": {"type": "integer"},
                    "taken_over": {"type": "integer", "minimum": 1,
                        "description": "Units handed over from the superseded plan's hold at this source; the rest was dispatched anew"}}}}}},
            "takeover": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                "description": "For a plan that supersedes another: by assignment index, the units it takes over from that plan's hold"},
            "superseded": {"type": "object", "required": ["by", "at"], "properties": {
                "by": {"type": "string", "format": "uuid"}, "at": {"type": "string", "format": "date-time"}},
                "description": "Present once a later plan took its place"},
            "cancellation": {"type": "object", "required": ["at", "by", "reason", "released"], "properties": {
                "at": {"type": "string", "format": "date-time"}, "by": {"type": "string"}, "reason": {"type": "string"},
                "released": {"type": "integer", "minimum": 0, "description": "Reservations and teams given back"}}},
            "request_digest": {"type": "string", "format": "uuid", "description": "Names the request body of a keyed proposal"},
            "actions": {"type": "array", "description": "What to start now for bed need the horizon could not meet: \
                convert a 平急两用 venue, activate rapid-expansion beds, vacate rapid-vacate beds, with when they are ready",
                "items": {"type": "object", "required": ["action", "source", "commodity", "demand", "quantity", "ready_in_minutes", "arrival_minutes"],
                    "properties": {"action": {"enum": ["convert", "activate_expansion", "vacate"]}, "source": {"type": "string"},
                        "commodity": {"type": "string"}, "demand": {"type": "string"}, "quantity": {"type": "integer", "minimum": 0},
                        "ready_in_minutes": {"type": "integer", "minimum": 0}, "arrival_minutes": {"type": "number"}}}},
            "planned_at": {"type": "integer", "minimum": 0,
                           "description": "The log position the plan was made at; `problem` keeps only demands and settings, \
                                           `GET /plans/{id}/problem` rebuilds its sources from the log as of here"},
            "names": {"type": "object", "additionalProperties": {"type": "string"},
                      "description": "In `GET`: every source and demand id of the plan, named as registered or as its area (高笋塘街道)"},
            "summary": {"type": "array", "description": "Per commodity: needed, served (within its standard), served by tier, shortfall, covered by actions, escalated",
                        "items": {"type": "object", "required": ["commodity", "needed", "served", "within_standard", "by_tier", "shortfall", "by_actions", "escalated"],
                            "properties": {"commodity": {"type": "string"}, "needed": {"type": "integer"}, "served": {"type": "integer"},
                                "within_standard": {"type": "integer"}, "by_tier": {"type": "object", "additionalProperties": {"type": "integer"}},
                                "shortfall": {"type": "integer"}, "by_actions": {"type": "integer"}, "escalated": {"type": "integer"}}}},
        }),
        json!(["plan_id", "request", "problem", "plan", "proposed_at", "proposed_by"]),
        json!({"plan_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c88", "request": {"incident": "0f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44"},
               "problem": {}, "plan": {}, "proposed_at": "2026-11-23T08:00:00Z", "proposed_by": "dispatcher"}),
    ));
    schemas.insert("IncidentPlans".into(), object(
        json!({
            "incident": {"type": "string", "format": "uuid"},
            "position": position_schema(),
            "plans": {"type": "array", "items": {"type": "object",
                "required": ["plan", "status", "proposed_at", "proposed_by", "changed_at"], "properties": {
                "plan": {"type": "string", "format": "uuid"}, "incident": {"type": "string", "format": "uuid"},
                "status": {"enum": ["proposed", "approved", "partly_approved", "superseded", "cancelled"]},
                "proposed_at": {"type": "string", "format": "date-time"}, "proposed_by": {"type": "string"},
                "changed_at": {"type": "string", "format": "date-time"},
                "superseded_by": {"type": "string", "format": "uuid"}, "supersedes": {"type": "string", "format": "uuid"}}}},
        }),
        json!(["incident", "plans", "position"]),
        json!({"incident": "0f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44", "position": 4420,
               "plans": [{"plan": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c88", "incident": "0f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44",
                          "status": "approved", "proposed_at": "2026-11-23T08:00:00Z", "proposed_by": "dispatcher",
                          "changed_at": "2026-11-23T08:02:00Z"}]}),
    ));
    schemas.insert("PlanOutcome".into(), object(
        json!({
            "id": {"type": "string", "format": "uuid"},
            "position": {"type": "integer", "format": "int64", "minimum": 0,
                         "description": "The log position reached; absent when nothing new was written"},
            "record": schema_ref("PlanRecord"),
            "names": {"type": "object", "additionalProperties": {"type": "string"},
                      "description": "Every source and demand id of the plan, named as registered or as its area (高笋塘街道)"},
            "summary": {"type": "array", "description": "Per commodity: needed, served (within its standard), served by tier, shortfall, covered by actions, escalated",
                        "items": {"type": "object", "required": ["commodity", "needed", "served", "within_standard", "by_tier", "shortfall", "by_actions", "escalated"],
                            "properties": {"commodity": {"type": "string"}, "needed": {"type": "integer"}, "served": {"type": "integer"},
                                "within_standard": {"type": "integer"}, "by_tier": {"type": "object", "additionalProperties": {"type": "integer"}},
                                "shortfall": {"type": "integer"}, "by_actions": {"type": "integer"}, "escalated": {"type": "integer"}}}},
        }),
        json!(["id", "record"]),
        json!({"id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c88", "position": 4412, "record": {}}),
    ));
    schemas.insert("ConvertibleRecord".into(), object(
        json!({
            "state": schema_ref("ConvertibleState"),
            "since": {"type": "string", "format": "date-time", "description": "Since when the venue is in its current phase"},
        }),
        json!(["state", "since"]),
        json!({"since": "2026-11-01T00:00:00Z", "state": {"id": "27715553-a60e-54f6-9bd7-154abf8747ed",
               "name": "重庆市奥林匹克体育中心体育馆", "peacetime_use": "gymnasium", "area": "500107",
               "location": {"lon": 106.336, "lat": 29.352}, "phase": "peacetime", "planned_beds": {"general_isolation": 800},
               "lead_time_minutes": 2880, "conversion": null, "pools": []}}),
    ));
    schemas.insert("IncidentRecord".into(), object(
        json!({
            "kind": schema_ref("IncidentKind"), "title": schema_ref("Name"), "level": schema_ref("ResponseLevel"),
            "affected_areas": {"type": "array", "items": schema_ref("DivisionCode")}, "closed": {"type": "boolean"},
            "held": {"type": "object", "description": "In `GET /api/v1/incidents/{id}`: everything held for it, by kind and state \
                (the same lists as `/held`)", "properties": holdings},
        }),
        json!(["kind", "title", "level", "affected_areas", "closed"]),
        json!({"kind": "infectious_disease", "title": "万州区呼吸道传染病聚集性疫情", "level": "IV",
               "affected_areas": ["500101"], "closed": false}),
    ));
    schemas
}
