//! `GET /api/v1/incidents/{id}/held`: everything an incident holds, by kind — the
//! teams mobilised for it or on scene, and the beds and stock its plans reserve —
//! so a dispatcher sees what closing it will release.
//!
//! `GET /api/v1/incidents/{id}/plans`: its plans, oldest first, with where each
//! stands (proposed, approved, partly approved, superseded, cancelled).

use actix_web::{HttpRequest, HttpResponse, web};
use ercs_domain::ids::IncidentId;
use serde::Serialize;

use crate::problem::Problem;
use crate::query::Params;
use crate::routes::resources::POSITION_HEADER;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/api/v1/incidents/{id}/held", web::get().to(held))
        .route("/api/v1/incidents/{id}/plans", web::get().to(plans));
}

#[derive(Serialize)]
struct Plans {
    incident: IncidentId,
    plans: Vec<ercs_projections::one_network::plans::PlanSummary>,
    /// The log position the answer reflects.
    position: u64,
}

async fn plans(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let options = params.read_options()?;
    params.finish()?;
    let missing = || Problem::not_found(format!("no incident with id `{id}`"));
    let incident: IncidentId = id.parse().map_err(|_| missing())?;
    let view = state.view(options).await?;
    let (plans, position) = view.read(|view| {
        view.incidents.contains_key(&incident).then(|| {
            view.plans_of(incident)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let plans = plans.ok_or_else(missing)?;
    Ok(HttpResponse::Ok()
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .json(Plans {
            incident,
            plans,
            position: position.0,
        }))
}

#[derive(Serialize)]
struct Held {
    incident: IncidentId,
    #[serde(flatten)]
    holdings: ercs_projections::one_network::Holdings,
    /// The log position the answer reflects.
    position: u64,
}

async fn held(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let options = params.read_options()?;
    params.finish()?;
    let missing = || Problem::not_found(format!("no incident with id `{id}`"));
    let incident: IncidentId = id.parse().map_err(|_| missing())?;
    let view = state.view(options).await?;
    let (holdings, position) = view.read(|view| {
        view.incidents
            .contains_key(&incident)
            .then(|| view.holdings(incident))
    });
    let holdings = holdings.ok_or_else(missing)?;
    Ok(HttpResponse::Ok()
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .json(Held {
            incident,
            holdings,
            position: position.0,
        }))
}
