//! Probes for load balancers and orchestrators.
//!
//! - `/healthz` (liveness): the process answers HTTP. Never touches the log, so a
//!   slow disk does not get a healthy process restarted.
//! - `/readyz` (readiness): the event log answers; send traffic here.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::problem::Problem;
use crate::startup::AppState;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let position =
        state.log.head().await.map_err(|error| {
            Problem::unavailable(format!("the event log does not answer: {error}"))
        })?;
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "log_position": position })))
}
