//! Surge plans over HTTP (see `crate::plans`):
//!
//! - `POST /api/v1/plans` plans an incident's recorded demand and/or ad-hoc
//!   demand over the view as it stands, records the plan in the log and answers
//!   201 with it (assignments, shortfalls, escalations, certificate).
//! - `GET /api/v1/plans/{id}` reads it back, with its approval once approved.
//! - `POST /api/v1/plans/{id}/approve` issues the dispatch commands, each with
//!   the plan id in its metadata, and records what each did. Approving twice
//!   appends nothing the second time.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use ercs_domain::ids::PlanId;
use ercs_eventlog::{
    Direction, EventData, EventType, ExpectedRevision, JsonObject, Position, ReadFrom, StreamName,
};
use serde_json::json;

use crate::plans::{self, Approval, PlanRecord, PlanRequest, RequestError};
use crate::problem::Problem;
use crate::query::Params;
use crate::routes::commands::{actor, json_body, read_body, require_json};
use crate::routes::resources::{POSITION_HEADER, etag};
use crate::state::AppState;

const PROPOSED: &str = "PlanProposed";
const APPROVED: &str = "PlanApproved";

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/api/v1/plans", web::post().to(propose))
        .route("/api/v1/plans/{id}", web::get().to(get))
        .route("/api/v1/plans/{id}/approve", web::post().to(approve));
}

fn stream(plan: PlanId) -> StreamName {
    StreamName::new(format!("plan-{plan}")).expect("a valid stream name")
}

async fn propose(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let options = params.read_options()?;
    params.finish()?;
    let body = read_body(&request, payload).await?;
    let plan_request: PlanRequest = json_body(&body)?;
    let actor = actor(&request)?;
    let now = Utc::now();
    let view = state.view(options).await?;
    let (problem, _) =
        view.read(|view| plans::problem(view, &plan_request, &state.geography, &state.areas, now));
    let problem = problem.map_err(|error| {
        let (status, slug, title) = match error {
            RequestError::ClosedIncident(_) => {
                (StatusCode::CONFLICT, "incident-closed", "Incident closed")
            }
            _ => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "nothing-to-plan",
                "Nothing to plan",
            ),
        };
        Problem::new(status, slug, title, error.to_string()).with_field(
            if plan_request.incident.is_some() {
                "incident"
            } else {
                "demands"
            },
        )
    })?;
    let (problem, planned) = web::block(move || {
        let planned = ercs_routing::plan(&problem);
        (problem, planned)
    })
    .await
    .map_err(|e| Problem::unavailable(format!("the planner did not finish: {e}")))?;
    let plan = planned.map_err(|error| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-plan-request",
            "Invalid plan request",
            error.to_string(),
        )
        .with_field("demands")
    })?;
    let plan_id = PlanId::from_uuid(uuid::Uuid::new_v4());
    let record = PlanRecord {
        plan_id,
        request: plan_request,
        problem,
        plan,
        proposed_at: now,
        proposed_by: actor.to_string(),
        approval: None,
    };
    let position = append(
        &state,
        plan_id,
        ExpectedRevision::NoStream,
        PROPOSED,
        &record,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/plans/{plan_id}")))
        .insert_header((header::ETAG, etag(0)))
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .json(json!({"id": plan_id, "position": position.0, "record": record})))
}

async fn get(state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, Problem> {
    let (record, revision) = load(&state, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(revision)))
        .json(record))
}

async fn approve(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    require_json(&request)?;
    // Approvals of one plan take turns: the first dispatches, the others find it
    // approved. Each dispatch step is keyed besides, so an approval retried after
    // a crash mid-way dispatches only what the first did not.
    let plan = id
        .parse::<PlanId>()
        .map_or_else(|_| id.to_string(), |plan| plan.to_string());
    let _turn = state.processes.take(&format!("plan/{plan}")).await;
    let (record, revision) = load(&state, &id).await?;
    if record.approval.is_some() {
        return Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, etag(revision)))
            .json(json!({"id": record.plan_id, "record": record})));
    }
    if let Some(incident) = record.request.incident {
        let closed = state
            .view
            .read(|view| view.incidents.get(&incident).is_some_and(|i| i.closed))
            .0;
        if closed {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "incident-closed",
                "Incident closed",
                format!("incident `{incident}` is closed; its plans can no longer be approved"),
            ));
        }
    }
    let actor = actor(&request)?;
    let dispatches = plans::dispatch(&state.aggregates, &record, &actor).await?;
    let approval = Approval {
        approved_at: Utc::now(),
        approved_by: actor.to_string(),
        dispatches,
    };
    let position = append(
        &state,
        record.plan_id,
        ExpectedRevision::Exact(revision),
        APPROVED,
        &approval,
    )
    .await?;
    // Answer with the approval the log holds: where another replica approved
    // first, the append above was recognised as a retry and kept theirs.
    let (record, revision) = load(&state, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(revision)))
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .json(json!({"id": record.plan_id, "position": position.0, "record": record})))
}

async fn append<T: serde::Serialize>(
    state: &AppState,
    plan: PlanId,
    expected: ExpectedRevision,
    event_type: &str,
    data: &T,
) -> Result<Position, Problem> {
    let data = JsonObject::from_serialize(data).map_err(|e| Problem::unavailable(e.to_string()))?;
    // Deterministic: approving twice at once appends one approval.
    let id = uuid::Uuid::new_v5(&plan.as_uuid(), event_type.as_bytes());
    let event = EventData::new(id, EventType::new(event_type).expect("a valid type"), data)
        .map_err(|error| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "plan-too-large",
                "Plan too large",
                error.to_string(),
            )
        })?;
    state
        .log
        .append(&stream(plan), expected, vec![event])
        .await
        .map(|appended| appended.position)
        .map_err(|error| match error {
            ercs_eventlog::Error::WrongExpectedRevision { .. } => Problem::new(
                StatusCode::CONFLICT,
                "stale-revision",
                "Stale revision",
                "the plan changed meanwhile; read it again",
            ),
            error => Problem::unavailable(format!("the event log failed: {error}")),
        })
}

async fn load(state: &AppState, raw: &str) -> Result<(PlanRecord, u64), Problem> {
    let missing = || Problem::not_found(format!("no plan with id `{raw}`"));
    let plan: PlanId = raw.parse().map_err(|_| missing())?;
    let events = state
        .log
        .read_stream(&stream(plan), ReadFrom::Start, Direction::Forwards, 16)
        .await
        .map_err(|error| Problem::unavailable(format!("cannot read the log: {error}")))?;
    let mut record: Option<PlanRecord> = None;
    let mut revision = 0;
    for event in &events {
        revision = event.revision;
        match event.event_type.as_str() {
            PROPOSED => record = event.data.deserialize().ok(),
            APPROVED => {
                if let Some(record) = record.as_mut() {
                    record.approval = event.data.deserialize().ok();
                }
            }
            _ => {}
        }
    }
    record.map(|r| (r, revision)).ok_or_else(missing)
}
