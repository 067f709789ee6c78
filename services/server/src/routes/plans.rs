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
use chrono::Utc;
use ercs_domain::ids::PlanId;
use ercs_eventlog::{
    Direction, EventData, EventType, ExpectedRevision, JsonObject, Position, ReadFrom, StreamName,
};
use serde_json::json;

use crate::acting::Acting;
use crate::idempotency::{REPLAYED_HEADER, request_key};
use crate::plans::{self, Approval, PlanRecord, PlanRequest, RequestError, SupersededBy};
use crate::problem::Problem;
use crate::query::Params;
use crate::routes::commands::{actor, json_body, read_body};
use crate::routes::resources::{POSITION_HEADER, etag};
use crate::state::{AppState, Net, PathId};
use ercs_projections::one_network::plans::PlanStatus;

const PROPOSED: &str = "PlanProposed";
const APPROVED: &str = "PlanApproved";
const CANCELLED: &str = "PlanCancelled";
const SUPERSEDED: &str = "PlanSuperseded";

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

/// What an approval may ask.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveRequest {
    /// Approve only these assignments (indices into the plan's assignments).
    #[serde(default)]
    assignments: Option<Vec<usize>>,
    /// Dispatch what still fits and report the rest, instead of a 409.
    #[serde(default)]
    partial: bool,
}

/// Why a plan is cancelled.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelRequest {
    reason: ercs_domain::values::Reason,
}

/// What a cancellation records.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Cancellation {
    cancelled_at: chrono::DateTime<Utc>,
    cancelled_by: String,
    reason: String,
    /// How many reservations and teams were given back.
    released: usize,
}

fn stream(plan: PlanId) -> StreamName {
    StreamName::new(format!("plan-{plan}")).expect("a valid stream name")
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
    // Approvals of one plan take turns: the first dispatches, the others find it
    // approved. Each dispatch step is keyed besides, so an approval retried after
    // a crash mid-way dispatches only what the first did not.
    let plan = id
        .parse::<PlanId>()
        .map_or_else(|_| id.to_string(), |plan| plan.to_string());
    let _turn = state.processes.take(&format!("plan/{plan}")).await;
    let (record, revision) = load(&state, &id).await?;
    // A plan that supersedes another also takes the other's turn, so neither
    // its cancellation nor a rival successor runs while the hold changes hands.
    // Turns go from the newer plan to the older, never back: no cycle.
    let _old_turn = match record.request.supersedes {
        Some(old) => Some(state.processes.take(&format!("plan/{old}")).await),
        None => None,
    };
    if let Some(cancelled) = &record.cancellation {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "plan-cancelled",
            "Plan cancelled",
            format!(
                "plan {} was cancelled ({}); propose a new one",
                record.plan_id, cancelled.reason
            ),
        ));
    }
    if record.approval.is_some() {
        // An approval cut short after it was recorded still owes the old plan
        // its release; each step is keyed, so this costs nothing when done.
        finish_superseding(&state, &record, &crate::acting::of(&request)?).await?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, etag(revision)))
            .json(outcome(&state, &record, None)));
    }
    let old = match record.request.supersedes {
        Some(old) => Some(still_live(&state, old).await?),
        None => None,
    };
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
    let acting = crate::acting::of(&request)?;
    let actor = acting.actor.clone();
    let all: Vec<usize> = (0..record.plan.assignments.len()).collect();
    let chosen = asked.assignments.clone().unwrap_or(all);
    if let Some(&beyond) = chosen.iter().find(|&&i| i >= record.plan.assignments.len()) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            format!(
                "`assignments`: the plan has {} assignments (0 to {}); there is no {beyond}",
                record.plan.assignments.len(),
                record.plan.assignments.len().saturating_sub(1)
            ),
        )
        .with_field("assignments"));
    }
    crate::auth::plan_sources_inside(&state, &request, &record.plan.assignments, &chosen)?;
    crate::closing::caught_up(&state).await?;
    // Steps an approval cut short already took are in the log under their keys:
    // they hold what they took, so only the others are checked against the view.
    let taken = taken_steps(&state, &record, &chosen).await?;
    let untaken: Vec<usize> = chosen
        .iter()
        .copied()
        .filter(|i| !taken.contains(i))
        .collect();
    let (fitting, changed) = state
        .view
        .read(|view| {
            let held = old.as_ref().map_or_else(plans::HeldBack::none, |old| {
                plans::held_back(view, old, &state.areas)
            });
            plans::fitting(view, &record, &untaken, &state.areas, (state.now(), &held))
        })
        .0;
    let fits: Vec<usize> = chosen
        .iter()
        .copied()
        .filter(|i| taken.contains(i) || fitting.contains(i))
        .collect();
    if !changed.is_empty() && !asked.partial {
        return Err(stale(&state, &record, &changed));
    }
    let partial = asked.partial || asked.assignments.is_some();
    let mut dispatches = plans::dispatch(&state.aggregates, &record, &fits, &acting).await?;
    let refused: Vec<String> = dispatches
        .iter()
        .filter(|d| d.outcome == "refused")
        .map(|d| d.detail.clone().unwrap_or_default())
        .collect();
    if !refused.is_empty() && !asked.partial {
        // A race the check could not see: undo what this approval dispatched.
        let reason = ercs_domain::values::Reason::parse(
            format!("plan {} went stale while being approved", record.plan_id)
                .chars()
                .take(200)
                .collect::<String>(),
        )
        .map_err(Problem::from)?;
        let approved = PlanRecord {
            approval: Some(Approval {
                approved_at: state.now(),
                approved_by: actor.to_string(),
                dispatches: dispatches.clone(),
                partial,
            }),
            ..record.clone()
        };
        // Recorded first, approval then cancellation, so that a crash in the
        // middle of giving back leaves a cancelled plan whose `cancel` finishes it.
        let approval = approved.approval.clone().expect("set above");
        append(
            &state,
            record.plan_id,
            ExpectedRevision::Exact(revision),
            APPROVED,
            &approval,
        )
        .await?;
        hand_back(&state, &approved, &acting).await?;
        let kept = kept_teams(&approved);
        let count = plans::held_count(&state, &approved, &kept).await?;
        cancel_record(
            &state,
            &record,
            revision + 1,
            &actor,
            reason.to_string(),
            count,
        )
        .await?;
        let why = format!("plan/{}/cancel", record.plan_id);
        plans::release(&state, &approved, (&why, &kept), &reason, &acting).await?;
        let problem = Problem::new(
            StatusCode::CONFLICT,
            "plan-stale",
            "Plan stale",
            format!(
                "a dispatch was refused while plan {} was being approved: {}; what it had \
                 dispatched was given back and the plan is cancelled. Propose a new plan",
                record.plan_id,
                refused.join("; ")
            ),
        );
        return Err(Problem {
            outcome: Some(Box::new(
                json!({"refused": refused, "replan": replan(&state, &record)}),
            )),
            ..problem
        });
    }
    for change in &changed {
        dispatches.push(plans::Dispatch {
            assignment: change.assignment,
            outcome: "stale".into(),
            command: None,
            detail: Some(change.to_string()),
            position: None,
            taken_over: None,
        });
    }
    let approval = Approval {
        approved_at: state.now(),
        approved_by: actor.to_string(),
        dispatches,
        partial,
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
    finish_superseding(&state, &record, &acting).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(revision)))
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .json(outcome(&state, &record, Some(position))))
}

/// The chosen assignments whose dispatch step is already in the log.
async fn taken_steps(
    state: &AppState,
    record: &PlanRecord,
    chosen: &[usize],
) -> Result<std::collections::BTreeSet<usize>, Problem> {
    let mut taken = std::collections::BTreeSet::new();
    for &index in chosen {
        if key_taken(state, plans::step_key(record.plan_id, index)).await?
            || key_taken(state, plans::takeover_key(record.plan_id, index)).await?
        {
            taken.insert(index);
        }
    }
    Ok(taken)
}

/// The request that plans again what a stale plan was for, over the network as
/// it is now: the same request, ready to send.
fn replan(state: &AppState, record: &PlanRecord) -> serde_json::Value {
    json!({"method": "POST", "href": format!("{}/plans", state.base()), "body": record.request})
}

/// A `409 plan-stale`: what changed since the plan was made, and what to do.
fn stale(state: &AppState, record: &PlanRecord, changed: &[plans::Change]) -> Problem {
    let shown: Vec<String> = changed.iter().take(5).map(ToString::to_string).collect();
    let more = if changed.len() > 5 {
        format!(" and {} more", changed.len() - 5)
    } else {
        String::new()
    };
    let problem = Problem::new(
        StatusCode::CONFLICT,
        "plan-stale",
        "Plan stale",
        format!(
            "{} of plan {}'s assignments no longer fit the network: {}{more}. Nothing was \
             dispatched. Propose a new plan for the incident, or approve with \
             {{\"partial\": true}} to dispatch what still fits",
            changed.len(),
            record.plan_id,
            shown.join("; ")
        ),
    );
    Problem {
        outcome: serde_json::to_value(json!({"changed": changed, "replan": replan(state, record)}))
            .ok()
            .map(Box::new),
        ..problem
    }
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
    let actor = acting.actor.clone();
    let plan = id
        .parse::<PlanId>()
        .map_or_else(|_| id.to_string(), |plan| plan.to_string());
    let _turn = state.processes.take(&format!("plan/{plan}")).await;
    let (record, revision) = load(&state, &id).await?;
    if let Some(superseded) = &record.superseded {
        return Err(superseded_problem(&record, superseded.by));
    }
    // Recorded before giving back, and the giving back always run (each step
    // keyed, so a second run takes only what a crash left): a cancel retried
    // after a crash finishes the job.
    if record.cancellation.is_none() {
        let count = plans::held_count(&state, &record, &Default::default()).await?;
        let reason = asked.reason.to_string();
        cancel_record(&state, &record, revision, &actor, reason, count).await?;
    }
    let why = format!("plan/{}/cancel", record.plan_id);
    let none = Default::default();
    plans::release(&state, &record, (&why, &none), &asked.reason, &acting).await?;
    let (record, revision) = load(&state, &id).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(revision)))
        .json(outcome(&state, &record, None)))
}

/// Records that the plan is cancelled, once.
async fn cancel_record(
    state: &AppState,
    record: &PlanRecord,
    revision: u64,
    actor: &ercs_domain::values::Actor,
    reason: String,
    released: usize,
) -> Result<Position, Problem> {
    let cancellation = Cancellation {
        cancelled_at: state.now(),
        cancelled_by: actor.to_string(),
        reason,
        released,
    };
    append(
        state,
        record.plan_id,
        ExpectedRevision::Exact(revision),
        CANCELLED,
        &cancellation,
    )
    .await
}

/// The records of `incident`'s live (approved) and superseded plans, read from
/// the log.
async fn live_plans(
    state: &AppState,
    incident: Option<ercs_domain::ids::IncidentId>,
) -> Result<Vec<PlanRecord>, Problem> {
    let Some(incident) = incident else {
        return Ok(Vec::new());
    };
    let ids: Vec<PlanId> = state
        .view
        .read(|view| {
            view.plans_of(incident)
                .into_iter()
                // A superseded plan still counts for what it uses.
                .filter(|p| p.status.is_live() || p.status == PlanStatus::Superseded)
                .map(|p| p.plan)
                .collect()
        })
        .0;
    let mut records = Vec::new();
    for plan in ids {
        if let Some((record, _)) = find(state, plan).await? {
            records.push(record);
        }
    }
    Ok(records)
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
    find(state, plan).await?.ok_or_else(missing)
}

/// A plan's record and its stream's revision, if it exists.
async fn find(state: &AppState, plan: PlanId) -> Result<Option<(PlanRecord, u64)>, Problem> {
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
            SUPERSEDED => {
                if let Some(record) = record.as_mut() {
                    record.superseded = event.data.deserialize().ok();
                }
            }
            CANCELLED => {
                if let Some(record) = record.as_mut() {
                    record.cancellation =
                        event
                            .data
                            .deserialize::<Cancellation>()
                            .ok()
                            .map(|c| plans::CancelledBy {
                                at: c.cancelled_at,
                                by: c.cancelled_by,
                                reason: c.reason,
                                released: c.released,
                            });
                }
            }
            _ => {}
        }
    }
    Ok(record.map(|r| (r, revision)))
}

async fn key_taken(state: &AppState, key: String) -> Result<bool, Problem> {
    let key = ercs_eventlog::CommandKey::new(key)
        .map_err(|error| Problem::unavailable(error.to_string()))?;
    let found = state
        .log
        .find_key(&key)
        .await
        .map_err(|error| Problem::unavailable(format!("the event log failed: {error}")))?;
    Ok(found.is_some())
}

/// The approved plan `old` that `request` asks to supersede, checked: of the
/// same incident, approved, and neither cancelled nor superseded already.
async fn superseded_plan(
    state: &AppState,
    request: &PlanRequest,
    old: PlanId,
) -> Result<PlanRecord, Problem> {
    let invalid = |detail: String| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            detail,
        )
        .with_field("supersedes")
    };
    let Some(incident) = request.incident else {
        return Err(invalid(
            "`supersedes`: a plan replaces an approved plan of the same incident; name the \
             `incident`"
                .into(),
        ));
    };
    let Some((record, _)) = find(state, old).await? else {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown-reference",
            "Unknown reference",
            format!("`supersedes`: no plan with id `{old}`"),
        )
        .with_field("supersedes"));
    };
    if record.request.incident != Some(incident) {
        return Err(invalid(format!(
            "`supersedes`: plan {old} serves another incident, not `{incident}`"
        )));
    }
    check_live(&record)?;
    Ok(record)
}

/// The plan being superseded, read again under its turn: still approved and not
/// cancelled or superseded by another since its successor was proposed.
async fn still_live(state: &AppState, old: PlanId) -> Result<PlanRecord, Problem> {
    let Some((old_record, _)) = find(state, old).await? else {
        return Err(Problem::unavailable(format!("plan {old} cannot be read")));
    };
    check_live(&old_record)?;
    Ok(old_record)
}

/// A plan can be superseded only while approved and neither cancelled nor
/// superseded.
fn check_live(record: &PlanRecord) -> Result<(), Problem> {
    if let Some(superseded) = &record.superseded {
        return Err(superseded_problem(record, superseded.by));
    }
    let refuse = |slug: &str, title: &str, why: String| {
        Err(Problem::new(StatusCode::CONFLICT, slug, title, why).with_field("supersedes"))
    };
    if let Some(cancelled) = &record.cancellation {
        return refuse(
            "plan-cancelled",
            "Plan cancelled",
            format!(
                "plan {} was cancelled ({}); it holds nothing to hand over. Propose a plan \
                 without `supersedes`",
                record.plan_id, cancelled.reason
            ),
        );
    }
    if record.approval.is_none() {
        return refuse(
            "plan-not-approved",
            "Plan not approved",
            format!(
                "plan {} is only proposed and holds nothing; approve or cancel it, or propose \
                 without `supersedes`",
                record.plan_id
            ),
        );
    }
    Ok(())
}

fn superseded_problem(record: &PlanRecord, by: PlanId) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "plan-superseded",
        "Plan superseded",
        format!(
            "plan {} was superseded by plan {by}, which holds what it held; act on plan {by}",
            record.plan_id
        ),
    )
}

/// The teams a superseding plan kept from the plan it replaces.
fn kept_teams(record: &PlanRecord) -> std::collections::BTreeSet<ercs_domain::ids::TeamId> {
    record
        .approval
        .iter()
        .flat_map(|approval| &approval.dispatches)
        .filter(|d| d.taken_over.is_some())
        .filter_map(|d| record.plan.assignments.get(d.assignment))
        .filter_map(|a| a.source.strip_prefix("team/")?.parse().ok())
        .collect()
}

/// Gives back to the superseded plan what an undone approval took over from it:
/// each takeover that happened is moved back, under a key of its own.
async fn hand_back(state: &AppState, record: &PlanRecord, acting: &Acting) -> Result<(), Problem> {
    let Some(old) = record.request.supersedes else {
        return Ok(());
    };
    let dispatches = record.approval.iter().flat_map(|a| &a.dispatches);
    for dispatch in dispatches {
        let (Some(units), Some(assignment)) = (
            dispatch.taken_over,
            record.plan.assignments.get(dispatch.assignment),
        ) else {
            continue;
        };
        if !key_taken(
            state,
            plans::takeover_key(record.plan_id, dispatch.assignment),
        )
        .await?
        {
            continue;
        }
        let key = plans::hand_back_key(record.plan_id, dispatch.assignment);
        let metadata = plans::step_metadata(record, acting, key);
        let moved = plans::move_hold(
            &state.aggregates,
            record,
            (record.plan_id, old),
            assignment,
            units,
            acting,
            &metadata,
        )
        .await;
        if let Err(plans::Undispatched::Failed(error)) = moved {
            return Err(Problem::unavailable(format!(
                "the event log failed: {error}"
            )));
        }
    }
    Ok(())
}

/// Once a superseding plan is approved: the old plan is recorded superseded
/// (once), and what it still holds that the new plan did not take over is
/// released, each step keyed `plan/<new>/supersede/<stream>/<holding>`.
async fn finish_superseding(
    state: &AppState,
    record: &PlanRecord,
    acting: &Acting,
) -> Result<(), Problem> {
    let Some(old) = record.request.supersedes else {
        return Ok(());
    };
    let Some((old_record, revision)) = find(state, old).await? else {
        return Ok(());
    };
    match &old_record.superseded {
        Some(superseded) if superseded.by != record.plan_id => return Ok(()),
        Some(_) => {}
        None => {
            let superseded = SupersededBy {
                by: record.plan_id,
                at: state.now(),
            };
            append(
                state,
                old,
                ExpectedRevision::Exact(revision),
                SUPERSEDED,
                &superseded,
            )
            .await?;
        }
    }
    let reason =
        ercs_domain::values::Reason::parse(format!("superseded by plan {}", record.plan_id))
            .map_err(Problem::from)?;
    let why = format!("plan/{}/supersede", record.plan_id);
    plans::release(
        state,
        &old_record,
        (&why, &kept_teams(record)),
        &reason,
        acting,
    )
    .await?;
    Ok(())
}
