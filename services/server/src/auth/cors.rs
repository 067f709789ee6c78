//! CORS, for GIS dashboards served from another origin: which origins may call,
//! with which headers. Preflights are answered here, before the guard, since a
//! browser sends them without credentials.

use actix_cors::Cors;
use actix_web::http::{Method, header};

use super::config::Mode;

/// Origins allowed when none are configured in development mode.
const DEVELOPMENT_ORIGINS: [&str; 2] = ["http://localhost", "http://127.0.0.1"];

/// How long a browser may cache a preflight's answer.
const PREFLIGHT_MAX_AGE_SECONDS: usize = 600;

/// The CORS middleware for `origins` (exact origins, `scheme://host[:port]`).
/// In development with none configured, any port of localhost and 127.0.0.1;
/// in production with none, no cross-origin caller at all.
pub fn cors(mode: Mode, origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("ercs-position"),
            header::HeaderName::from_static("idempotent-replayed"),
            crate::observe::REQUEST_ID,
        ])
        .max_age(PREFLIGHT_MAX_AGE_SECONDS);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    if origins.is_empty() && mode == Mode::Development {
        cors = cors.allowed_origin_fn(|origin, _| {
            let origin = origin.to_str().unwrap_or_default();
            DEVELOPMENT_ORIGINS.iter().any(|local| {
                origin == *local
                    || origin
                        .strip_prefix(local)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .is_some_and(|port| port.parse::<u16>().is_ok())
            })
        });
    }
    cors
}
