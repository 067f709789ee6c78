//! The rule of every endpoint, and what it allows each principal.
//!
//! Rules are given by the shape of the route table's path templates (the
//! OpenAPI document's `paths`), so [`rule_for`] answers for every documented
//! operation; one it cannot place gets no rule, and the guard refuses it
//! (deny by default) — `tests/access.rs` fails on any such endpoint.

use actix_web::http::{Method, StatusCode};
use ercs_domain::area::AreaCode;
use ercs_projections::one_network::ResourceKind;

use super::principal::{Principal, Role};
use crate::problem::Problem;
use crate::state::AppState;

/// What an endpoint does, for access control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Health checks and the API's description: no token needed.
    Public,
    /// A read: every role may.
    Read,
    /// A command creating a resource of `kind`: the areas its body names are
    /// checked once parsed ([`super::authorise_areas`]).
    Create(ResourceKind),
    /// A command on the existing resource of `kind` named by the path's `{id}`.
    Command(ResourceKind),
    /// `POST /plans`: proposing a plan commands nothing yet.
    ProposePlan,
    /// Approving or cancelling the plan named by the path's `{id}`.
    DecidePlan,
    /// `/metrics`: any valid token, whatever its role or jurisdiction (give
    /// Prometheus a `viewer` API token). It counts requests and shows the
    /// replica's lag, never a resource, yet is no one's business without a token.
    Metrics,
    /// Creating or revoking API tokens: admins only.
    Administer,
    /// Starting, steering or deleting a drill: its directors (演练导演) and admins.
    Direct,
}

/// The rule of `method` on the path template `template`, if it has one.
pub fn rule_for(method: &Method, template: &str) -> Option<Rule> {
    let segments: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let kind = |collection: &str| ResourceKind::parse(collection);
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["healthz" | "readyz"] | ["docs", ..] | ["api", "v1", "openapi.json"]) => {
            Some(Rule::Public)
        }
        ("GET", ["metrics"]) => Some(Rule::Metrics),
        // Safe methods never write, so every GET of the API is a read.
        ("GET", ["api", "v1", ..]) => Some(Rule::Read),
        ("POST", ["api", "v1", "tokens"] | ["api", "v1", "tokens", "{id}", "revoke"]) => {
            Some(Rule::Administer)
        }
        // A ticket lets its holder read the feed, as its token does.
        ("POST", ["api", "v1", "feed", "tickets"]) => Some(Rule::Read),
        ("POST" | "DELETE", ["api", "v1", "drills", ..]) => Some(Rule::Direct),
        ("POST", ["api", "v1", "plans"]) => Some(Rule::ProposePlan),
        ("POST", ["api", "v1", "plans", "{id}", "approve" | "cancel"]) => Some(Rule::DecidePlan),
        ("POST", ["api", "v1", collection]) => kind(collection).map(Rule::Create),
        ("POST", ["api", "v1", collection, "{id}", _]) => kind(collection).map(Rule::Command),
        _ => None,
    }
}

/// Where a request goes: the live path of its endpoint (inside a drill, the
/// path it mirrors), its query, and whether it is inside a drill.
pub struct Place<'a> {
    pub path: &'a str,
    pub query: &'a str,
    pub in_drill: bool,
}

/// Who may enter a drill's network: its directors, players, admins and
/// dashboards (to read), and a live account only when the drill lets its
/// subject in (`participants`). `rule` is the endpoint's, `None` for one the
/// route table lacks.
pub fn in_drill(
    principal: &Principal,
    hosted: &crate::drills::Hosted,
    rule: Option<Rule>,
) -> Result<(), Problem> {
    let reading = matches!(rule, Some(Rule::Read) | None);
    match principal.role {
        Role::Admin | Role::DrillDirector | Role::DrillPlayer => Ok(()),
        Role::Viewer if reading => Ok(()),
        _ if hosted.admits(&principal.subject) => Ok(()),
        role => Err(forbidden(
            "not-in-drill",
            format!(
                "{} ({}) is a live account that drill {} has not let in; its director adds \
                 the account's subject `{}` to the drill's participants",
                role,
                role.chinese(),
                hosted.id,
                principal.subject
            ),
        )),
    }
}

/// Whether `principal` may do what `rule` does at `place`: `Err` is the 403.
pub async fn decide(
    state: &AppState,
    principal: &Principal,
    rule: Rule,
    place: Place<'_>,
    own_reads: &[Role],
) -> Result<(), Problem> {
    let Place {
        path,
        query,
        in_drill,
    } = place;
    let id = path.split('/').nth(4).unwrap_or_default();
    let commanding = |principal: &Principal| commanding(principal, in_drill);
    let dispatching = |principal: &Principal| dispatching(principal, in_drill);
    match rule {
        Rule::Public | Rule::Metrics => Ok(()),
        Rule::Read if own_reads.contains(&principal.role) && !in_drill => {
            own_jurisdiction_read(state, principal, path, query).await
        }
        Rule::Read => Ok(()),
        Rule::Direct if matches!(principal.role, Role::DrillDirector | Role::Admin) => Ok(()),
        Rule::Direct => Err(forbidden(
            "director-only",
            format!(
                "drills are started and steered by a drill director (演练导演) or an admin, not by \
                 {} ({})",
                principal.role,
                principal.role.chinese()
            ),
        )),
        Rule::Create(_) | Rule::ProposePlan => commanding(principal),
        Rule::Command(kind) => {
            commanding(principal)?;
            match resource_areas(state, kind, id).await {
                Some(areas) => inside(state, principal, &areas),
                // Not a resource (yet): the command path answers 404 or refuses it.
                None => Ok(()),
            }
        }
        Rule::Administer if principal.role == Role::Admin => Ok(()),
        Rule::Administer => Err(forbidden(
            "admin-only",
            format!(
                "API tokens are created and revoked by an admin (系统管理员), not by {} ({})",
                principal.role,
                principal.role.chinese()
            ),
        )),
        Rule::DecidePlan => {
            dispatching(principal)?;
            let find = || {
                state
                    .view
                    .read(|view| view.plans.get(&id.parse().ok()?).copied())
                    .0
            };
            // A plan just proposed may not be in the view yet: bring it up to
            // the log's head before taking the plan for one of no incident.
            let incident = match find() {
                Some(incident) => Some(incident),
                None => {
                    if let Ok(head) = state.log.head().await {
                        let _ = state.view.wait_for(head, crate::query::READ_WAIT).await;
                    }
                    find()
                }
            };
            let areas = match incident {
                Some(incident) => {
                    resource_areas(state, ResourceKind::Incidents, &incident.to_string())
                        .await
                        .unwrap_or_default()
                }
                // A plan for no incident draws on the whole city.
                None => Vec::new(),
            };
            inside(state, principal, &areas)
        }
    }
}

/// A read by a role configured to read its own jurisdiction only: one
/// resource inside it, or a list filtered to an area inside it; nothing that
/// spans the whole network.
async fn own_jurisdiction_read(
    state: &AppState,
    principal: &Principal,
    path: &str,
    query: &str,
) -> Result<(), Problem> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let kind = segments.get(2).and_then(|c| ResourceKind::parse(c));
    match (kind, segments.len()) {
        (Some(kind), 4) => match resource_areas(state, kind, segments[3]).await {
            Some(areas) => inside(state, principal, &areas),
            None => Ok(()),
        },
        (Some(_), 3) => {
            let area = crate::query::Params::parse(query)?
                .take_raw("area")
                .and_then(|raw| raw.parse::<AreaCode>().ok());
            match area {
                Some(area) if principal.jurisdiction.covers(&state.areas, &area) => Ok(()),
                Some(area) => Err(outside(principal, &area)),
                None => Err(forbidden(
                    "own-jurisdiction-reads-only",
                    format!(
                        "{} reads its own jurisdiction only: add `area={}`",
                        principal.role, principal.jurisdiction
                    ),
                )
                .with_field("area")),
            }
        }
        _ => Err(forbidden(
            "own-jurisdiction-reads-only",
            format!(
                "{} reads its own jurisdiction only: this read spans the whole network",
                principal.role
            ),
        )),
    }
}

/// Roles that command the live network; inside a drill, its directors and
/// players command too (a director anywhere, a player in its jurisdiction).
fn commanding(principal: &Principal, in_drill: bool) -> Result<(), Problem> {
    match principal.role {
        role if role.is_drill() && in_drill => Ok(()),
        Role::Viewer => Err(forbidden(
            "read-only-role",
            format!(
                "{} ({}) is a read-only role: dashboards never write",
                principal.role,
                principal.role.chinese()
            ),
        )),
        role if role.is_drill() => Err(forbidden(
            "drill-role-on-live-network",
            format!(
                "{} ({}) acts inside drills only, never on the live network",
                role,
                role.chinese()
            ),
        )),
        _ => Ok(()),
    }
}

/// Approving a plan dispatches resources: a township operator asks its
/// district to, it does not.
fn dispatching(principal: &Principal, in_drill: bool) -> Result<(), Problem> {
    commanding(principal, in_drill)?;
    if principal.role == Role::TownshipOperator {
        return Err(forbidden(
            "role-may-not-dispatch",
            "a township operator (乡镇) cannot approve or cancel a plan; its district dispatcher \
             (区县调度) or the city commander (市级指挥) does",
        ));
    }
    Ok(())
}

fn inside(state: &AppState, principal: &Principal, areas: &[AreaCode]) -> Result<(), Problem> {
    if super::covers_all(state, &principal.jurisdiction, areas) {
        return Ok(());
    }
    Err(
        match areas
            .iter()
            .find(|a| !principal.jurisdiction.covers(&state.areas, a))
        {
            Some(area) => outside(principal, area),
            None => whole_city(principal),
        },
    )
}

/// The 403 for what belongs to the whole city (a catalogue item, a plan for no
/// incident), commanded from a smaller jurisdiction.
pub fn whole_city(principal: &Principal) -> Problem {
    forbidden(
        "outside-jurisdiction",
        format!(
            "this belongs to the whole city; jurisdiction {} of {} is not the city's",
            principal.jurisdiction, principal.name
        ),
    )
}

/// The 403 for an area outside the principal's jurisdiction.
pub fn outside(principal: &Principal, area: &AreaCode) -> Problem {
    forbidden(
        "outside-jurisdiction",
        format!(
            "area {area} is outside jurisdiction {} of {} ({}); a lower tier obtains a higher \
             tier's resources through an escalation request, never by commanding them",
            principal.jurisdiction, principal.name, principal.role
        ),
    )
}

pub fn forbidden(slug: &str, detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::FORBIDDEN, slug, "Forbidden", detail)
}

/// The areas of resource `id` of `kind`. A resource just written may not be in
/// the view yet, so the view is first brought up to the log's head (bounded).
async fn resource_areas(state: &AppState, kind: ResourceKind, id: &str) -> Option<Vec<AreaCode>> {
    let find = || state.view.read(|view| view.resource_areas(kind, id)).0;
    if let Some(areas) = find() {
        return Some(areas);
    }
    let head = state.log.head().await.ok()?;
    state
        .view
        .wait_for(head, crate::query::READ_WAIT)
        .await
        .ok()?;
    find()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_get_is_a_read_and_health_is_public() {
        assert_eq!(
            rule_for(&Method::GET, "/api/v1/teams/{id}"),
            Some(Rule::Read)
        );
        assert_eq!(rule_for(&Method::GET, "/healthz"), Some(Rule::Public));
        assert_eq!(rule_for(&Method::GET, "/metrics"), Some(Rule::Metrics));
    }

    #[test]
    fn a_post_the_table_cannot_place_has_no_rule() {
        assert_eq!(rule_for(&Method::POST, "/api/v1/rockets"), None);
        assert_eq!(rule_for(&Method::DELETE, "/api/v1/teams/{id}"), None);
        assert_eq!(
            rule_for(&Method::POST, "/api/v1/teams/{id}/mobilise"),
            Some(Rule::Command(ResourceKind::Teams))
        );
    }
}
