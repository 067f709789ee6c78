//! The middleware in front of every handler: finds the endpoint's rule in the
//! route table, authenticates the bearer token and applies the rule, so a
//! refused request reaches no handler and appends nothing.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use serde_json::Value;

use super::config::Authenticator;
use super::lasting::Credential;
use super::principal::Principal;
use super::rules::{self, Rule, rule_for};
use crate::problem::Problem;
use crate::routes::fallback::{KnownPaths, no_route};
use crate::state::AppState;

/// Served but not in the document's `paths` (as in `routes::fallback`).
const UNDOCUMENTED: [&str; 2] = ["/api/v1/openapi.json", "/docs/{_:.*}"];

/// Every operation of the route table with its rule (`None`: no rule, refused).
pub struct RouteRules(Vec<Operation>);

/// One operation: its pattern, the literal text its paths start with (up to
/// the first parameter), its method and its rule. The prefix is compared
/// before the pattern, so a request is matched with a pattern (a regex when it
/// has parameters) only where its path could match at all.
struct Operation {
    prefix: String,
    pattern: ResourceDef,
    method: Method,
    rule: Option<Rule>,
}

impl RouteRules {
    /// The operations of the OpenAPI document (built from the route tables).
    pub fn of(document: &Value) -> Self {
        let mut table = Vec::new();
        for template in UNDOCUMENTED {
            table.push(entry(template, Method::GET));
        }
        for (template, item) in document["paths"].as_object().into_iter().flatten() {
            for method in item.as_object().into_iter().flat_map(|o| o.keys()) {
                if let Ok(method) = method.to_ascii_uppercase().parse::<Method>() {
                    table.push(entry(template, method));
                }
            }
        }
        Self(table)
    }

    /// The rule for `method` at `path`: `None` when the route table has no such
    /// operation, `Some(None)` when it has one without a rule.
    pub fn find(&self, method: &Method, path: &str) -> Option<Option<Rule>> {
        self.0
            .iter()
            .find(|op| {
                op.method == *method && path.starts_with(&op.prefix) && op.pattern.is_match(path)
            })
            .map(|op| op.rule)
    }

    /// The operations that have no rule, as `METHOD template`.
    pub fn without_rule(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|op| op.rule.is_none())
            .map(|op| format!("{} {}", op.method, op.pattern.pattern().unwrap_or("")))
            .collect()
    }
}

fn entry(template: &str, method: Method) -> Operation {
    let prefix = template.split('{').next().unwrap_or_default().to_owned();
    Operation {
        prefix,
        rule: rule_for(&method, template),
        pattern: ResourceDef::new(template),
        method,
    }
}

/// The guard, for `middleware::from_fn`.
pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match admit(&request).await {
        Ok(Some((principal, credential))) => {
            let mut extensions = request.extensions_mut();
            extensions.insert(principal);
            extensions.insert(credential);
        }
        Ok(None) => {}
        Err(refusal) => return Ok(request.into_response(refusal)),
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// `Ok(Some)`: the principal to record and what it was authenticated with;
/// `Ok(None)`: a public endpoint; `Err`: the response that refuses the request.
async fn admit(
    request: &ServiceRequest,
) -> Result<Option<(Principal, Credential)>, actix_web::HttpResponse> {
    let (Some(table), Some(auth), Some(live)) = (
        request.app_data::<web::Data<RouteRules>>(),
        request.app_data::<web::Data<Authenticator>>(),
        request.app_data::<web::Data<AppState>>(),
    ) else {
        return Ok(None);
    };
    // Inside a drill, the network is the drill's and the rule the live path's.
    let (path, drill) = match crate::drills::split(request.path()) {
        Some((id, inner)) => {
            let hosted = request
                .app_data::<web::Data<crate::drills::Drills>>()
                .and_then(|drills| drills.get(id))
                .ok_or_else(|| crate::drills::unknown_drill(id).error_response())?;
            (inner, Some(hosted))
        }
        None => (request.path().to_owned(), None),
    };
    let state: &AppState = match &drill {
        Some(hosted) => &hosted.network,
        None => live,
    };
    let rule = match table.find(request.method(), &path) {
        Some(Some(rule)) => Some(rule),
        Some(None) => {
            return Err(rules::forbidden(
                "no-access-rule",
                format!(
                    "{} {} has no access rule, so it is refused to everyone",
                    request.method(),
                    request.path()
                ),
            )
            .error_response());
        }
        // Not an operation of the route table: once authenticated, the
        // handlers' own 404 or 405 (or the command path's unknown command) answer.
        None => None,
    };
    if rule == Some(Rule::Public) {
        return Ok(None);
    }
    let address = request.peer_addr().map(|peer| peer.ip());
    auth.limits
        .check_address(address)
        .map_err(|problem| problem.error_response())?;
    let principal = match feed_ticket(request, &path) {
        Some(ticket) => {
            auth.redeem(&ticket, crate::observe::request_id(request.request()))
                .await
        }
        None => auth.authenticate(request.headers()).await,
    }
    .and_then(|(principal, credential)| {
        known_jurisdiction(state, principal).map(|principal| (principal, credential))
    });
    let (principal, credential) = match (principal, rule) {
        (Ok(admitted), _) => admitted,
        // Without a good token, an operation the route table lacks gets the
        // fallback's 404 or 405 here, and never reaches a handler.
        (Err(_), None) => return Err(unknown(request).await),
        (Err(problem), Some(_)) => return Err(refused_401(problem)),
    };
    auth.limits
        .check_token(&principal.subject)
        .map_err(|problem| problem.error_response())?;
    if let Some(hosted) = &drill {
        rules::in_drill(&principal, hosted, rule).map_err(|problem| problem.error_response())?;
    }
    if let Some(rule) = rule {
        let place = rules::Place {
            path: &path,
            query: request.query_string(),
            in_drill: drill.is_some(),
        };
        rules::decide(state, &principal, rule, place, &auth.own_reads)
            .await
            .map_err(|problem| problem.error_response())?;
    }
    Ok(Some((principal, credential)))
}

/// The `?ticket=` of a feed request that sends no `Authorization` (a browser's
/// `EventSource` cannot): how such a request authenticates.
fn feed_ticket(request: &ServiceRequest, path: &str) -> Option<String> {
    if request.method() != Method::GET
        || path != "/api/v1/feed"
        || request.headers().contains_key(header::AUTHORIZATION)
    {
        return None;
    }
    crate::query::Params::parse(request.query_string())
        .ok()?
        .take_raw("ticket")
}

async fn unknown(request: &ServiceRequest) -> actix_web::HttpResponse {
    match request.app_data::<web::Data<KnownPaths>>() {
        Some(known) => no_route(request.request().clone(), known.clone()).await,
        None => Problem::not_found("no such endpoint").error_response(),
    }
}

fn known_jurisdiction(state: &AppState, principal: Principal) -> Result<Principal, Problem> {
    if state.areas.get(&principal.jurisdiction.0).is_some() {
        return Ok(principal);
    }
    Err(super::config::unauthenticated(format!(
        "the token's jurisdiction `{}` is not an area of the city's tree",
        principal.jurisdiction
    )))
}

fn refused_401(problem: Problem) -> actix_web::HttpResponse {
    let mut response = problem.error_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"ercs\""),
    );
    response
}
