//! Access control (权责匹配): who a request is, and what it may read and command.
//!
//! - [`principal`]: the authenticated actor — subject, display name, role and
//!   jurisdiction — and the seven roles.
//! - [`jwt`]: Bearer JWTs (HS256, RS256, ES256) checked against configured keys
//!   or a JWKS file: signature, `iss`, `aud`, `exp`, `nbf`.
//! - [`tokens`]: opaque API tokens for machines, kept in the log as a SHA-256
//!   digest (stream `token-<id>`), so every replica on a shared store knows them.
//! - [`rules`]: the rule of every endpoint of the route table (read, command a
//!   resource, plan), and the decision for a principal.
//! - [`guard`]: the middleware that authenticates each request and applies the
//!   endpoint's rule before any handler runs.
//! - [`config`]: development and production modes, from the command line.
//! - [`tickets`]: one-use, short-lived feed tickets for browsers' `EventSource`.
//! - [`limits`]: rate limits per token and per client address (429), and the
//!   cap on each token's open feed connections.
//! - [`cors`]: which other origins' pages may call, with which headers.
//! - [`development`]: the development mode's signing key and its printed tokens.
//!
//! Commands are checked twice on purpose: the guard decides what the path names
//! (role, and the jurisdiction of an existing resource), and the command path
//! checks the areas the body names (a new resource's area) once it is parsed,
//! through [`authorise_areas`].

pub mod config;
pub mod cors;
pub mod development;
pub mod guard;
pub mod jwt;
pub mod limits;
pub mod principal;
pub mod rules;
pub mod tickets;
pub mod tokens;

pub use config::{AuthArgs, Authenticator, Mode};
pub use principal::{Jurisdiction, Principal, Role};

use actix_web::HttpMessage;
use actix_web::HttpRequest;
use ercs_domain::area::AreaCode;
use ercs_domain::references::{Reference, Refers};

use crate::problem::Problem;
use crate::state::AppState;

/// The principal the guard authenticated for `request`.
pub fn principal_of(request: &HttpRequest) -> Option<Principal> {
    request.extensions().get::<Principal>().cloned()
}

/// Refuses a command whose body names an area outside the principal's
/// jurisdiction (a team registered in another district, a depot moved there).
/// A resource created without an area (a catalogue item) is the whole city's.
pub fn authorise_areas(
    state: &AppState,
    request: &HttpRequest,
    command: &impl Refers,
    creates: bool,
) -> Result<(), Problem> {
    let Some(principal) = principal_of(request) else {
        return Ok(());
    };
    let references = command.references();
    let names_area = references
        .iter()
        .any(|r| matches!(r, Reference::Area { .. }));
    if creates && !names_area && !principal.jurisdiction.is_whole_city(&state.areas) {
        return Err(rules::whole_city(&principal));
    }
    for reference in references {
        // An area the tree lacks is the reference check's 422, not a 403.
        if let Reference::Area { field, code } = reference
            && state.areas.get(&code).is_some()
            && !principal.jurisdiction.covers(&state.areas, &code)
        {
            return Err(rules::outside(&principal, &code).with_field(field));
        }
    }
    Ok(())
}

/// Whether every area of a resource lies inside `jurisdiction`; a resource
/// without an area (a catalogue item) belongs to the whole city.
pub fn covers_all(state: &AppState, jurisdiction: &Jurisdiction, areas: &[AreaCode]) -> bool {
    if areas.is_empty() {
        return jurisdiction.is_whole_city(&state.areas);
    }
    areas
        .iter()
        .all(|area| jurisdiction.covers(&state.areas, area))
}
