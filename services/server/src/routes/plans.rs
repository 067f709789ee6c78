//! Surge plans over HTTP (see `crate::plans`):
//!
//! - `POST /api/v1/plans` plans an incident's recorded demand and/or ad-hoc
//!   demand over the view as it stands, records the plan in the log and answers
//!   201 with it (assignments, shortfalls, escalations, certificate).
//! - `GET /api/v1/plans/{id}` reads it back, with its approval once approved.
//! - `POST /api/v1/plans/{id}/approve` issues the dispatch commands, each with
//!   the plan id in its metadata, and records what each did. Approving twice
//!   appends nothing the second time. `{"assignments": [..]}` approves a chosen
//!   subset; a plan whose sources changed so that a dispatch would be refused is
//!   a `409 plan-stale` naming what changed, unless `{"partial": true}` asks to
//!   dispatch what still fits. A dispatch refused halfway (a race the check could
//!   not see) undoes the approval and cancels the plan: never a partial 200 that
//!   was not asked for.
//! - `POST /api/v1/plans/{id}/cancel` gives back what the plan holds.
//! - A plan for an incident plans only what its live (approved) plans do not
//!   already cover: held, on the way or in use.
//! - `"supersedes": <plan>` replaces an approved plan of the same incident: what
//!   it holds is offered to the new plan, and approving the new plan hands it
//!   over (a `MoveReservation`, a team kept), dispatches only the difference,
//!   releases the rest and records `PlanSuperseded` on the old plan.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use ercs_domain::ids::PlanId;
use ercs_eventlog::{ExpectedRevision, Position};
use serde_json::json;

use crate::idempotency::{REPLAYED_HEADER, request_key};
use crate::plans::process::{
    self, ApproveRequest, PROPOSED, append, find, live_plans, load, superseded_plan,
};
use crate::plans::{self, PlanRecord, PlanRequest, RequestError};
use crate::problem::Problem;
use crate::query::Params;
use crate::routes::commands::{actor, json_body, read_body};
use crate::routes::resources::{POSITION_HEADER, etag};
use crate::state::{AppState, Net, PathId};

/// Plan ids minted from an `Idempotency-Key` live in a UUID v5 namespace of their own.
const PLAN_KEYS: uuid::Uuid = uuid::Uuid::from_u128(0x6572_6373_2d70_6c61_6e2d_6b65_7973_0001);

pub fn configure(config: &mut web::ServiceConfig, base: &str) {
    config
        .route(&format!("{base}/plans"), web::post().to(propose))
        .route(&format!("{base}/plans/{{id}}"), web::get().to(get))
        .route(
            &format!("{base}/plans/{{id}}/problem"),
            web::get().to(problem_of),
        )
        .route(
            &format!("{base}/plans/{{id}}/assignments"),
            web::get().to(assignments),
        )
        .route(
            &format!("{base}/plans/{{id}}/approve"),
            web::post().to(approve),
        )
        .route(
            &format!("{base}/plans/{{id}}/cancel"),
            web::post().to(cancel),
        );
}

/// Why a plan is cancelled.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    reason: ercs_domain::values::Reason,
}

async fn propose(
    state: Net,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let options = params.read_options()?;
    params.finish()?;
    let body = read_body(&request, payload).await?;
    let key = request_key(&request, &body)?;
    let plan_request: PlanRequest = json_body(&body)?;
    let actor = actor(&request)?;
    // A keyed proposal names its plan: a retry finds it and gets it back.
    let plan_id = key.as_ref().map_or_else(
        || PlanId::from_uuid(uuid::Uuid::new_v4()),
        |key| PlanId::from_uuid(uuid::Uuid::new_v5(&PLAN_KEYS, key.scoped.as_bytes())),
    );
    let _turn = state.processes.take(&format!("plan/{plan_id}")).await;
    if let Some(key) = &key
        && let Some((record, _)) = find(&state, plan_id).await?
    {
        if record.request_digest != Some(key.digest) {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
                "this Idempotency-Key was used for another plan request; use a new key",
            )
            .with_field("Idempotency-Key"));
        }
        let revision = 0;
        return Ok(HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!("{}/plans/{plan_id}", state.base()),
            ))
            .insert_header((header::ETAG, etag(revision)))
            .insert_header((REPLAYED_HEADER, "true"))
            .json(outcome(&state, &record, None)));
    }
    let now = state.now();
    let view = state.view(options).await?;
    // What the incident's plans cover must be read from a view that has seen
    // every approval so far, or a plan made right after one would plan it again.
    if plan_request.incident.is_some() {
        crate::closing::caught_up(&state).await?;
    }
    let superseded = match plan_request.supersedes {
        Some(old) => Some(superseded_plan(&state, &plan_request, old).await?),
        None => None,
    };
    let live = live_plans(&state, plan_request.incident).await?;
    let started = std::time::Instant::now();
    let ((problem, held), planned_at) = view.read(|view| {
        let replacing = superseded.as_ref().map(|old| old.plan_id);
        let covered = plans::covered(view, &live, replacing);
        let held = superseded
            .as_ref()
            .map_or_else(plans::HeldBack::none, |old| {
                plans::held_back(view, old, &state.areas)
            });
        let problem = plans::problem(
            view,
            &plan_request,
            &state.geography,
            &state.areas,
            now,
            (&covered, &held),
        );
        (problem, held)
    });
    let problem = problem.map_err(|error| {
        let (status, slug, title) = match error {
            RequestError::ClosedIncident(_) => {
                (StatusCode::CONFLICT, "incident-closed", "Incident closed")
            }
            RequestError::Covered(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "demand-covered",
                "Demand already covered",
            ),
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
    let built = started.elapsed();
    let (problem, planned) = web::block(move || {
        // Each assignment with the best other source and its price: why this one.
        let planned = ercs_routing::plan(&problem).map(|mut plan| {
            ercs_routing::explain(&problem, &mut plan);
            plan
        });
        (problem, planned)
    })
    .await
    .map_err(|e| Problem::unavailable(format!("the planner did not finish: {e}")))?;
    let solved = started.elapsed();
    let solve = if planned.is_ok() {
        "planned"
    } else {
        "refused"
    };
    state
        .metrics
        .plan_solve_seconds
        .observe_duration(&[solve], solved.saturating_sub(built));
    let mut plan = planned.map_err(|error| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-plan-request",
            "Invalid plan request",
            error.to_string(),
        )
        .with_field("demands")
    })?;
    let actions = plans::recommend(&problem, &mut plan);
    let takeover = PlanRecord::takeover_from(&plan, &held);
    // The record keeps the demands and settings; the sources are the view's as
    // of `planned_at`, rebuilt when asked for (`GET /plans/{id}/problem`).
    let compact = ercs_routing::SurgeProblem {
        sources: Vec::new(),
        ..problem
    };
    let record = PlanRecord {
        plan_id,
        request: plan_request,
        problem: compact,
        planned_at: Some(planned_at.0),
        actions,
        plan,
        proposed_at: now,
        proposed_by: actor.to_string(),
        request_digest: key.as_ref().map(|key| key.digest),
        approval: None,
        cancellation: None,
        takeover,
        superseded: None,
    };
    let position = append(
        &state,
        plan_id,
        ExpectedRevision::NoStream,
        PROPOSED,
        &record,
    )
    .await?;
    let body = serde_json::to_vec(&outcome(&state, &record, Some(position)))
        .map_err(|error| Problem::unavailable(error.to_string()))?;
    // Where the time went, for dashboards and the load tests (W3C Server-Timing).
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let timing = format!(
        "build;dur={:.1};desc=\"view to problem\", solve;dur={:.1};desc=\"network simplex and read-out\", \
         record;dur={:.1};desc=\"append and answer\"",
        ms(built),
        ms(solved - built),
        ms(started.elapsed() - solved)
    );
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{}/plans/{plan_id}", state.base()),
        ))
        .insert_header((header::ETAG, etag(0)))
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .insert_header(("Server-Timing", timing))
        .content_type("application/json")
        .body(body))
}

async fn get(state: Net, id: PathId) -> Result<HttpResponse, Problem> {
    let (record, revision) = load(&state, &id).await?;
    let mut body = serde_json::to_value(&record).unwrap_or_default();
    body["names"] = json!(names(&state, &record));
    body["summary"] = json!(plans::summary(&record));
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(revision)))
        .json(body))
}

/// `GET /api/v1/plans/{id}/problem`: the routing problem the plan was made for,
/// its sources rebuilt from the view as of the position it was planned at, so
/// anyone can re-check the certificate with `Certificate::verify`.
async fn problem_of(state: Net, id: PathId) -> Result<HttpResponse, Problem> {
    let (record, _) = load(&state, &id).await?;
    let mut problem = record.problem.clone();
    if let Some(position) = record.planned_at {
        let as_of = ercs_projections::AsOf::Position(Position(position));
        let options = crate::query::ReadOptions {
            min_position: None,
            as_of: Some(as_of),
        };
        let view = state.view(options).await?;
        let shared = state.clone();
        let (demands, now) = (record.problem.clone(), record.proposed_at);
        let old = match record.request.supersedes {
            Some(old) => find(&state, old).await?.map(|(old, _)| old),
            None => None,
        };
        let (sources, _) = state
            .read_view(&view, move |view| {
                let held = old.as_ref().map_or_else(plans::HeldBack::none, |old| {
                    plans::held_back(view, old, &shared.areas)
                });
                plans::sources_for(view, &demands, &shared.areas, now, &held)
            })
            .await?;
        problem.sources = sources;
    }
    Ok(HttpResponse::Ok().json(problem))
}

/// `GET /api/v1/plans/{id}/assignments`: a page of a plan's assignments, in
/// order, each with its index, its source's and demand's names and, once
/// approved, what its dispatch did; filtered by `commodity` (`bed:icu`) and
/// `demand` (`area/500101001`). `cursor` is the index of the last one read.
async fn assignments(
    state: Net,
    request: HttpRequest,
    id: PathId,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let page = params.page(100, 1000)?;
    let commodity = params.take_raw("commodity");
    let demand = params.take_raw("demand");
    params.finish()?;
    let after = match &page.cursor {
        None => None,
        Some(raw) => Some(raw.parse::<usize>().map_err(|_| {
            crate::query::bad("cursor", "must be the `next_cursor` of the previous page")
        })?),
    };
    let (record, _) = load(&state, &id).await?;
    let names = names(&state, &record);
    let outcomes: std::collections::BTreeMap<usize, &plans::Dispatch> = record
        .approval
        .iter()
        .flat_map(|a| &a.dispatches)
        .map(|d| (d.assignment, d))
        .collect();
    let wanted = record
        .plan
        .assignments
        .iter()
        .enumerate()
        .filter(|(i, _)| after.is_none_or(|after| *i > after))
        .filter(|(_, a)| {
            commodity
                .as_deref()
                .is_none_or(|c| a.commodity.to_string() == c)
        })
        .filter(|(_, a)| demand.as_deref().is_none_or(|d| a.demand == d));
    let mut items = Vec::new();
    let mut next = None;
    for (index, assignment) in wanted {
        if items.len() == page.limit {
            next = items
                .last()
                .map(|(i, _): &(usize, serde_json::Value)| i.to_string());
            break;
        }
        let mut item = serde_json::to_value(assignment).unwrap_or_default();
        item["index"] = json!(index);
        item["source_name"] = json!(names.get(&assignment.source));
        item["demand_name"] = json!(names.get(&assignment.demand));
        item["why"] = json!(plans::why(assignment, &names));
        if let Some(dispatch) = outcomes.get(&index) {
            item["dispatch"] = json!(dispatch);
        }
        items.push((index, item));
    }
    let mut body = json!({"plan": record.plan_id, "items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>()});
    if let Some(next) = next {
        body["next_cursor"] = json!(next);
    }
    Ok(HttpResponse::Ok().json(body))
}

/// A write's answer: the plan, the position reached (when something was
/// written) and the names of its sources and demands.
fn outcome(state: &AppState, record: &PlanRecord, position: Option<Position>) -> serde_json::Value {
    let mut answer = json!({"id": record.plan_id, "record": record, "names": names(state, record),
                            "summary": plans::summary(record)});
    if let Some(position) = position {
        answer["position"] = json!(position.0);
    }
    answer
}

fn names(state: &AppState, record: &PlanRecord) -> std::collections::BTreeMap<String, String> {
    state
        .view
        .read(|view| plans::names(view, record, &state.areas))
        .0
}

async fn approve(
    state: Net,
    request: HttpRequest,
    id: PathId,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let body = read_body(&request, payload).await?;
    let asked: ApproveRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ApproveRequest::default()
    } else {
        json_body(&body)?
    };
    let approved = process::approve(
        &state,
        &id,
        &asked,
        || crate::acting::of(&request),
        |assignments, chosen| {
            crate::auth::plan_sources_inside(&state, &request, assignments, chosen)
        },
    )
    .await?;
    let mut answer = HttpResponse::Ok();
    answer.insert_header((header::ETAG, etag(approved.revision)));
    answer.insert_header((POSITION_HEADER, approved.position.0.to_string()));
    Ok(answer.json(outcome(&state, &approved.record, Some(approved.position))))
}

async fn cancel(
    state: Net,
    request: HttpRequest,
    id: PathId,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let body = read_body(&request, payload).await?;
    let asked: CancelRequest = json_body(&body)?;
    let acting = crate::acting::of(&request)?;
    let (record, revision) = process::cancel(&state, &id, &asked.reason, &acting).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(revision)))
        .json(outcome(&state, &record, None)))
}
