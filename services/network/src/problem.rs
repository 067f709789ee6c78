//! RFC 9457 problem details: every error the API returns has this shape, with a
//! stable `type` URI a client can branch on, a `detail` a dispatcher can act on and,
//! for bad input, the field at fault.

use ercs_commands::CommandError;
use ercs_domain::DomainError;
use http::StatusCode;
use serde::Serialize;

/// The base of every problem `type` URI.
pub const TYPE_BASE: &str = "https://ercs.example/problems/";

#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{title}: {detail}")]
pub struct Problem {
    /// A stable URI naming the kind of problem, `TYPE_BASE` + a slug.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The input field at fault, as a JSON pointer-like path (`beds.0.staffed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    // Boxed: a `Problem` is the error of every handler, so it is kept small.
    pub field: Option<Box<str>>,
    /// Seconds after which a retry may succeed (`Retry-After`), for 503s.
    #[serde(skip)]
    pub retry_after: Option<std::num::NonZeroU32>,
    /// What the request did all the same, when a later step of its process was
    /// refused (a transfer dispatched, then returned by its destination): the
    /// write's outcome, so the client sees every event and the position after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Box<serde_json::Value>>,
    /// The resource's current revision, sent as `ETag` with a 409 so the client
    /// can decide again on what is there now and retry with `If-Match`.
    #[serde(skip)]
    pub etag: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("{TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            retry_after: None,
            outcome: None,
            etag: None,
        }
    }

    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = std::num::NonZeroU32::new(seconds);
        self
    }

    /// A problem for an HTTP status alone: its `type` slug and title are the
    /// status's reason phrase (`405` → `method-not-allowed`).
    pub fn of_status(status: StatusCode, detail: impl Into<String>) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        let slug = reason.to_ascii_lowercase().replace([' ', '\''], "-");
        Self::new(status, &slug, reason, detail)
    }

    /// No such resource, collection or action.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into().into_boxed_str());
        self
    }

    /// The service cannot answer now; the client should retry later.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }
}

/// A refusal by the domain: the client's request breaks a rule. The `type` slug is
/// the error's stable code.
impl From<DomainError> for Problem {
    fn from(error: DomainError) -> Self {
        let (status, title) = match error.code() {
            "invalid-field" => (StatusCode::UNPROCESSABLE_ENTITY, "Invalid field"),
            "not-found" => (StatusCode::NOT_FOUND, "Not found"),
            "already-exists" => (StatusCode::CONFLICT, "Already exists"),
            "illegal-transition" => (StatusCode::CONFLICT, "Not allowed in the current state"),
            "insufficient-stock" => (StatusCode::CONFLICT, "Not enough stock"),
            "expired-lot" => (StatusCode::CONFLICT, "Expired lot"),
            "insufficient-beds" => (StatusCode::CONFLICT, "Not enough beds"),
            "not-ready" => (StatusCode::CONFLICT, "Not ready"),
            "beds-in-use" => (StatusCode::CONFLICT, "Beds in use"),
            _ => (StatusCode::CONFLICT, "Refused"),
        };
        let problem = Problem::new(status, error.code(), title, error.to_string());
        match error.field() {
            Some(field) => problem.with_field(field),
            None => problem,
        }
    }
}

/// A command that did not go through, for whatever reason. Bad input and broken
/// rules are 4xx; only the service's own failures are 5xx.
impl From<CommandError<DomainError>> for Problem {
    fn from(error: CommandError<DomainError>) -> Self {
        match error {
            CommandError::Rejected(refusal) => refusal.into(),
            CommandError::Conflict {
                expected, actual, ..
            } => {
                let advice = match (expected, actual) {
                    (_, None) => "it does not exist yet".to_owned(),
                    (Some(_), Some(now)) => format!(
                        "decide again on the resource as it is now and retry with If-Match: \"{now}\" (its ETag)"
                    ),
                    // Without If-Match, only writers in other processes can keep
                    // a stream moving under a command for every attempt.
                    (None, Some(now)) => format!(
                        "the resource kept changing while the command was decided; retry, or send If-Match: \"{now}\""
                    ),
                };
                let problem = Problem::new(
                    StatusCode::CONFLICT,
                    "stale-revision",
                    "Stale revision",
                    format!("{error}; {advice}"),
                );
                Problem {
                    etag: actual,
                    ..problem
                }
            }
            CommandError::KeyReused { .. } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
                format!("{error}; use a new key for a new request"),
            )
            .with_field("Idempotency-Key"),
            CommandError::Log(log) if log.is_bad_input() => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-event",
                "Invalid event",
                log.to_string(),
            ),
            CommandError::Undecodable { .. } => {
                tracing::error!(%error, "a stored event cannot be read");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "undecodable-event",
                    "Unreadable history",
                    error.to_string(),
                )
            }
            CommandError::Log(log) => Problem::unavailable(format!("the event log failed: {log}")),
        }
    }
}

/// The HTTP rendering of a problem: `application/problem+json` with its
/// status, `Retry-After` and `ETag`.
#[cfg(feature = "actix")]
impl actix_web::ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let mut response = actix_web::HttpResponse::build(self.status_code());
        if let Some(seconds) = self.retry_after {
            response.insert_header(("Retry-After", seconds.to_string()));
        }
        if let Some(revision) = self.etag {
            response.insert_header((actix_web::http::header::ETAG, format!("\"{revision}\"")));
        }
        response.content_type("application/problem+json").json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_rule_is_a_4xx_named_by_its_stable_code_and_field() {
        let invalid: Problem = DomainError::InvalidField {
            field: "headcount",
            reason: "must be at least 1".into(),
        }
        .into();
        assert_eq!(
            (invalid.status, invalid.type_uri.as_str()),
            (422, "https://ercs.example/problems/invalid-field")
        );
        assert_eq!(invalid.field.as_deref(), Some("headcount"));
        let missing: Problem = DomainError::NotFound {
            what: "team",
            key: "t-1".into(),
        }
        .into();
        assert_eq!(
            (missing.status, missing.type_uri.as_str()),
            (404, "https://ercs.example/problems/not-found")
        );
    }

    #[test]
    fn a_stale_revision_is_a_409_that_says_what_to_do() {
        let stream = ercs_eventlog::StreamName::new("team-1").unwrap();
        let stale: Problem = CommandError::<DomainError>::Conflict {
            stream,
            expected: Some(0),
            actual: Some(2),
        }
        .into();
        assert_eq!(
            (stale.status, stale.type_uri.as_str()),
            (409, "https://ercs.example/problems/stale-revision")
        );
        assert!(
            stale.detail.contains("revision 2") && stale.detail.contains("If-Match: \"2\""),
            "{}",
            stale.detail
        );
        assert_eq!(stale.etag, Some(2), "the 409 carries the current ETag");
    }
}
