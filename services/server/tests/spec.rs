//! The spec is what is served: real answers of the real seeded server checked
//! against the committed `openapi/openapi.json`, every GET of every documented
//! path with real ids; wrong methods are 405 with `Allow`; and every error,
//! down to those the HTTP layer gives before any route runs, is problem+json.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use serde_json::{Value, json};
use support::TestServer;

/// The committed document.
fn document() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A JSON pointer token in a URI fragment (`/` → `~1`, braces escaped).
fn token(key: &str) -> String {
    key.replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// Checks a body against the schema the document gives `path`'s `method` for
/// `status`, `$ref`s resolved inside the document.
fn assert_documented(document: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let responses = &document["paths"][path][method]["responses"];
    let response = match responses.get(status.to_string()) {
        Some(Value::Object(r)) if r.contains_key("$ref") => {
            let name = r["$ref"].as_str().unwrap().rsplit('/').next().unwrap();
            document["components"]["responses"][name].clone()
        }
        Some(response) => response.clone(),
        None => panic!("{method} {path} answered {status}, which is not documented: {body}"),
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return;
    };
    let (media, _) = content.iter().next().unwrap();
    let mut schema = json!({"components": document["components"].clone()});
    schema["$ref"] = json!(format!(
        "#/paths/{}/{method}/responses/{status}/content/{}/schema",
        token(path),
        token(media)
    ));
    if responses[status.to_string()].get("$ref").is_some() {
        schema["$ref"] = json!(format!(
            "#/components/responses/Problem/content/{}/schema",
            token(media)
        ));
    }
    schema["paths"] = document["paths"].clone();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("the schema of {method} {path} {status} is invalid: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(body)
        .take(5)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match its schema:\n{}\nbody: {}",
        errors.join("\n"),
        truncate(body)
    );
}

fn truncate(body: &Value) -> String {
    let text = body.to_string();
    text.chars().take(600).collect()
}

/// A seeded server with one incident and one plan, so that every collection
/// has an item to read.
async fn server_with_everything() -> (TestServer, String) {
    let server = TestServer::seeded().await;
    let incident = support::INCIDENT;
    let declared = server
        .post(
            "/api/v1/incidents",
            &json!({
                "incident_id": incident, "kind": "infectious_disease", "level": "III",
                "title": "万州区呼吸道传染病聚集性疫情", "affected_areas": ["500101"]
            }),
        )
        .await;
    assert_eq!(declared.status(), 201);
    let recorded = server
        .post(
            &format!("/api/v1/incidents/{incident}/record_supply_demand"),
            &json!({"item": "N95", "area": "500101", "quantity": 200}),
        )
        .await;
    assert_eq!(recorded.status(), 200);
    let head = server.head().await;
    let proposed = server
        .post(
            &format!("/api/v1/plans?min_position={head}"),
            &json!({"incident": incident}),
        )
        .await;
    assert_eq!(proposed.status(), 201);
    let proposed: Value = proposed.json().await.unwrap();
    assert_documented(&document(), "post", "/api/v1/plans", 201, &proposed);
    let plan = proposed
        .pointer("/record/plan_id")
        .or_else(|| proposed.get("plan_id"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no plan id in {}", truncate(&proposed)))
        .to_owned();
    server.caught_up().await;
    (server, plan)
}

/// The id of the first resource of `collection`.
async fn first_id(server: &TestServer, collection: &str) -> String {
    let (_, page) = server
        .get(&server.url(&format!("/api/v1/{collection}?limit=1")))
        .await;
    page["items"][0]["id"].as_str().unwrap().to_owned()
}

/// The concrete URLs to try for a documented GET path: each collection's first
/// item, each GIS collection and its first feature, the plan made above.
async fn urls_for(server: &TestServer, path: &str, plan: &str) -> Vec<String> {
    if path == "/api/v1/feed" {
        return Vec::new(); // endless; tests/feed.rs reads it
    }
    if let Some(part) = path
        .strip_prefix("/api/v1/incidents/{id}/")
        .filter(|part| !part.contains('{'))
    {
        return vec![format!("/api/v1/incidents/{}/{part}", support::INCIDENT)];
    }
    if let Some(part) = path
        .strip_prefix("/api/v1/plans/{id}/")
        .filter(|part| !part.contains('{'))
    {
        return vec![format!("/api/v1/plans/{plan}/{part}")];
    }
    if let Some(collection) = path
        .strip_prefix("/api/v1/")
        .and_then(|rest| rest.strip_suffix("/{id}/history"))
    {
        let id = first_id(server, collection).await;
        return vec![format!("/api/v1/{collection}/{id}/history")];
    }
    if let Some(collection) = path
        .strip_prefix("/api/v1/")
        .and_then(|rest| rest.strip_suffix("/{id}"))
    {
        if collection == "plans" {
            return vec![format!("/api/v1/plans/{plan}")];
        }
        let id = first_id(server, collection).await;
        return vec![format!("/api/v1/{collection}/{id}")];
    }
    if path.contains("{drill}") {
        // A drill of its own, on a copy of the network, its clock stopped.
        let started: Value = server
            .post(
                "/api/v1/drills",
                &serde_json::json!({"script": "wanzhou-respiratory-outbreak", "from": {"live": {}}, "paused": true}),
            )
            .await
            .json()
            .await
            .unwrap();
        let drill = started["drill"].as_str().expect("a drill starts");
        return vec![path.replace("{drill}", drill)];
    }
    if path.contains("{collectionId}") {
        let mut urls = Vec::new();
        for collection in [
            "teams",
            "facilities",
            "depots",
            "convertibles",
            "areas",
            "townships",
        ] {
            let concrete = path.replace("{collectionId}", collection);
            if concrete.contains("{featureId}") {
                let (_, items) = server
                    .get(&server.url(&format!(
                        "/api/v1/gis/collections/{collection}/items?limit=1"
                    )))
                    .await;
                let id = items["features"][0]["id"].to_string();
                urls.push(concrete.replace("{featureId}", id.trim_matches('"')));
            } else {
                urls.push(concrete);
            }
        }
        return urls;
    }
    vec![path.to_owned()]
}

#[tokio::test]
async fn every_documented_get_answers_with_the_body_its_schema_describes() {
    let document = document();
    let (server, plan) = server_with_everything().await;
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        if item.get("get").is_none() {
            continue;
        }
        let text = item["get"]["responses"]["200"]["content"]
            .get("text/plain")
            .is_some();
        for url in urls_for(&server, path, &plan).await {
            let (status, body) = if text {
                let response = server.client.get(server.url(&url)).send().await.unwrap();
                let status = response.status().as_u16();
                (status, Value::String(response.text().await.unwrap()))
            } else {
                server.get(&server.url(&url)).await
            };
            assert_eq!(status, 200, "GET {url}: {}", truncate(&body));
            assert_documented(&document, "get", path, status, &body);
            checked += 1;
        }
    }
    // Every collection and item, the GIS layers, network, plans and health.
    assert!(checked >= 30, "only {checked} answers checked");
}

#[tokio::test]
async fn a_list_of_every_collection_validates_page_after_page() {
    let document = document();
    let (server, _) = server_with_everything().await;
    for kind in [
        "teams",
        "facilities",
        "depots",
        "convertibles",
        "incidents",
        "items",
    ] {
        let path = format!("/api/v1/{kind}");
        let (status, body) = server.get(&server.url(&format!("{path}?limit=1000"))).await;
        assert_eq!(status, 200);
        assert!(!body["items"].as_array().unwrap().is_empty(), "{kind}");
        assert_documented(&document, "get", &path, status, &body);
    }
}

#[tokio::test]
async fn an_unknown_id_and_a_bad_parameter_are_documented_problems() {
    let document = document();
    let (server, _) = server_with_everything().await;
    for (path, item) in document["paths"].as_object().unwrap() {
        // The probes take no parameters and look at none; the feed is endless.
        if item.get("get").is_none() || !path.starts_with("/api/") || path == "/api/v1/feed" {
            continue;
        }
        let concrete = path
            .replace("{id}", "00000000-0000-4000-8000-000000000000")
            .replace("{collectionId}", "nowhere")
            .replace("{featureId}", "00000000-0000-4000-8000-000000000000");
        let (status, body) = server.get(&server.url(&concrete)).await;
        if concrete != *path {
            assert_eq!(status, 404, "GET {concrete}: {body}");
            assert_documented(&document, "get", path, status, &body);
        }
        let (status, body) = server
            .get(&server.url(&format!("{concrete}?limit=0&nonsense=1")))
            .await;
        assert!(
            status == 400 || status == 404,
            "GET {concrete}?nonsense: {status}"
        );
        assert_documented(&document, "get", path, status, &body);
    }
}

/// The 405s and their `Allow` are read from the document, so the document must
/// not name an operation the service does not have: each documented POST, sent
/// its example, reaches its handler, and whatever the handler decides is an
/// answer documented for it.
#[tokio::test]
async fn every_documented_post_is_served() {
    let document = document();
    let server = TestServer::empty().await;
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(operation) = item.get("post") else {
            continue;
        };
        let example = operation
            .pointer("/requestBody/content/application~1json/example")
            .cloned()
            .unwrap_or(json!({}));
        let concrete = path.replace("{id}", "5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11");
        let response = server.post(&concrete, &example).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(status, 405, "POST {concrete}: {body}");
        assert!(
            !body["detail"]
                .as_str()
                .unwrap_or("")
                .starts_with("no endpoint"),
            "POST {concrete} is documented but not served: {body}"
        );
        assert_documented(&document, "post", path, status, &body);
    }
}

/// `request` with the development admin's token after its request line, as
/// any client of the service sends.
fn authorised(request: &[u8]) -> Vec<u8> {
    let line = request
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(0, |i| i + 2);
    let token = ercs_server::auth::development::token(ercs_server::auth::Role::Admin);
    let mut with = request[..line].to_vec();
    with.extend_from_slice(format!("Authorization: Bearer {token}\r\n").as_bytes());
    with.extend_from_slice(&request[line..]);
    with
}

/// A request written by hand, for what no HTTP client sends; the answer's
/// status, headers (lower-case names) and body.
fn raw(addr: SocketAddr, request: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let request = &authorised(request);
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    // The server may answer and close before it has read all of a huge head.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&answer)));
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, answer[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// An RFC 9457 body with the expected status, and its `type` slug.
fn assert_problem(what: &str, status: u16, headers: &[(String, String)], body: &[u8]) -> String {
    assert_eq!(
        header(headers, "content-type"),
        Some("application/problem+json"),
        "{what}: {status} {}",
        String::from_utf8_lossy(body)
    );
    let problem: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", String::from_utf8_lossy(body)));
    assert_documented(&document(), "get", "/api/v1/teams", 400, &problem);
    assert_eq!(problem["status"], status, "{what}: {problem}");
    assert!(
        !problem["detail"].as_str().unwrap_or("").is_empty(),
        "{what}: {problem}"
    );
    support::problem_type(&problem).to_owned()
}

fn get_raw(addr: SocketAddr, target: &[u8], extra: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    request.extend_from_slice(extra);
    request.extend_from_slice(b"\r\n");
    raw(addr, &request)
}

#[tokio::test]
async fn unknown_paths_are_404_problems_also_under_docs() {
    let server = TestServer::empty().await;
    for target in [
        "/nowhere",
        "/api/v1/teams/x/y/z",
        "/docs/no-such-asset.js",
        "/api/v2/teams",
    ] {
        let (status, headers, body) = get_raw(server.addr, target.as_bytes(), b"");
        assert_eq!(status, 404, "{target}");
        assert_eq!(assert_problem(target, status, &headers, &body), "not-found");
    }
}

#[tokio::test]
async fn a_documented_path_asked_with_another_method_is_a_405_naming_what_it_takes() {
    let server = TestServer::empty().await;
    let document = document();
    let all = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    for (path, item) in document["paths"].as_object().unwrap() {
        let documented: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        let concrete = path
            .replace("{id}", "5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11")
            .replace("{collectionId}", "facilities")
            .replace("{featureId}", "500101");
        for method in all.iter().filter(|m| !documented.contains(**m)) {
            let request = format!(
                "{method} {concrete} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            );
            let (status, headers, body) = raw(server.addr, request.as_bytes());
            assert_eq!(status, 405, "{method} {concrete}");
            assert_eq!(
                assert_problem(&concrete, status, &headers, &body),
                "method-not-allowed"
            );
            let allow: BTreeSet<String> = header(&headers, "allow")
                .unwrap_or_else(|| panic!("{method} {concrete}: no Allow"))
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            assert_eq!(allow, documented, "{method} {concrete}");
        }
    }
}

#[tokio::test]
async fn a_head_too_large_is_a_431_problem() {
    let server = TestServer::empty().await;
    for (what, extra) in [
        (
            "one huge header",
            format!("X-Big: {}\r\n", "a".repeat(200 * 1024)),
        ),
        (
            "too many headers",
            (0..200).map(|i| format!("X-H{i}: v\r\n")).collect(),
        ),
    ] {
        let (status, headers, body) = get_raw(server.addr, b"/healthz", extra.as_bytes());
        assert_eq!(status, 431, "{what}");
        assert_eq!(
            assert_problem(what, status, &headers, &body),
            "request-header-fields-too-large"
        );
    }
}

#[tokio::test]
async fn a_path_that_is_not_utf_8_or_has_broken_escapes_is_a_problem() {
    let server = TestServer::empty().await;
    for target in [
        &b"/api/v1/teams/%FF%FE"[..],
        b"/api/v1/teams/%C3%28",
        b"/api/v1/teams/%zz",
        b"/api/v1/teams/\xff\xfe",
        b"/api/v1/gis/collections/%FF/items",
        b"/api/v1/teams?area=%FF",
    ] {
        let what = String::from_utf8_lossy(target).into_owned();
        let (status, headers, body) = get_raw(server.addr, target, b"");
        assert!(
            (400..500).contains(&status),
            "{what}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        assert_problem(&what, status, &headers, &body);
    }
}

#[tokio::test]
async fn a_body_too_large_or_of_another_type_is_a_413_or_415_problem() {
    let server = TestServer::empty().await;
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(100 * 1024));
    for (what, content_type, body, expected) in [
        ("a 100 KiB command", "application/json", big, 413),
        (
            "a form post",
            "application/x-www-form-urlencoded",
            "a=1".to_owned(),
            415,
        ),
        ("text", "text/plain", "{}".to_owned(), 415),
    ] {
        let request = format!(
            "POST /api/v1/teams HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let (status, headers, answer) = raw(server.addr, request.as_bytes());
        assert_eq!(status, expected, "{what}");
        assert_problem(what, status, &headers, &answer);
    }
}

#[tokio::test]
async fn a_malformed_request_is_a_400_problem() {
    let server = TestServer::empty().await;
    for (what, request) in [
        (
            "a broken chunked body",
            &b"POST /api/v1/teams HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"[..],
        ),
        (
            "a header without a colon",
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nno colon here\r\n\r\n",
        ),
    ] {
        let (status, headers, body) = raw(server.addr, request);
        assert_eq!(status, 400, "{what}");
        assert_problem(what, status, &headers, &body);
    }
}

/// A validator for one of the document's parameter schemas.
fn parameter_validator(document: &Value, name: &str) -> jsonschema::Validator {
    let mut schema = json!({"components": document["components"].clone()});
    schema["$ref"] = json!(format!("#/components/parameters/{name}/schema"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// Whether the schema takes a query value: as the string it is, or read as a
/// number (a query has no types of its own); an array parameter (`style: form`,
/// not exploded) is its comma-separated items.
fn takes(validator: &jsonschema::Validator, raw: &str, array: bool) -> bool {
    let number = |s: &str| {
        serde_json::from_str::<Value>(s)
            .ok()
            .filter(Value::is_number)
    };
    if array {
        let items: Vec<Value> = raw
            .split(',')
            .map(|s| number(s).unwrap_or_else(|| json!(s)))
            .collect();
        return validator.is_valid(&Value::Array(items));
    }
    validator.is_valid(&json!(raw)) || number(raw).is_some_and(|n| validator.is_valid(&n))
}

/// The typed parameters hold what the server holds: a value the schema takes,
/// the server takes; one the schema refuses, the server refuses with a 400.
#[tokio::test]
async fn the_typed_query_parameters_accept_and_refuse_what_the_server_does() {
    let document = document();
    let server = TestServer::seeded().await;
    let head = server.head().await.to_string();
    let cases: [(&str, &str, &[&str], &[&str]); 6] = [
        (
            "AsOf",
            "as_of",
            &["0", "2026-11-23T08:00:00Z", "2026-11-23T16:00:00+08:00"],
            &["yesterday", "-1", "2026-11-23"],
        ),
        (
            "Bbox",
            "bbox",
            &["107.9,30.5,108.9,31.1", "-180,-90,180,90"],
            &["1,2,3", "1,2,3,4,5", "200,0,201,1", "a,b,c,d"],
        ),
        (
            "MinPosition",
            "min_position",
            &["0", &head],
            &["-1", "1.5", "x"],
        ),
        ("Limit", "limit", &["1", "1000"], &["0", "1001", "ten"]),
        (
            "Area",
            "area",
            &["500101", "500101001", "wanzhou-sanxia"],
            &["5001", "Wanzhou", "500101000"],
        ),
        (
            "Cursor",
            "cursor",
            &["5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11", "N95"],
            &[],
        ),
    ];
    for (component, name, good, bad) in cases {
        let validator = parameter_validator(&document, component);
        let array = document["components"]["parameters"][component]["schema"]["type"] == "array";
        let expected = [(good, true, 200), (bad, false, 400)];
        for (values, taken, answer) in expected {
            for value in values {
                assert_eq!(
                    takes(&validator, value, array),
                    taken,
                    "the spec on {name}={value}"
                );
                let query = format!("{name}={}", value.replace('+', "%2B"));
                let (status, body) = server
                    .get(&server.url(&format!("/api/v1/teams?{query}")))
                    .await;
                assert_eq!(status, answer, "the server on {name}={value}: {body}");
            }
        }
    }
}
