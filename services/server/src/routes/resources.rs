//! Reading resources: `GET /api/v1/{collection}` (filtered, paginated) and
//! `GET /api/v1/{collection}/{id}` (with its revision as `ETag`), for teams,
//! facilities, depots, convertibles, incidents and catalogue items.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use ercs_projections::one_network::{Resource, ResourceKind};

use serde::Serialize;

use crate::problem::Problem;
use crate::query::Params;
use crate::state::{Net, PathId};

/// The header every read and write carries: the log position the answer reflects.
pub const POSITION_HEADER: &str = "ERCS-Position";

pub fn configure(config: &mut web::ServiceConfig, base: &str) {
    for kind in ResourceKind::ALL {
        config
            .route(
                &format!("{base}/{kind}"),
                web::get().to(move |state: Net, request: HttpRequest| list(state, request, kind)),
            )
            .route(
                &format!("{base}/{kind}/{{id}}"),
                web::get().to(move |state: Net, request: HttpRequest, id: PathId| {
                    get(state, request, kind, id.into_inner())
                }),
            );
    }
}

/// A page of a collection.
#[derive(Debug, Serialize)]
pub struct ResourcePage {
    pub items: Vec<Resource>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The log position the page reflects.
    pub position: u64,
}

async fn list(
    state: Net,
    request: HttpRequest,
    kind: ResourceKind,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let options = params.read_options()?;
    let filter = params.resource_filter(Some(kind))?;
    let page = params.page(100, 1000)?;
    params.finish()?;
    let view = state.view(options).await?;
    let ((items, next_cursor), position) = view.read(|view| {
        // One more than a page, to know whether there is a next one.
        let mut wanted = page.limit + 1;
        let mut items = view.resources_where(kind, |r| {
            let keep = wanted > 0
                && page
                    .cursor
                    .as_ref()
                    .is_none_or(|after| r.id.as_str() > after.as_str())
                && filter.matches(r, &state.areas);
            wanted -= usize::from(keep);
            keep
        });
        let more = items.len() > page.limit;
        items.truncate(page.limit);
        let next = more.then(|| items.last().map(|r| r.id.clone())).flatten();
        (items, next)
    });
    Ok(HttpResponse::Ok()
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .json(ResourcePage {
            items,
            next_cursor,
            position: position.0,
        }))
}

async fn get(
    state: Net,
    request: HttpRequest,
    kind: ResourceKind,
    id: String,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let options = params.read_options()?;
    params.finish()?;
    let view = state.view(options).await?;
    let (resource, position) = view.read(|view| {
        let mut resource = view.resource_by_id(kind, &id)?;
        // An incident shows everything held for it, by kind and state.
        if kind == ResourceKind::Incidents
            && let (Ok(incident), serde_json::Value::Object(state)) =
                (id.parse(), &mut resource.state)
        {
            let held = serde_json::to_value(view.holdings(incident)).unwrap_or_default();
            state.insert("held".to_owned(), held);
        }
        Some(resource)
    });
    let resource = resource
        .ok_or_else(|| Problem::not_found(format!("no {} with id `{id}`", kind_singular(kind))))?;
    let etag = resource.mark.map(|mark| etag(mark.revision));
    let mut response = HttpResponse::Ok();
    response.insert_header((POSITION_HEADER, position.0.to_string()));
    if let Some(etag) = &etag {
        // What an incident holds changes on other streams than its own, so its
        // revision cannot vouch for the whole answer: never a 304.
        if kind != ResourceKind::Incidents
            && request
                .headers()
                .get(header::IF_NONE_MATCH)
                .is_some_and(|v| v.as_bytes() == etag.as_bytes())
        {
            return Ok(HttpResponse::NotModified()
                .insert_header((header::ETAG, etag.clone()))
                .finish());
        }
        response.insert_header((header::ETAG, etag.clone()));
    }
    Ok(response.json(resource))
}

/// A stream revision as an `ETag`: `"3"`.
pub fn etag(revision: u64) -> String {
    format!("\"{revision}\"")
}

pub fn kind_singular(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Teams => "team",
        ResourceKind::Facilities => "facility",
        ResourceKind::Depots => "depot",
        ResourceKind::Convertibles => "convertible facility",
        ResourceKind::Incidents => "incident",
        ResourceKind::Items => "catalogue item",
    }
}
