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
use crate::state::{Net, PathId};

pub fn configure(config: &mut web::ServiceConfig, base: &str) {
    config
        .route(
            &format!("{base}/incidents/{{id}}/held"),
            web::get().to(held),
        )
        .route(
            &format!("{base}/incidents/{{id}}/plans"),
            web::get().to(plans),
        );
}

/// An answer about one incident: `{incident, <part>: …, position}`.
#[derive(Serialize)]
struct About<T> {
    incident: IncidentId,
    #[serde(flatten)]
    part: T,
    /// The log position the answer reflects.
    position: u64,
}

#[derive(Serialize)]
struct Plans {
    plans: Vec<ercs_projections::one_network::plans::PlanSummary>,
}

async fn plans(state: Net, request: HttpRequest, id: PathId) -> Result<HttpResponse, Problem> {
    about(state, request, id, |view, incident| Plans {
        plans: view.plans_of(incident).into_iter().cloned().collect(),
    })
    .await
}

async fn held(state: Net, request: HttpRequest, id: PathId) -> Result<HttpResponse, Problem> {
    about(state, request, id, |view, incident| view.holdings(incident)).await
}

/// Reads `part` of the incident `id` from the view the request asks for; 404
/// when there is no such incident.
async fn about<T: Serialize>(
    state: Net,
    request: HttpRequest,
    id: PathId,
    part: impl FnOnce(&ercs_projections::OneNetwork, IncidentId) -> T,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let options = params.read_options()?;
    params.finish()?;
    let missing = || Problem::not_found(format!("no incident with id `{id}`"));
    let incident: IncidentId = id.parse().map_err(|_| missing())?;
    let view = state.view(options).await?;
    let (part, position) = view.read(|view| {
        view.incidents
            .contains_key(&incident)
            .then(|| part(view, incident))
    });
    let part = part.ok_or_else(missing)?;
    Ok(HttpResponse::Ok()
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .json(About {
            incident,
            part,
            position: position.0,
        }))
}
