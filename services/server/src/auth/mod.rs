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
pub mod lasting;
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

/// Refuses an approval that would command resources outside the principal's
/// jurisdiction: the sources of the `chosen` assignments of `plan`. A district
/// approves what its own district holds; what a plan draws from another
/// district or a higher tier, that tier's dispatcher or the city commander
/// approves (权责匹配). The 403 names the sources outside and the assignments a
/// partial approval may take.
pub fn plan_sources_inside(
    state: &AppState,
    request: &HttpRequest,
    assignments: &[ercs_routing::Assignment],
    chosen: &[usize],
) -> Result<(), Problem> {
    let Some(principal) = principal_of(request) else {
        return Ok(());
    };
    if principal.jurisdiction.is_whole_city(&state.areas) {
        return Ok(());
    }
    let (inside, outside): (Vec<_>, Vec<_>) = state
        .view
        .read(|view| {
            chosen
                .iter()
                .map(|&index| {
                    let source = &assignments[index].source;
                    let areas = source_kind(source)
                        .and_then(|(kind, id)| view.resource_areas(kind, id))
                        .unwrap_or_default();
                    let name = crate::plans::source_name(view, source);
                    (index, name, areas)
                })
                .collect::<Vec<_>>()
        })
        .0
        .into_iter()
        .partition(|(_, _, areas)| covers_all(state, &principal.jurisdiction, areas));
    if outside.is_empty() {
        return Ok(());
    }
    let place = |areas: &[AreaCode]| {
        areas
            .iter()
            .filter_map(|code| state.areas.get(code))
            .filter(|area| area.tier == ercs_domain::area::Tier::District)
            .map(|area| area.name.to_string())
            .next()
            .unwrap_or_else(|| "市级".to_owned())
    };
    let named: Vec<String> = outside
        .iter()
        .take(5)
        .map(|(index, name, areas)| format!("{name}（{}，第 {index} 项）", place(areas)))
        .collect();
    let more = outside.len().saturating_sub(named.len());
    let rest = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    let advice = if inside.is_empty() {
        "a dispatcher of the tier that holds them, or the city commander (市级指挥), approves it"
            .to_owned()
    } else {
        let indices: Vec<String> = inside.iter().map(|(i, ..)| i.to_string()).collect();
        format!(
            "approve what lies inside it (`{{\"assignments\": [{}]}}`) and ask the city \
             commander (市级指挥) to approve a plan for the rest",
            indices.join(", ")
        )
    };
    Err(rules::forbidden(
        "outside-jurisdiction",
        format!(
            "this plan draws on resources outside jurisdiction {} of {}: {}{rest}; a tier obtains \
             another's resources by that tier's approval, never by commanding them: {advice}",
            principal.jurisdiction,
            principal.name,
            named.join("、"),
        ),
    )
    .with_field("assignments"))
}

/// The collection and id a plan's source names (`team/<id>`, `facility/<id>/…`).
fn source_kind(source: &str) -> Option<(ercs_projections::one_network::ResourceKind, &str)> {
    use ercs_projections::one_network::ResourceKind;
    let mut parts = source.split('/');
    let kind = match parts.next()? {
        "team" => ResourceKind::Teams,
        "facility" => ResourceKind::Facilities,
        "depot" => ResourceKind::Depots,
        "convertible" => ResourceKind::Convertibles,
        _ => return None,
    };
    Some((kind, parts.next()?))
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
