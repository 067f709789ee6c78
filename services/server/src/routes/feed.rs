//! `GET /api/v1/feed`: the live feed as server-sent events (see `crate::feed`),
//! and `POST /api/v1/feed/tickets`: a ticket that opens it from a browser's
//! `EventSource` (see `crate::auth::tickets`).

use std::convert::Infallible;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use ercs_domain::ids::IncidentId;
use ercs_projections::one_network::ResourceKind;
use futures::StreamExt;

use crate::auth::config::unauthenticated;
use crate::auth::lasting::{credential_of, lasting};
use crate::auth::{Authenticator, principal_of};
use crate::feed::{Detail, Subscription};
use crate::problem::Problem;
use crate::query::{Params, bad};
use crate::routes::ogc::take_crs;
use crate::state::Net;

pub fn configure(config: &mut web::ServiceConfig, base: &str) {
    config
        .route(&format!("{base}/feed"), web::get().to(feed))
        .route(&format!("{base}/feed/tickets"), web::post().to(ticket));
}

/// A one-use ticket for the principal that asks, answered 201.
async fn ticket(
    auth: web::Data<Authenticator>,
    request: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let Some(principal) = principal_of(&request) else {
        return Err(unauthenticated(
            "a feed ticket is issued to an authenticated caller",
        ));
    };
    let issued = auth
        .tickets
        .issue(
            principal,
            credential_of(&request),
            crate::observe::request_id(&request),
        )
        .await
        .map_err(|error| Problem::unavailable(format!("cannot record the ticket: {error}")))?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(issued))
}

async fn feed(
    state: Net,
    auth: web::Data<Authenticator>,
    request: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    // The guard has redeemed it (see `auth::guard`).
    let _ticket = params.take_raw("ticket");
    let collections = match params.take_raw("collection") {
        None => Vec::new(),
        Some(raw) => raw
            .split(',')
            .map(|name| {
                ResourceKind::parse(name.trim()).ok_or_else(|| {
                    bad(
                        "collection",
                        "must name collections: teams, facilities, depots, convertibles, incidents, items",
                    )
                })
            })
            .collect::<Result<_, _>>()?,
    };
    let filter = params.resource_filter(None)?;
    let incident = params.take::<IncidentId>("incident", "must be an incident's id (a UUID)")?;
    let crs = take_crs(&mut params)?;
    let detail = match params.take_raw("detail") {
        None => Detail::Full,
        Some(raw) => Detail::parse(&raw).ok_or_else(|| bad("detail", Detail::RULE))?,
    };
    // EventSource sends `Last-Event-ID` on reconnecting; a first connection may
    // pass the position it already has as `last_event_id`.
    let from_query = params.take::<u64>("last_event_id", "must be a log position")?;
    params.finish()?;
    // Counted from here until the client goes (the stream below is dropped).
    let permit = match principal_of(&request) {
        Some(principal) => Some(auth.feeds.open(&principal.subject)?),
        None => None,
    };
    let after = match request.headers().get("Last-Event-ID") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    bad(
                        "Last-Event-ID",
                        "must be a log position (an SSE id this feed sent)",
                    )
                })?,
        ),
        None => from_query,
    };
    let frames = state.feed.subscribe(
        after,
        Subscription {
            collections,
            filter,
            incident,
            crs,
            detail,
        },
    )?;
    // The connection's permit lives as long as its stream, and the stream as
    // long as what the request was authenticated with.
    let frames = frames.boxed();
    let frames = match credential_of(&request) {
        Some(credential) => lasting(frames, auth.tokens.clone(), credential).boxed(),
        None => frames,
    };
    let body = frames.map(move |frame| {
        let _held = &permit;
        Ok::<_, Infallible>(frame)
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        // Each event must leave as it is written; a compressor would hold it back.
        .insert_header(header::ContentEncoding::Identity)
        .streaming(body))
}
