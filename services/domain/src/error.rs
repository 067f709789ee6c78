//! The one error type every decider returns.
//!
//! Each variant has a stable machine [`code`](DomainError::code) (the HTTP layer turns
//! it into the `type` of an RFC 9457 problem) and, where one input is at fault, the
//! [`field`](DomainError::field) to point at. Messages are written for a dispatcher:
//! they say what was asked, what stands in the way and what is allowed instead.

use chrono::{DateTime, Utc};

/// Why a command was refused. A refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// An input value is malformed or out of range.
    #[error("invalid {field}: {reason}")]
    InvalidField { field: &'static str, reason: String },

    /// The command is not allowed in the aggregate's current state.
    #[error(
        "cannot {attempted} {} {aggregate} that is {current}; allowed now: {}",
        article(aggregate),
        list(allowed)
    )]
    IllegalTransition {
        aggregate: &'static str,
        current: &'static str,
        attempted: &'static str,
        allowed: Vec<&'static str>,
    },

    /// The aggregate, or a part of it the command names, does not exist.
    #[error("{what} {key} not found")]
    NotFound { what: &'static str, key: String },

    /// The command would create something that already exists.
    #[error("{what} {key} already exists")]
    AlreadyExists { what: &'static str, key: String },

    /// Not enough usable (unexpired, unreserved) stock of an item. The refusal says
    /// how much is usable and why the rest of what is on the shelf is not.
    #[error(
        "insufficient stock of {item}: requested {requested}, usable {usable}; \
         besides, {expired} expired (write them off, never issued) and {reserved} held for plans"
    )]
    InsufficientStock {
        item: String,
        requested: u32,
        usable: u32,
        /// Units on the shelf whose lot has expired.
        expired: u32,
        /// Units held for plans (not counted as usable unless the plan is named).
        reserved: u32,
    },

    /// Only expired stock could meet the request; expired lots are never issued or reserved.
    #[error("lot {lot} of {item} expired at {expiry}; write it off instead")]
    ExpiredLot {
        item: String,
        lot: String,
        expiry: DateTime<Utc>,
    },

    /// Not enough available (staffed, free, unreserved) beds in a pool.
    #[error("insufficient {pool} beds: requested {requested}, available {available}")]
    InsufficientBeds {
        pool: String,
        /// The input field that asked for them (`beds` to reserve, `patients`
        /// to admit).
        field: &'static str,
        requested: u32,
        available: u32,
    },

    /// Something must be finished or become ready first.
    #[error("{what} is not ready: {missing}")]
    NotReady { what: String, missing: String },

    /// Beds are still occupied or held for a plan.
    #[error("{what} still has {occupied} occupied and {reserved} reserved beds")]
    BedsInUse {
        what: String,
        occupied: u32,
        reserved: u32,
    },
}

impl DomainError {
    /// Stable machine-readable code; never change one once published.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidField { .. } => "invalid-field",
            Self::IllegalTransition { .. } => "illegal-transition",
            Self::NotFound { .. } => "not-found",
            Self::AlreadyExists { .. } => "already-exists",
            Self::InsufficientStock { .. } => "insufficient-stock",
            Self::ExpiredLot { .. } => "expired-lot",
            Self::InsufficientBeds { .. } => "insufficient-beds",
            Self::NotReady { .. } => "not-ready",
            Self::BedsInUse { .. } => "beds-in-use",
        }
    }

    /// The input field at fault, where one is.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidField { field, .. } => Some(field),
            Self::InsufficientStock { .. } => Some("quantity"),
            Self::ExpiredLot { .. } => Some("lot_number"),
            Self::InsufficientBeds { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Shorthand for the most common refusal.
    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(what: &'static str, key: impl ToString) -> Self {
        Self::NotFound {
            what,
            key: key.to_string(),
        }
    }

    pub(crate) fn already_exists(what: &'static str, key: impl ToString) -> Self {
        Self::AlreadyExists {
            what,
            key: key.to_string(),
        }
    }
}

/// "a" or "an", as English says it before `noun`.
fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn list(items: &[&'static str]) -> String {
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_illegal_transition_names_the_current_state_and_the_allowed_ones() {
        let e = DomainError::IllegalTransition {
            aggregate: "team",
            current: "standby",
            attempted: "deploy",
            allowed: vec!["mobilise", "mark_unavailable"],
        };
        assert_eq!(
            e.to_string(),
            "cannot deploy a team that is standby; allowed now: mobilise, mark_unavailable"
        );
        assert_eq!(e.code(), "illegal-transition");
    }

    #[test]
    fn an_invalid_field_names_the_field() {
        let e = DomainError::invalid("headcount", "must be at least 1");
        assert_eq!(e.field(), Some("headcount"));
        assert_eq!(e.code(), "invalid-field");
    }
}
