//! RFC 9457 problem details: every error the API returns has this shape, with a
//! stable `type` URI a client can branch on, a `detail` a dispatcher can act on and,
//! for bad input, the field at fault.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
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
    pub field: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("{TYPE_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
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

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type("application/problem+json")
            .json(self)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    #[test]
    fn a_problem_is_rfc_9457_json_with_a_stable_type_and_the_field_at_fault() {
        let problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            "must be ≥ 0",
        )
        .with_field("beds.staffed");
        let response = problem.error_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
        let body = response.into_body().try_into_bytes().unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "type": "https://ercs.example/problems/invalid-field",
                "title": "Invalid field",
                "status": 422,
                "detail": "must be ≥ 0",
                "field": "beds.staffed",
            })
        );
    }
}
