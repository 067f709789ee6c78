//! A plan's process over its stream `plan-<id>`: recording and reading its
//! record (`PlanProposed`, `PlanApproved`, `PlanSuperseded`, `PlanCancelled`),
//! and approving, cancelling and superseding it. Runs of one plan take turns
//! (`Network::processes`); every step is keyed, so a retry after a crash
//! finishes what the first run began.

use chrono::Utc;
use ercs_domain::ids::PlanId;
use ercs_domain::values::Reason;
use ercs_eventlog::{
    Direction, EventData, EventType, ExpectedRevision, JsonObject, Position, ReadFrom, StreamName,
};
use ercs_projections::one_network::plans::PlanStatus;
use http::StatusCode;
use serde_json::json;

use super::{Approval, PlanRecord, PlanRequest, SupersededBy};
use crate::acting::Acting;
use crate::network::Network;
use crate::problem::Problem;

pub const PROPOSED: &str = "PlanProposed";
pub const APPROVED: &str = "PlanApproved";
pub const CANCELLED: &str = "PlanCancelled";
pub const SUPERSEDED: &str = "PlanSuperseded";

/// What an approval may ask.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// Approve only these assignments (indices into the plan's assignments).
    #[serde(default)]
    pub assignments: Option<Vec<usize>>,
    /// Dispatch what still fits and report the rest, instead of a 409.
    #[serde(default)]
    pub partial: bool,
}

/// What a cancellation records (`PlanCancelled`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Cancellation {
    cancelled_at: chrono::DateTime<Utc>,
    cancelled_by: String,
    reason: String,
    /// How many reservations and teams were given back.
    released: usize,
}

pub fn stream(plan: PlanId) -> StreamName {
    StreamName::new(format!("plan-{plan}")).expect("a valid stream name")
}

/// What an approval left: the plan's record and revision as the log holds
/// them, and a position at or after every step of the approval (its
/// `PlanApproved`, and the release of a plan it supersedes), so a read at it
/// sees them all — the same for an approval that found the plan approved
/// already, by a rival or by its own earlier try.
pub struct Approved {
    pub record: PlanRecord,
    pub revision: u64,
    pub position: Position,
}

/// Approves plan `id` as `asked`: dispatches the chosen assignments (taking
/// over what a superseded plan holds), records `PlanApproved`, and finishes
/// the supersession. `acting` says who acts (asked only once needed);
/// `authorise` refuses chosen sources outside the actor's jurisdiction.
pub async fn approve(
    state: &Network,
    id: &str,
    asked: &ApproveRequest,
    acting: impl Fn() -> Result<Acting, Problem>,
    authorise: impl FnOnce(&[ercs_routing::Assignment], &[usize]) -> Result<(), Problem>,
) -> Result<Approved, Problem> {
    // Approvals of one plan take turns: the first dispatches, the others find it
    // approved. Each dispatch step is keyed besides, so an approval retried after
    // a crash mid-way dispatches only what the first did not.
    let plan = id
        .parse::<PlanId>()
        .map_or_else(|_| id.to_string(), |plan| plan.to_string());
    let _turn = state.processes.take(&format!("plan/{plan}")).await;
    let (record, revision) = load(state, id).await?;
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
        finish_superseding(state, &record, &acting()?).await?;
        return Ok(Approved {
            record,
            revision,
            // The approval's steps were all taken before this turn began (or
            // just now, by `finish_superseding`): the head covers them.
            position: state.head().await?,
        });
    }
    let old = match record.request.supersedes {
        Some(old) => Some(still_live(state, old).await?),
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
    let acting = acting()?;
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
    authorise(&record.plan.assignments, &chosen)?;
    crate::closing::caught_up(state).await?;
    // Steps an approval cut short already took are in the log under their keys:
    // they hold what they took, so only the others are checked against the view.
    let taken = taken_steps(state, &record, &chosen).await?;
    let untaken: Vec<usize> = chosen
        .iter()
        .copied()
        .filter(|i| !taken.contains(i))
        .collect();
    let (fitting, changed) = state
        .view
        .read(|view| {
            let held = old.as_ref().map_or_else(super::HeldBack::none, |old| {
                super::held_back(view, old, &state.areas)
            });
            super::fitting(view, &record, &untaken, &state.areas, (state.now(), &held))
        })
        .0;
    let fits: Vec<usize> = chosen
        .iter()
        .copied()
        .filter(|i| taken.contains(i) || fitting.contains(i))
        .collect();
    if !changed.is_empty() && !asked.partial {
        return Err(stale(state, &record, &changed));
    }
    let partial = asked.partial || asked.assignments.is_some();
    let mut dispatches = super::dispatch(&state.aggregates, &record, &fits, &acting).await?;
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
        // Recorded first, approval then cancellation, so that a crash in the
        // middle of giving back leaves a cancelled plan whose `cancel` finishes it.
        let (approval, _) = record_approval(
            state,
            &record,
            revision,
            &actor,
            dispatches.clone(),
            partial,
        )
        .await?;
        let approved = PlanRecord {
            approval: Some(approval),
            ..record.clone()
        };
        hand_back(state, &approved, &acting).await?;
        let kept = kept_teams(&approved);
        let count = super::held_count(state, &approved, &kept).await?;
        cancel_record(
            state,
            &record,
            revision + 1,
            &actor,
            reason.to_string(),
            count,
        )
        .await?;
        let why = format!("plan/{}/cancel", record.plan_id);
        super::release(state, &approved, (&why, &kept), &reason, &acting).await?;
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
                json!({"refused": refused, "replan": replan(state, &record)}),
            )),
            ..problem
        });
    }
    for change in &changed {
        dispatches.push(super::Dispatch {
            assignment: change.assignment,
            outcome: "stale".into(),
            command: None,
            detail: Some(change.to_string()),
            position: None,
            taken_over: None,
        });
    }
    let (_, position) =
        record_approval(state, &record, revision, &actor, dispatches, partial).await?;
    // Answer with the approval the log holds: where another replica approved
    // first, the append above was recognised as a retry and kept theirs.
    let (record, revision) = load(state, id).await?;
    finish_superseding(state, &record, &acting).await?;
    let position = match record.request.supersedes {
        // The old plan's release came after `PlanApproved`.
        Some(_) => state.head().await?.max(position),
        None => position,
    };
    Ok(Approved {
        record,
        revision,
        position,
    })
}

/// Cancels plan `id` for `reason`: records `PlanCancelled` (once) and gives
/// back everything the plan holds, each step keyed, so a retry after a crash
/// finishes the job. Answers the record and revision the log then holds.
pub async fn cancel(
    state: &Network,
    id: &str,
    reason: &Reason,
    acting: &Acting,
) -> Result<(PlanRecord, u64), Problem> {
    let actor = acting.actor.clone();
    let plan = id
        .parse::<PlanId>()
        .map_or_else(|_| id.to_string(), |plan| plan.to_string());
    let _turn = state.processes.take(&format!("plan/{plan}")).await;
    let (record, revision) = load(state, id).await?;
    if let Some(superseded) = &record.superseded {
        return Err(superseded_problem(&record, superseded.by));
    }
    // Recorded before giving back, and the giving back always run (each step
    // keyed, so a second run takes only what a crash left): a cancel retried
    // after a crash finishes the job.
    if record.cancellation.is_none() {
        let count = super::held_count(state, &record, &Default::default()).await?;
        cancel_record(state, &record, revision, &actor, reason.to_string(), count).await?;
    }
    let why = format!("plan/{}/cancel", record.plan_id);
    let none = Default::default();
    super::release(state, &record, (&why, &none), reason, acting).await?;
    load(state, id).await
}

/// The chosen assignments whose dispatch step is already in the log.
async fn taken_steps(
    state: &Network,
    record: &PlanRecord,
    chosen: &[usize],
) -> Result<std::collections::BTreeSet<usize>, Problem> {
    let mut taken = std::collections::BTreeSet::new();
    for &index in chosen {
        if key_taken(state, super::step_key(record.plan_id, index)).await?
            || key_taken(state, super::takeover_key(record.plan_id, index)).await?
        {
            taken.insert(index);
        }
    }
    Ok(taken)
}

/// The request that plans again what a stale plan was for, over the network as
/// it is now: the same request, ready to send.
fn replan(state: &Network, record: &PlanRecord) -> serde_json::Value {
    json!({"method": "POST", "href": format!("{}/plans", state.base()), "body": record.request})
}

/// A `409 plan-stale`: what changed since the plan was made, and what to do.
fn stale(state: &Network, record: &PlanRecord, changed: &[super::Change]) -> Problem {
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

/// Records that the plan is cancelled, once.
async fn cancel_record(
    state: &Network,
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
pub async fn live_plans(
    state: &Network,
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

/// Records `PlanApproved` for `record` at `revision`: the approval, stamped
/// now, and where it went in the log.
async fn record_approval(
    state: &Network,
    record: &PlanRecord,
    revision: u64,
    actor: &impl std::fmt::Display,
    dispatches: Vec<super::Dispatch>,
    partial: bool,
) -> Result<(Approval, Position), Problem> {
    let approval = Approval {
        approved_at: state.now(),
        approved_by: actor.to_string(),
        dispatches,
        partial,
    };
    let expected = ExpectedRevision::Exact(revision);
    let position = append(state, record.plan_id, expected, APPROVED, &approval).await?;
    Ok((approval, position))
}

pub async fn append<T: serde::Serialize>(
    state: &Network,
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

pub async fn load(state: &Network, raw: &str) -> Result<(PlanRecord, u64), Problem> {
    let missing = || Problem::not_found(format!("no plan with id `{raw}`"));
    let plan: PlanId = raw.parse().map_err(|_| missing())?;
    find(state, plan).await?.ok_or_else(missing)
}

/// A plan's record and its stream's revision, if it exists.
pub async fn find(state: &Network, plan: PlanId) -> Result<Option<(PlanRecord, u64)>, Problem> {
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
                            .map(|c| super::CancelledBy {
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

async fn key_taken(state: &Network, key: String) -> Result<bool, Problem> {
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
pub async fn superseded_plan(
    state: &Network,
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
async fn still_live(state: &Network, old: PlanId) -> Result<PlanRecord, Problem> {
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
async fn hand_back(state: &Network, record: &PlanRecord, acting: &Acting) -> Result<(), Problem> {
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
            super::takeover_key(record.plan_id, dispatch.assignment),
        )
        .await?
        {
            continue;
        }
        let key = super::hand_back_key(record.plan_id, dispatch.assignment);
        let metadata = super::step_metadata(record, acting, key);
        let moved = super::move_hold(
            &state.aggregates,
            record,
            (record.plan_id, old),
            assignment,
            units,
            acting,
            &metadata,
        )
        .await;
        if let Err(super::Undispatched::Failed(error)) = moved {
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
    state: &Network,
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
    super::release(
        state,
        &old_record,
        (&why, &kept_teams(record)),
        &reason,
        acting,
    )
    .await?;
    Ok(())
}
