//! Who is acting in a request, for every command a process issues on its behalf:
//! the actor its token names, and the metadata every such command carries (the
//! authenticated subject, name, role and jurisdiction, and one request id for
//! all the steps of that request). Approving a plan, cancelling it or closing an
//! incident appends many events; each says who asked, as a single command does.
//! The HTTP layer makes one from a request (`ercs_server::acting::of`).

use chrono::{DateTime, Utc};
use ercs_commands::Metadata;
use ercs_domain::values::Actor;

/// The actor of a request and the metadata its commands start from.
#[derive(Debug, Clone)]
pub struct Acting {
    pub actor: Actor,
    /// When, on the network's clock (drill time in a drill): every step of
    /// the request is stamped with it.
    pub at: DateTime<Utc>,
    metadata: Metadata,
}

impl Acting {
    /// `actor` with the metadata its request's commands carry (already
    /// audited, without the request's own key).
    pub fn with(actor: Actor, at: DateTime<Utc>, metadata: Metadata) -> Acting {
        Acting {
            actor,
            at,
            metadata,
        }
    }

    /// The metadata of one step keyed `key`.
    pub fn step(&self, key: impl Into<String>) -> Metadata {
        self.metadata.clone().with_idempotency_key(key)
    }
}
