use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What every event records beside its data: who, why, and in which context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The version of the event's data schema, for upcasting on read.
    pub schema_version: u16,
    /// Who issued the command (a dispatcher's account, `seed`, a drill director).
    pub actor: String,
    /// Ties together every event of one request or process.
    pub correlation_id: Uuid,
    /// The event or request that caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// Set on every event of a drill (演练): drills and live data never mix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill_id: Option<String>,
    /// The surge plan whose approval issued the command (调度方案).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<Uuid>,
    /// Names the command, so that it takes effect at most once (see
    /// [`Aggregates::execute`](crate::Aggregates::execute)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// A digest of the request that carried the key, so the same key sent with
    /// another request is told apart from a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_digest: Option<Uuid>,
    /// The authenticated actor behind `actor`, when the service checks tokens:
    /// the audit trail's who (身份、角色、辖区).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated: Option<AuthenticatedActor>,
    /// The HTTP request that issued the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Uuid>,
}

/// Who a verified token named: recorded on every event it causes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatedActor {
    /// The account's stable id (the token's `sub`).
    pub subject: String,
    /// The name a person reads, e.g. 万州区卫健委值班员.
    pub name: String,
    pub role: String,
    /// A division code or region slug: the area the actor answers for.
    pub jurisdiction: String,
}

impl Metadata {
    /// Metadata for a command of `actor`, in a new correlation.
    pub fn new(actor: impl Into<String>) -> Self {
        Self {
            schema_version: 1,
            actor: actor.into(),
            correlation_id: Uuid::new_v4(),
            causation_id: None,
            drill_id: None,
            plan_id: None,
            idempotency_key: None,
            request_digest: None,
            authenticated: None,
            request_id: None,
        }
    }

    pub fn with_plan(mut self, plan: Uuid) -> Self {
        self.plan_id = Some(plan);
        self
    }

    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Recorded as the command of `actor`, within request `request_id`.
    pub fn with_authenticated(mut self, actor: AuthenticatedActor, request_id: Uuid) -> Self {
        self.authenticated = Some(actor);
        self.request_id = Some(request_id);
        self
    }

    /// A key sent with a request whose digest is `digest`.
    pub fn with_request_key(mut self, key: impl Into<String>, digest: Uuid) -> Self {
        self.idempotency_key = Some(key.into());
        self.request_digest = Some(digest);
        self
    }
}
