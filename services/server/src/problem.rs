//! RFC 9457 problem details at the HTTP edge. [`Problem`] itself (and how a
//! refusal or a log failure becomes one) is `ercs_network::problem`; its
//! `ResponseError` rendering is that crate's `actix` feature. Here: every other
//! 4xx and 5xx actix or a library answers becomes a problem too.

use actix_web::ResponseError;
use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;

pub use ercs_network::problem::{Problem, TYPE_BASE};

/// The longest error text of actix or a library that is kept as a problem's
/// `detail`; past it, the detail says only what the status means.
const MAX_PLAIN_DETAIL: usize = 1024;

/// `ErrorHandlers`' handler for every 4xx and 5xx: an error body that is not
/// problem+json already (actix's own extractor and payload errors, the docs
/// UI's 404) becomes one with the same status and headers, its text (if short)
/// as the `detail`. Nothing the service answers escapes the one error shape.
pub fn problem_for_any_error<B>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>>
where
    B: MessageBody + 'static,
{
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    Ok(ErrorHandlerResponse::Future(Box::pin(async move {
        let (request, plain) = response.into_parts();
        let status = plain.status();
        let kept = plain.headers().clone();
        let text = actix_web::body::to_bytes_limited(plain.into_body(), MAX_PLAIN_DETAIL)
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
            .filter(|text| !text.trim().is_empty());
        let detail = text.unwrap_or_else(|| default_detail(status, &request));
        let mut answer = Problem::of_status(status, detail).error_response();
        for (name, value) in &kept {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                answer.headers_mut().insert(name.clone(), value.clone());
            }
        }
        Ok(ServiceResponse::new(request, answer).map_into_right_body::<B>())
    })))
}

fn default_detail(status: StatusCode, request: &actix_web::HttpRequest) -> String {
    if status == StatusCode::NOT_FOUND {
        not_found_detail(request)
    } else {
        status.canonical_reason().unwrap_or("error").to_owned()
    }
}

/// Why a path is a 404, and where the API is described.
pub fn not_found_detail(request: &actix_web::HttpRequest) -> String {
    format!(
        "no endpoint {} {}; the API is described at /api/v1/openapi.json",
        request.method(),
        request.path()
    )
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
