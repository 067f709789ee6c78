//! The audit trail (审计): who did what, to which resource, when and why.
//!
//! - `GET /api/v1/{collection}/{id}/history`: one resource's events, oldest
//!   first, each with its actor, paged by revision (`after`, `limit`).
//! - `GET /api/v1/audit`: the whole log's changes, filtered by `actor`,
//!   `resource`, `incident`, `area`, `since` and `until`, paged by position.
//!
//! Both read the log, never a fold of it, and bound their work per request: a
//! history page is one stream read; an audit page scans at most [`SCAN`] events
//! from `after` and says where it stopped (`next_after`), so a filter that
//! matches rarely costs each request the same, not a scan of the whole log.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use ercs_domain::area::AreaCode;
use ercs_eventlog::{Direction, Filter, Position, ReadFrom, RecordedEvent, StreamName};
use ercs_projections::one_network::ResourceKind;
use serde::Serialize;
use serde_json::Value;

use crate::auth::Jurisdiction;
use crate::problem::Problem;
use crate::query::{Params, bad};
use crate::state::{AppState, Net, PathId};

/// The most events one audit page reads.
pub const SCAN: usize = 2_000;
/// The most entries one page answers.
const MAX_LIMIT: u64 = 500;
const DEFAULT_LIMIT: usize = 100;

pub fn configure(config: &mut web::ServiceConfig, base: &str) {
    config.route(&format!("{base}/audit"), web::get().to(audit));
    for kind in ResourceKind::ALL {
        config.route(
            &format!("{base}/{kind}/{{id}}/history"),
            web::get().to(move |state, request, id| history(state, request, id, kind)),
        );
    }
}

/// One change, as the audit trail shows it.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub position: u64,
    /// The resource's stream, e.g. `team-<id>`.
    pub stream: String,
    pub revision: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub recorded_at: DateTime<Utc>,
    /// Who acted, as recorded (the token's display name).
    pub actor: Value,
    /// The authenticated subject, name, role and jurisdiction, when recorded.
    pub authenticated: Value,
    pub request_id: Value,
    /// Why, when the command said (`reason`).
    pub reason: Value,
    pub data: Value,
}

impl Entry {
    fn of(event: &RecordedEvent) -> Self {
        let data: Value = serde_json::from_str(event.data.as_str()).unwrap_or(Value::Null);
        let metadata: Value = serde_json::from_str(event.metadata.as_str()).unwrap_or(Value::Null);
        Self {
            position: event.position.0,
            stream: event.stream.as_str().to_owned(),
            revision: event.revision,
            event_type: event.event_type.as_str().to_owned(),
            recorded_at: event.recorded_at,
            actor: metadata["actor"].clone(),
            authenticated: metadata["authenticated"].clone(),
            request_id: metadata["request_id"].clone(),
            reason: data["reason"].clone(),
            data,
        }
    }
}

#[derive(Serialize)]
struct History {
    items: Vec<Entry>,
    /// Pass as `after` for the next page; absent at the stream's end.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_after: Option<u64>,
}

async fn history(
    state: Net,
    request: HttpRequest,
    id: PathId,
    kind: ResourceKind,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let after = params.take_within("after", 0..=u64::MAX - 1, "revisions")?;
    let limit = limit(&mut params)?;
    params.finish()?;
    let stream = StreamName::new(format!("{}-{}", kind.stream_prefix(), id.as_str()))
        .map_err(|_| not_found(kind, &id))?;
    let from = after.map_or(ReadFrom::Start, |after| ReadFrom::At(after + 1));
    let mut events = state
        .log
        .read_stream(&stream, from, Direction::Forwards, limit + 1)
        .await
        .map_err(|error| Problem::unavailable(format!("cannot read the log: {error}")))?;
    if events.is_empty() && after.is_none() {
        return Err(not_found(kind, &id));
    }
    let more = events.len() > limit;
    events.truncate(limit);
    let next_after = more.then(|| events.last().map(|e| e.revision)).flatten();
    let items = events.iter().map(Entry::of).collect();
    Ok(HttpResponse::Ok().json(History { items, next_after }))
}

fn not_found(kind: ResourceKind, id: &str) -> Problem {
    Problem::not_found(format!(
        "no {} with id `{id}`",
        crate::routes::resources::kind_singular(kind)
    ))
}

/// What an audit query keeps.
struct AuditFilter {
    actor: Option<String>,
    resource: Option<String>,
    incident: Option<String>,
    area: Option<AreaCode>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

impl AuditFilter {
    fn parse(params: &mut Params, state: &AppState) -> Result<Self, Problem> {
        let area = match params.take_raw("area") {
            Some(raw) => {
                let code: AreaCode = raw
                    .parse()
                    .map_err(|_| bad("area", "must be a division code or region slug"))?;
                if state.areas.get(&code).is_none() {
                    return Err(bad("area", "must be an area of the city's tree"));
                }
                Some(code)
            }
            None => None,
        };
        let time = |params: &mut Params, name: &str| {
            params
                .take_raw(name)
                .map(|raw| {
                    DateTime::parse_from_rfc3339(&raw)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|_| {
                            bad(
                                name,
                                "must be an RFC 3339 time such as 2026-11-23T08:00:00Z",
                            )
                        })
                })
                .transpose()
        };
        Ok(Self {
            actor: params.take_raw("actor"),
            resource: params.take_raw("resource"),
            incident: params.take_raw("incident"),
            area,
            since: time(params, "since")?,
            until: time(params, "until")?,
        })
    }

    /// The position before the first event of the incident's or resource's
    /// stream, when the filter names one that exists (one stream read).
    async fn starts_after(&self, state: &AppState) -> Result<u64, Problem> {
        let stream = match (&self.incident, &self.resource) {
            (Some(incident), _) => format!("incident-{incident}"),
            (None, Some(resource)) if resource.contains('-') => resource.clone(),
            _ => return Ok(0),
        };
        let Ok(stream) = StreamName::new(stream) else {
            return Ok(0);
        };
        let first = state
            .log
            .read_stream(&stream, ReadFrom::Start, Direction::Forwards, 1)
            .await
            .map_err(|error| Problem::unavailable(format!("cannot read the log: {error}")))?;
        Ok(first
            .first()
            .map_or(0, |event| event.position.0.saturating_sub(1)))
    }

    fn keeps(&self, state: &AppState, event: &RecordedEvent, entry: &Entry) -> bool {
        let id = event
            .stream
            .as_str()
            .split_once('-')
            .map_or("", |(_, id)| id);
        self.actor.as_ref().is_none_or(|actor| {
            entry.authenticated["subject"] == actor.as_str() || entry.actor == actor.as_str()
        }) && self
            .resource
            .as_ref()
            .is_none_or(|r| r == event.stream.as_str() || r == id)
            && self
                .incident
                .as_ref()
                .is_none_or(|incident| concerns(state, event, entry, incident))
            && self.since.is_none_or(|since| event.recorded_at >= since)
            && self.until.is_none_or(|until| event.recorded_at < until)
            && self.area.as_ref().is_none_or(|area| {
                let areas = state
                    .view
                    .read(|view| {
                        view.resource_of_stream(event.stream.as_str())
                            .map(|r| r.areas)
                    })
                    .0
                    .unwrap_or_default();
                let jurisdiction = Jurisdiction(area.clone());
                areas.iter().any(|a| jurisdiction.covers(&state.areas, a))
            })
    }
}

/// Whether an event concerns `incident`: its own, one naming it, or one of
/// its plans' (a plan's proposal and approval, the reservations and releases
/// they made, which name the plan).
fn concerns(state: &AppState, event: &RecordedEvent, entry: &Entry, incident: &str) -> bool {
    if event.stream.as_str() == format!("incident-{incident}")
        || entry.data["incident"] == incident
        || entry.data["request"]["incident"] == incident
    {
        return true;
    }
    let plan = match event.stream.as_str().strip_prefix("plan-") {
        Some(id) => Some(id),
        None => entry.data["plan"].as_str(),
    };
    plan.and_then(|plan| plan.parse().ok())
        .and_then(|plan| state.view.read(|view| view.plans.get(&plan).copied()).0)
        .is_some_and(|of| of.to_string() == incident)
}

#[derive(Serialize)]
struct AuditPage {
    items: Vec<Entry>,
    /// Where this page stopped reading: pass as `after` for the next one.
    next_after: u64,
    /// Whether the page read up to the log's head (later events may follow).
    at_head: bool,
    /// How many events this page read (at most 2,000).
    scanned: usize,
}

async fn audit(state: Net, request: HttpRequest) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let after = params
        .take_within("after", 0..=u64::MAX - 1, "positions")?
        .unwrap_or(0);
    let limit = limit(&mut params)?;
    let filter = AuditFilter::parse(&mut params, &state)?;
    params.finish()?;
    // Nothing concerns an incident or a resource before its stream began: a
    // trail asked from the start begins there, not 2,000 events at a time
    // through the seed.
    let after = after.max(filter.starts_after(&state).await?);
    let events = state
        .log
        .read_all(
            ReadFrom::At(Position(after + 1)),
            Direction::Forwards,
            &Filter::all(),
            SCAN,
        )
        .await
        .map_err(|error| Problem::unavailable(format!("cannot read the log: {error}")))?;
    let mut items = Vec::new();
    let mut scanned = 0;
    for event in &events {
        scanned += 1;
        let entry = Entry::of(event);
        if filter.keeps(&state, event, &entry) {
            items.push(entry);
            if items.len() == limit {
                break;
            }
        }
    }
    let at_head = scanned == events.len() && events.len() < SCAN;
    let next_after = events[..scanned].last().map_or(after, |e| e.position.0);
    Ok(HttpResponse::Ok().json(AuditPage {
        items,
        next_after,
        at_head,
        scanned,
    }))
}

fn limit(params: &mut Params) -> Result<usize, Problem> {
    Ok(params
        .take_within("limit", 1..=MAX_LIMIT, "entries")?
        .map_or(DEFAULT_LIMIT, |limit| limit as usize))
}

/// The audit endpoints in the OpenAPI document.
pub fn paths() -> serde_json::Map<String, Value> {
    use serde_json::json;
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let text = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "required": false, "description": description,
               "schema": {"type": "string"}})
    };
    let whole = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "required": false, "description": description,
               "schema": {"type": "integer", "minimum": 0}})
    };
    let limit = json!({"name": "limit", "in": "query", "required": false,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}});
    let entry = json!({"type": "object", "required": ["position", "stream", "revision", "type", "recorded_at"],
        "properties": {
            "position": {"type": "integer"}, "stream": {"type": "string"}, "revision": {"type": "integer"},
            "type": {"type": "string"}, "recorded_at": {"type": "string", "format": "date-time"},
            "actor": {}, "authenticated": {}, "request_id": {}, "reason": {}, "data": {}}});
    let mut paths = serde_json::Map::new();
    paths.insert("/api/v1/audit".into(), json!({"get": {
        "tags": ["audit"], "operationId": "audit",
        "summary": "审计: who did what, to which resource, when and why, oldest first",
        "description": "Each page reads at most 2,000 events after `after` and keeps those the filters \
            match; follow `next_after` (where the page stopped reading) for the next page, until `at_head`.",
        "parameters": [
            whole("after", "Read events after this log position (0: from the start)"),
            limit.clone(),
            text("actor", "The authenticated subject (or recorded actor name)"),
            text("resource", "A stream (`team-<id>`) or a resource id"),
            text("incident", "An incident id: its own events, those naming it, and its plans' (proposed, approved, \
                  and the reservations and releases they made)"),
            text("area", "A division code or region: changes to resources inside it"),
            json!({"name": "since", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}}),
            json!({"name": "until", "in": "query", "required": false, "schema": {"type": "string", "format": "date-time"}}),
        ],
        "responses": {"200": {"description": "A page of the audit trail", "content": {"application/json": {"schema": {
            "type": "object", "required": ["items", "next_after", "at_head", "scanned"],
            "properties": {"items": {"type": "array", "items": entry.clone()}, "next_after": {"type": "integer"},
                           "at_head": {"type": "boolean"}, "scanned": {"type": "integer"}}}}}},
            "400": problem, "503": problem}
    }}));
    for kind in ResourceKind::ALL {
        paths.insert(format!("/api/v1/{kind}/{{id}}/history"), json!({"get": {
            "tags": [kind.as_str()], "operationId": format!("history_of_{kind}"),
            "summary": "One resource's change history, oldest first, with who made each change",
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                whole("after", "Events after this revision"), limit.clone()],
            "responses": {"200": {"description": "Its events", "content": {"application/json": {"schema": {
                "type": "object", "required": ["items"],
                "properties": {"items": {"type": "array", "items": entry.clone()},
                               "next_after": {"type": "integer"}}}}}},
                "400": problem, "404": problem, "503": problem}
        }}));
    }
    paths
}
