//! Probes for load balancers and orchestrators, and the metrics for Prometheus.
//!
//! - `/healthz` (liveness): the process answers HTTP. Never touches the log, so a
//!   slow disk does not get a healthy process restarted.
//! - `/readyz` (readiness): the event log answers, the one-network view has
//!   caught up with the log's head as it was at start (a restart replays what
//!   its last snapshot lacks), and it keeps up: the oldest event it has not
//!   applied was recorded at most `--max-lag` seconds ago. Send traffic here.
//!   Otherwise 503 problem+json saying which, with `Retry-After: 1`.
//! - `/metrics`: [`crate::metrics`], and what is read when scraped: the log's
//!   head, the view's position and lag, the feed's subscribers and resyncs.

use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use ercs_eventlog::{Direction, Filter, Position, ReadFrom};
use serde_json::json;

use crate::metrics::Gauge;
use crate::problem::Problem;
use crate::startup::AppState;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    let lag = Lag::now(&state).await?;
    if !state.is_ready() {
        return Err(Problem::unavailable(format!(
            "the one-network view is catching up with the log: at position {} of {}",
            lag.view.0, lag.head.0
        ))
        .retry_after(1));
    }
    if lag.seconds > state.max_lag.as_secs_f64() {
        return Err(Problem::unavailable(format!(
            "the one-network view lags the log: at position {} of {}, and the oldest event it has \
             not applied was recorded {:.1} s ago, more than --max-lag {} s",
            lag.view.0,
            lag.head.0,
            lag.seconds,
            state.max_lag.as_secs()
        ))
        .retry_after(1));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ready", "log_position": lag.head })))
}

#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let mut gauges = vec![Gauge::new(
        "ercs_ready",
        "1 when /readyz would answer 200 (ignoring --max-lag), else 0",
        f64::from(u8::from(state.is_ready())),
    )];
    match Lag::now(&state).await {
        Ok(lag) => gauges.extend([
            Gauge::new(
                "ercs_log_head_position",
                "The event log's head (global position)",
                lag.head.0 as f64,
            ),
            Gauge::new(
                "ercs_view_position",
                "The position the one-network view has applied",
                lag.view.0 as f64,
            ),
            Gauge::new(
                "ercs_view_lag_events",
                "Positions between the log's head and the view",
                lag.head.0.saturating_sub(lag.view.0) as f64,
            ),
            Gauge::new(
                "ercs_view_lag_seconds",
                "Age of the oldest event the view has not applied (0 when caught up)",
                lag.seconds,
            ),
            Gauge::new("ercs_store_up", "1 when the event log answers", 1.0),
        ]),
        Err(_) => gauges.push(Gauge::new(
            "ercs_store_up",
            "1 when the event log answers",
            0.0,
        )),
    }
    gauges.extend([
        Gauge::new(
            "ercs_feed_subscribers",
            "Clients following the live feed now",
            state.feed.subscribers() as f64,
        ),
        Gauge::new(
            "ercs_feed_resyncs_total",
            "Feed clients told to refetch (resync) because they fell behind",
            state.feed.resyncs() as f64,
        ),
        Gauge::new(
            "ercs_command_states_cached",
            "Aggregates whose decided state the command path keeps in memory",
            state.aggregates.cached() as f64,
        ),
        Gauge::new(
            "ercs_command_events_folded_total",
            "Stored events the command path has folded into states since start (a kept or restored state is not folded again)",
            state.aggregates.events_folded() as f64,
        ),
    ]);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&gauges))
}

/// How far the view is behind the log.
struct Lag {
    head: Position,
    view: Position,
    /// How long ago the oldest event the view lacks was recorded; 0 if none.
    seconds: f64,
}

impl Lag {
    async fn now(state: &AppState) -> Result<Lag, Problem> {
        let unanswered =
            |error| Problem::unavailable(format!("the event log does not answer: {error}"));
        let head = state.log.head().await.map_err(unanswered)?;
        let view = state.view.position();
        let mut seconds = 0.0;
        if head > view {
            let next = state
                .log
                .read_all(
                    ReadFrom::At(Position(view.0 + 1)),
                    Direction::Forwards,
                    &Filter::all(),
                    1,
                )
                .await
                .map_err(unanswered)?;
            if let Some(event) = next.first() {
                let age = Utc::now() - event.recorded_at;
                seconds = age.num_microseconds().unwrap_or(i64::MAX).max(0) as f64 / 1e6;
            }
        }
        Ok(Lag {
            head,
            view,
            seconds,
        })
    }
}
