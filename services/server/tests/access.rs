//! Access control over real HTTP: every endpoint of the route table × every
//! role × a jurisdiction inside or outside what it acts on; and each refusal
//! (401 or 403) is problem+json and appends nothing.

mod support;

use ercs_server::auth::guard::RouteRules;
use ercs_server::auth::rules::{Rule, rule_for};
use ercs_server::auth::{Role, development};
use reqwest::Method;
use serde_json::{Value, json};
use support::{INCIDENT, TestServer, incident_with_demand, problem_type, propose};

/// Covers every resource the matrix acts on.
const INSIDE: &str = "500000";
/// 涪陵区: none of the 万州 resources the matrix acts on is inside it.
const OUTSIDE: &str = "500102";

fn document() -> Value {
    ercs_server::openapi::document_json()
}

#[test]
fn every_operation_of_the_route_table_has_an_access_rule() {
    let missing = RouteRules::of(&document()).without_rule();
    assert!(
        missing.is_empty(),
        "operations without an access rule (refused to everyone): {missing:?}"
    );
}

fn actix(method: &Method) -> actix_web::http::Method {
    method.as_str().parse().unwrap()
}

/// What the rules promise, written out independently of the guard.
fn allowed(rule: Rule, role: Role, inside: bool) -> bool {
    let commands = !matches!(role, Role::Viewer | Role::DrillDirector | Role::DrillPlayer);
    match rule {
        Rule::Public | Rule::Read | Rule::Metrics => true,
        Rule::ProposePlan => commands,
        Rule::Create(_) | Rule::Command(_) => commands && inside,
        Rule::DecidePlan => commands && role != Role::TownshipOperator && inside,
        Rule::Administer => role == Role::Admin,
        Rule::Direct => matches!(role, Role::DrillDirector | Role::Admin),
    }
}

/// One 万州 resource of each collection, to put in `{id}`.
async fn targets(server: &TestServer) -> Vec<(String, String)> {
    let mut ids = vec![("incidents".to_owned(), INCIDENT.to_owned())];
    for kind in ["teams", "facilities", "depots", "convertibles"] {
        let (_, page) = server
            .get(&server.url(&format!("/api/v1/{kind}?area=500101&limit=1")))
            .await;
        let id = page["items"][0]["id"].as_str().expect("a 万州 resource");
        ids.push((kind.to_owned(), id.to_owned()));
    }
    ids.push(("items".to_owned(), "N95".to_owned()));
    ids
}

fn concrete(template: &str, ids: &[(String, String)], plan: &str) -> String {
    let collection = template.split('/').nth(3).unwrap_or_default();
    let id = if collection == "plans" {
        plan.to_owned()
    } else {
        ids.iter()
            .find(|(kind, _)| kind == collection)
            .map(|(_, id)| id.clone())
            .unwrap_or_else(|| INCIDENT.to_owned())
    };
    template
        .replace("{id}", &id)
        .replace("{collectionId}", "teams")
        .replace("{featureId}", &ids[1].1)
        .replace("{_:.*}", "index.html")
}

/// The operations of the document, with the two served beside it.
fn operations(document: &Value) -> Vec<(Method, String, Value)> {
    let mut all = vec![
        (Method::GET, "/api/v1/openapi.json".to_owned(), json!({})),
        (Method::GET, "/docs/{_:.*}".to_owned(), json!({})),
    ];
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let example = operation
                .pointer("/requestBody/content/application~1json/example")
                .cloned()
                .unwrap_or(json!({}));
            all.push((
                method.to_uppercase().parse().unwrap(),
                path.clone(),
                example,
            ));
        }
    }
    all
}

async fn send(
    server: &TestServer,
    method: &Method,
    path: &str,
    body: &Value,
    token: Option<&str>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method.clone(), server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if method == Method::POST {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if response.headers()[reqwest::header::CONTENT_TYPE] == "text/event-stream" {
        // The live feed never ends: its status is the answer.
        return (status, Value::Null);
    }
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_endpoint_for_every_role_inside_and_outside_its_jurisdiction() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let plan = propose(&server).await["id"].as_str().unwrap().to_owned();
    let ids = targets(&server).await;
    let document = document();
    let mut checked = 0;
    for (method, template, body) in operations(&document) {
        let rule = rule_for(&actix(&method), &template).expect("every operation has a rule");
        let path = concrete(&template, &ids, &plan);
        for role in Role::ALL {
            for (inside, jurisdiction) in [(true, INSIDE), (false, OUTSIDE)] {
                let token = development::token_for("matrix", "矩阵测试", role, jurisdiction);
                let before = server.head().await;
                let (status, answer) = send(&server, &method, &path, &body, Some(&token)).await;
                let case =
                    format!("{method} {path} as {role} of {jurisdiction}: {status} {answer}");
                assert_ne!(status, 401, "{case}");
                if allowed(rule, role, inside) {
                    assert_ne!(status, 403, "{case}");
                } else {
                    assert_eq!(status, 403, "{case}");
                    assert_eq!(answer["status"], 403, "{case}: not problem+json");
                    assert_eq!(server.head().await, before, "{case}: appended");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "only {checked} cases");
}

#[tokio::test]
async fn without_a_token_every_endpoint_but_health_and_docs_is_401() {
    let server = TestServer::seeded().await;
    let ids = targets(&server).await;
    let before = server.head().await;
    for (method, template, body) in operations(&document()) {
        let path = concrete(&template, &ids, INCIDENT);
        let (status, answer) = send(&server, &method, &path, &body, None).await;
        if rule_for(&actix(&method), &template) == Some(Rule::Public) {
            assert_ne!(status, 401, "{method} {path}");
        } else {
            assert_eq!(status, 401, "{method} {path}: {answer}");
            assert_eq!(problem_type(&answer), "unauthenticated");
        }
    }
    assert_eq!(server.head().await, before);
}

#[tokio::test]
async fn a_role_configured_to_read_its_own_jurisdiction_reads_nothing_beyond_it() {
    let auth = ercs_server::auth::AuthArgs {
        own_jurisdiction_reads: vec![Role::TownshipOperator],
        ..ercs_server::auth::AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    let township = development::token_for(
        "gst",
        "高笋塘街道操作员",
        Role::TownshipOperator,
        "500101001",
    );
    let read = |path: String| {
        let (server, township) = (&server, township.clone());
        async move { send(server, &Method::GET, &path, &Value::Null, Some(&township)).await }
    };
    assert_eq!(
        read("/api/v1/facilities?area=500101001".into()).await.0,
        200
    );
    let (status, problem) = read("/api/v1/facilities".into()).await;
    assert_eq!(
        (status, problem_type(&problem)),
        (403, "own-jurisdiction-reads-only")
    );
    assert_eq!(
        read("/api/v1/facilities?area=500101".into()).await.0,
        403,
        "the whole district"
    );
    assert_eq!(read("/api/v1/network".into()).await.0, 403);
    let (_, page) = server
        .get(&server.url("/api/v1/depots?area=500102&limit=1"))
        .await;
    let elsewhere = page["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(read(format!("/api/v1/depots/{elsewhere}")).await.0, 403);
    // Other roles still read the whole network.
    let district = development::token_for("wz", "万州", Role::DistrictDispatcher, "500101");
    let (status, _) = send(
        &server,
        &Method::GET,
        "/api/v1/network",
        &Value::Null,
        Some(&district),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_district_approves_what_its_district_holds_and_the_city_commander_the_rest() {
    let server = TestServer::seeded().await;
    // Two rescue teams for 万州, which has one: the other comes from another district.
    incident_with_demand(&server).await;
    let plan = propose(&server).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let assignments = plan["record"]["plan"]["assignments"].as_array().unwrap();
    let wanzhou = development::token_for(
        "wz",
        "万州区卫健委值班员",
        Role::DistrictDispatcher,
        "500101",
    );
    let approve = |token: String, body: Value| {
        let (server, id) = (&server, &id);
        async move {
            send(
                server,
                &Method::POST,
                &format!("/api/v1/plans/{id}/approve"),
                &body,
                Some(&token),
            )
            .await
        }
    };

    let before = server.head().await;
    let (status, problem) = approve(wanzhou.clone(), json!({})).await;
    assert_eq!(
        (status, problem_type(&problem)),
        (403, "outside-jurisdiction"),
        "{problem}"
    );
    assert_eq!(problem["field"], "assignments", "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("紧急医学救援队"),
        "names the team outside: {detail}"
    );
    assert_eq!(
        server.head().await,
        before,
        "a refused approval dispatches nothing"
    );

    // What lies inside 万州 it may approve: the indices the refusal offered.
    let offered = detail
        .split("\"assignments\": [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("the refusal offers the assignments inside");
    let inside: Vec<u64> = offered.split(", ").map(|i| i.parse().unwrap()).collect();
    assert!(
        !inside.is_empty() && inside.len() < assignments.len(),
        "{detail}"
    );
    let (status, approved) = approve(wanzhou, json!({"assignments": inside})).await;
    assert_eq!(status, 200, "{approved}");
    let dispatches = approved["record"]["approval"]["dispatches"]
        .as_array()
        .unwrap();
    assert_eq!(dispatches.len(), inside.len());

    // The city commander approves a plan for the rest.
    let rest = propose(&server).await;
    let rest_id = rest["id"].as_str().unwrap().to_owned();
    let (status, approved) = send(
        &server,
        &Method::POST,
        &format!("/api/v1/plans/{rest_id}/approve"),
        &json!({}),
        Some(&development::token(Role::CityCommander)),
    )
    .await;
    assert_eq!(status, 200, "{approved}");
}
