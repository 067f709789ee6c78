//! `Idempotency-Key`: a retried POST takes effect at most once and gets the first
//! outcome back.
//!
//! The key lives in the event log, not beside it. The command path hands the key
//! (scoped by method and path) to the log, which records it in the same
//! transaction as the command's events and refuses a second append under it
//! (`EventLog::append_once`). So there is no window between "appended" and
//! "response kept" for a crash to fall into, no second store to fail, and no race
//! between twins: a retry, however late and whatever state it meets, is answered
//! from the events the first attempt appended, with `Idempotent-Replayed: true`.
//! A key is kept as long as the log.
//!
//! Each event also records a digest of the request body, so the same key with
//! another body is recognised as a different request and refused (422).
//!
//! Failed requests keep nothing: they appended nothing, so a retry simply runs
//! again. A command that decided no change appends nothing either.

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use uuid::Uuid;

use crate::problem::Problem;

/// The header a client sets to make a POST safe to retry.
pub const KEY_HEADER: &str = "Idempotency-Key";

/// The header on an answer that replays the first outcome of a key.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";

/// Request digests live in a UUID v5 namespace of their own.
const DIGEST_NAMESPACE: Uuid = Uuid::from_u128(0x6572_6373_2d72_6571_7565_7374_2d64_6967);

/// A client's key for one request, and the request it names.
#[derive(Debug, Clone)]
pub struct RequestKey {
    /// The key as the log records it: `api/POST /api/v1/…/<client key>`.
    pub scoped: String,
    /// The digest of the request body.
    pub digest: Uuid,
}

/// The path a key is scoped by: inside a drill, the live path it mirrors (a
/// drill's keys live in its own sandbox, and two runs of a drill then record
/// the same keys).
pub fn network_path(path: &str) -> std::borrow::Cow<'_, str> {
    match crate::drills::split(path) {
        Some((_, inner)) => std::borrow::Cow::Owned(inner),
        None => std::borrow::Cow::Borrowed(path),
    }
}

/// The request's `Idempotency-Key`, scoped by method and path, if it has one.
pub fn request_key(request: &HttpRequest, body: &[u8]) -> Result<Option<RequestKey>, Problem> {
    let Some(value) = request.headers().get(KEY_HEADER) else {
        return Ok(None);
    };
    match value.to_str().map(str::trim) {
        Ok(key) if (1..=255).contains(&key.len()) && !key.chars().any(char::is_control) => {
            Ok(Some(RequestKey {
                scoped: format!(
                    "api/{} {}/{key}",
                    request.method(),
                    network_path(request.path())
                ),
                digest: Uuid::new_v5(&DIGEST_NAMESPACE, body),
            }))
        }
        _ => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-header",
            "Invalid header",
            "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID",
        )
        .with_field(KEY_HEADER)),
    }
}
