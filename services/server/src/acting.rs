//! Who is acting in a request: [`Acting`] (in `ercs_network`) made from the
//! request's authenticated actor, its audit metadata and its network's clock.

use actix_web::HttpRequest;
use chrono::Utc;
use ercs_commands::Metadata;

pub use ercs_network::acting::Acting;

use crate::problem::Problem;

/// The authenticated actor of `request`, with one request id for its steps,
/// acting now on the clock of the network the request names.
pub fn of(request: &HttpRequest) -> Result<Acting, Problem> {
    let actor = crate::routes::commands::actor(request)?;
    let metadata = crate::routes::commands::audited(request, Metadata::new(actor.to_string()));
    let at = crate::state::network_of(request).map_or_else(|_| Utc::now(), |n| n.now());
    Ok(Acting::with(actor, at, metadata))
}
