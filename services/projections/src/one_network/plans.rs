//! Surge plans (调度方案) as the view knows them: which incident each serves and
//! where it stands, from the events on its stream `plan-<uuid>`. The plan itself
//! (assignments, certificate) stays in the log; the view keeps only what lists
//! and the feed need.

use chrono::{DateTime, Utc};
use ercs_domain::ids::{IncidentId, PlanId};
use serde::{Deserialize, Serialize};

/// Where a plan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Computed and recorded; nothing dispatched yet.
    Proposed,
    /// Every assignment's dispatch was issued.
    Approved,
    /// A chosen subset was dispatched (the dispatcher asked for it).
    PartlyApproved,
    /// A later plan took its place; what it still held was given back.
    Superseded,
    /// Cancelled: what it held was given back, nothing more is dispatched.
    Cancelled,
}

impl PlanStatus {
    /// Whether what it dispatched still counts for its incident.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Approved | Self::PartlyApproved)
    }
}

/// One plan, as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub plan: PlanId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentId>,
    pub status: PlanStatus,
    pub proposed_at: DateTime<Utc>,
    pub proposed_by: String,
    /// When it last changed status.
    pub changed_at: DateTime<Utc>,
    /// The plan that superseded it, or that it superseded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<PlanId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<PlanId>,
}

/// The part of a plan's `PlanProposed` record the view reads.
#[derive(Deserialize)]
pub(super) struct Proposed {
    pub plan_id: PlanId,
    pub request: ProposedRequest,
    pub proposed_at: DateTime<Utc>,
    pub proposed_by: String,
}

#[derive(Deserialize)]
pub(super) struct ProposedRequest {
    #[serde(default)]
    pub incident: Option<IncidentId>,
    #[serde(default)]
    pub supersedes: Option<PlanId>,
}

/// The part of `PlanApproved` the view reads.
#[derive(Deserialize)]
pub(super) struct Approved {
    #[serde(default)]
    pub partial: bool,
}

/// The part of `PlanSuperseded` the view reads.
#[derive(Deserialize)]
pub(super) struct Superseded {
    pub by: PlanId,
}
