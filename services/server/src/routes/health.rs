//! Probes for load balancers and orchestrators.
//!
//! - `/healthz` (liveness): the process answers HTTP. Never touches the log, so a
//!   slow disk does not get a healthy process restarted.
//! - `/readyz` (readiness): the event log answers and the one-network view has
//!   caught up with the log's head as it was at start (a restart replays what
//!   its last snapshot lacks); send traffic here. Until then 503, `Retry-After: 1`.

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
    if !state.is_ready() {
        return Err(Problem::unavailable(format!(
            "the one-network view is catching up with the log: at position {} of {}",
            state.view.position().0,
            position.0
        ))
        .retry_after(1));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "log_position": position })))
}
