//! API tokens administered while the service runs (admin only):
//! `POST /api/v1/tokens` creates one, `POST /api/v1/tokens/{id}/revoke` revokes
//! one from its next request on. `ercs token …` does the same on a stopped
//! SQLite service or on a shared store; listing them is `ercs token list`,
//! which reads the whole log and so is no request of the service's.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::tokens::{TokenError, TokenRecord, principal};
use crate::auth::{Authenticator, Principal, principal_of};
use crate::problem::Problem;
use crate::routes::commands::{json_body, read_body};

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/api/v1/tokens", web::post().to(create))
        .route("/api/v1/tokens/{id}/revoke", web::post().to(revoke));
}

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    subject: String,
    name: String,
    role: String,
    jurisdiction: String,
}

async fn create(
    auth: web::Data<Authenticator>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let admin = principal_of(&request);
    let body = read_body(&request, payload).await?;
    let asked: NewToken = json_body(&body)?;
    let principal = principal(
        &asked.subject,
        &asked.name,
        &asked.role,
        &asked.jurisdiction,
    )
    .map_err(|(field, detail)| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            detail,
        )
        .with_field(field)
    })?;
    let (token, record) = auth
        .tokens
        .create(principal, by(&admin, &request))
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/tokens/{}", record.token_id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({"token": token, "record": shown(&record)})))
}

async fn revoke(
    auth: web::Data<Authenticator>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let admin = principal_of(&request);
    let id = Uuid::try_parse(&id).map_err(|_| {
        Problem::not_found(format!("no API token with id `{id}` (an id is a UUID)"))
    })?;
    let record = auth
        .tokens
        .revoke(id, by(&admin, &request))
        .await
        .map_err(refused)?;
    Ok(HttpResponse::Ok().json(shown(&record)))
}

/// Who asks, within which request: what the token's events record.
fn by<'a>(admin: &'a Option<Principal>, request: &HttpRequest) -> Option<(&'a Principal, Uuid)> {
    admin
        .as_ref()
        .map(|admin| (admin, crate::observe::request_id(request)))
}

/// A token's record as answered: never its digest.
fn shown(record: &TokenRecord) -> serde_json::Value {
    json!({
        "token_id": record.token_id,
        "principal": record.principal,
        "created_at": record.created_at,
        "revoked_at": record.revoked_at,
    })
}

fn refused(error: TokenError) -> Problem {
    match error {
        TokenError::Unknown(_) => Problem::not_found(error.to_string()),
        TokenError::AlreadyRevoked(_) => Problem::new(
            StatusCode::CONFLICT,
            "token-revoked",
            "Token already revoked",
            error.to_string(),
        ),
        // Revoked by another request a moment ago.
        TokenError::Log(ercs_eventlog::Error::WrongExpectedRevision { .. }) => Problem::new(
            StatusCode::CONFLICT,
            "token-revoked",
            "Token already revoked",
            "the token was revoked by another request just now",
        ),
        TokenError::Log(error) => Problem::unavailable(format!("cannot record it: {error}")),
    }
}
