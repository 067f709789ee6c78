//! What every request leaves behind for the operator: one request id, in the
//! `X-Request-Id` response header, in the `request_id` of every problem+json
//! body, in the audit metadata of every event the request appends
//! ([`crate::routes::commands::audited`]) and on every log line written while
//! the request is served (a `request` span around it); one access log line;
//! and its count and latency in `/metrics`, by route pattern and status.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use tracing::Instrument;
use uuid::Uuid;

use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, one per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(pub Uuid);

/// The id the middleware gave `request` (a fresh one outside the middleware).
pub fn request_id(request: &HttpRequest) -> Uuid {
    request
        .extensions()
        .get::<RequestId>()
        .map_or_else(Uuid::new_v4, |id| id.0)
}

/// Names the request ids of keyed requests inside drills.
const DRILL_REQUESTS: Uuid = Uuid::from_u128(0x6e1c_3f0a_52d4_4b8e_9a7f_0c2d_e4b6_a913);

/// A fresh id per request; inside a drill, a keyed request's id is made from
/// its method, path and `Idempotency-Key`, so the same requests at the same
/// drill times leave the same sandbox log (and a retry the same id).
fn request_id_for(request: &ServiceRequest) -> Uuid {
    let key = request
        .headers()
        .get(crate::idempotency::KEY_HEADER)
        .and_then(|v| v.to_str().ok());
    match key {
        Some(key) if request.path().starts_with("/api/v1/drills/") => Uuid::new_v5(
            &DRILL_REQUESTS,
            format!(
                "{} {} {key}",
                request.method(),
                crate::idempotency::network_path(request.path())
            )
            .as_bytes(),
        ),
        _ => Uuid::new_v4(),
    }
}

/// The biggest problem+json body the request id is written into; a bigger one
/// (none the service makes) keeps the header only.
const MAX_PROBLEM: usize = 256 * 1024;

/// The middleware, for `middleware::from_fn`.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = request_id_for(&request);
    request.extensions_mut().insert(RequestId(id));
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let method = crate::metrics::method_label(request.method());
    let span = tracing::info_span!("request", request_id = %id, method, path = request.path());
    let began = Instant::now();
    let response = next.call(request).instrument(span.clone()).await?;
    let elapsed = began.elapsed();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status();
    if let Some(state) = &state {
        state
            .metrics
            .requests
            .observe_duration(&[&route, method, status.as_str()], elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            route,
            status = status.as_u16(),
            millis = elapsed.as_secs_f64() * 1e3,
            "answered"
        )
    });
    let mut response = with_id_in_problem(response.map_into_boxed_body(), id).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(response)
}

/// A problem+json body, with `request_id` added.
async fn with_id_in_problem(response: ServiceResponse<BoxBody>, id: Uuid) -> ServiceResponse {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = match actix_web::body::to_bytes_limited(body, MAX_PROBLEM).await {
        Ok(Ok(bytes)) => bytes,
        // Read but too long, or unreadable: answered without a body rather than cut.
        _ => return ServiceResponse::new(request, head.set_body(BoxBody::new(()))),
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut problem)) => {
            problem.insert("request_id".into(), id.to_string().into());
            serde_json::Value::Object(problem).to_string().into()
        }
        _ => bytes,
    };
    ServiceResponse::new(request, head.set_body(BoxBody::new(body)))
}
