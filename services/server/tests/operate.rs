//! Operating the service: `/metrics` counts exactly what was done, by route
//! pattern; every log line written while serving a request and every problem
//! carry the id the response carried; `/readyz` turns 503 while the view is held
//! behind the log for longer than `--max-lag`, and 200 again once it catches up.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ercs_eventlog::{Around, EventLog, Subscription, Wrapped};
use ercs_server::auth::{Role, development};
use ercs_server::cli::OpsArgs;
use futures::StreamExt;
use serde_json::{Value, json};
use support::{INCIDENT, TestServer, incident_with_demand, propose};

/// Every sample of a scrape, by its series (`name{labels}`).
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            (series.to_owned(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(server: &TestServer) -> BTreeMap<String, f64> {
    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "the Prometheus text format"
    );
    samples(&response.text().await.unwrap())
}

fn requests(route: &str, method: &str, status: u16) -> String {
    format!(
        "ercs_http_request_duration_seconds_count{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
    )
}

/// How much each series moved between two scrapes (a new series from 0).
fn moved(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, series: &str) -> f64 {
    after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_exactly_the_requests_appends_and_plans_made_by_route_pattern() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let before = scrape(&server).await;

    for _ in 0..3 {
        let (status, _) = server.get(&server.url("/api/v1/teams?limit=1")).await;
        assert_eq!(status, 200);
    }
    for id in ["no-such-team-a1", "no-such-team-b2"] {
        let (status, _) = server
            .get(&server.url(&format!("/api/v1/teams/{id}")))
            .await;
        assert_eq!(status, 404);
    }
    let (status, _) = server.get(&server.url("/no/such/path-c3")).await;
    assert_eq!(status, 404);
    let response = server
        .post(
            &format!("/api/v1/incidents/{INCIDENT}/record_team_demand"),
            &json!({"kind": "medical_rescue", "teams": 3}),
        )
        .await;
    assert_eq!(response.status(), 200);
    propose(&server).await;
    server.caught_up().await;

    let after = scrape(&server).await;
    let moved = |series: &str| moved(&before, &after, series);
    assert_eq!(moved(&requests("/api/v1/teams", "GET", 200)), 3.0);
    assert_eq!(moved(&requests("/api/v1/teams/{id}", "GET", 404)), 2.0);
    assert_eq!(moved(&requests("unmatched", "GET", 404)), 1.0);
    assert_eq!(
        moved(&requests("/api/v1/incidents/{id}/{action}", "POST", 200)),
        1.0,
        "{:?}",
        after
            .keys()
            .filter(|k| k.contains("POST"))
            .collect::<Vec<_>>()
    );
    assert_eq!(moved(&requests("/api/v1/plans", "POST", 201)), 1.0);
    assert_eq!(
        moved(&requests("/metrics", "GET", 200)),
        1.0,
        "the first scrape"
    );
    // One command appended one batch; a proposal appends the plan's record.
    let appended = "ercs_eventlog_append_duration_seconds_count{outcome=\"appended\"}";
    assert!(moved(appended) >= 2.0, "{}", moved(appended));
    let batches = "ercs_eventlog_append_batch_events_count{outcome=\"appended\"}";
    assert_eq!(moved(batches), moved(appended));
    assert_eq!(
        moved("ercs_plan_solve_duration_seconds_count{outcome=\"planned\"}"),
        1.0
    );
    // Raw paths never become label values.
    let raw: Vec<&String> = after
        .keys()
        .filter(|k| k.contains("no-such") || k.contains("path-c3") || k.contains(INCIDENT))
        .collect();
    assert!(raw.is_empty(), "raw paths as labels: {raw:?}");
    let routes_before = before.keys().filter(|k| k.contains("route=")).count();
    let fresh: Vec<&String> = after
        .keys()
        .filter(|k| k.contains("route=") && !before.contains_key(*k))
        .collect();
    assert!(
        fresh.iter().all(|k| !k.contains("no/such")) && routes_before > 0,
        "{fresh:?}"
    );

    assert_eq!(after["ercs_view_lag_events"], 0.0, "caught up");
    assert_eq!(after["ercs_log_head_position"], after["ercs_view_position"]);
    assert_eq!(after["ercs_feed_subscribers"], 0.0);
    let identity = after
        .keys()
        .find(|k| k.starts_with("ercs_replica_info{"))
        .expect("the replica's identity");
    assert!(identity.contains("store=\"sqlite\""), "{identity}");
}

#[tokio::test]
async fn metrics_need_a_token_of_any_role_and_jurisdiction() {
    let auth = ercs_server::auth::AuthArgs {
        own_jurisdiction_reads: vec![Role::TownshipOperator],
        ..ercs_server::auth::AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    let anonymous = reqwest::Client::new();
    let refused = anonymous.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let township = development::token_for(
        "gst",
        "高笋塘街道操作员",
        Role::TownshipOperator,
        "500101001",
    );
    for token in [development::token(Role::Viewer), township] {
        let scraped = anonymous
            .get(server.url("/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(scraped.status(), 200);
    }
}

#[tokio::test]
async fn a_problem_carries_the_request_id_of_its_response() {
    let server = TestServer::seeded().await;
    let response = server
        .client
        .get(server.url("/api/v1/teams/no-such-team"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["request_id"], id.as_str());
    let other = server
        .client
        .get(server.url("/api/v1/teams/no-such-team"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        other.headers()["x-request-id"].to_str().unwrap(),
        id,
        "one id per request"
    );
}

#[tokio::test]
async fn the_audit_trail_records_the_request_id_the_response_carried() {
    let server = TestServer::seeded().await;
    let response = declare(&server).await;
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let recorded = server.count_events("json_extract(metadata, '$.request_id') = ?1", &id);
    assert_eq!(recorded, 1, "the incident's event carries request id {id}");
}

/// Declares [`INCIDENT`]: one event.
async fn declare(server: &TestServer) -> reqwest::Response {
    let response = server
        .post(
            "/api/v1/incidents",
            &json!({
                "incident_id": INCIDENT, "kind": "infectious_disease", "level": "III",
                "title": "万州区呼吸道传染病聚集性疫情", "affected_areas": ["500101"]
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    response
}

/// `ercs serve --log-format json`, its standard error read line by line.
#[tokio::test]
async fn json_log_lines_carry_the_request_id_the_response_carried() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = support::served::ercs();
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(dir.path());
    let mut served = support::served::serve_logging_to(command, Stdio::piped());
    let base = served.base.clone();
    let (lines, received) = std::sync::mpsc::channel::<String>();
    let stderr = served.child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for (path, status) in [
        ("/api/v1/teams?limit=1", 200),
        ("/api/v1/teams/no-such-team", 404),
    ] {
        let response = client
            .get(format!("{base}{path}"))
            .bearer_auth(development::token(Role::Admin))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        ids.push(
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut answered = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while answered.len() < ids.len() && std::time::Instant::now() < deadline {
        let Ok(line) = received.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        // Development mode's banner (its tokens) is printed, not logged.
        if line.starts_with("development mode") || line.starts_with("  ") {
            continue;
        }
        let json: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        if json["span"]["name"] == "request" {
            let id = json["span"]["request_id"].as_str().expect("a request id");
            assert!(
                ids.iter().any(|i| i == id),
                "a line of another request: {line}"
            );
            if json["fields"]["message"] == "answered" {
                answered.push((id.to_owned(), json["fields"]["status"].clone()));
            }
        }
    }
    assert_eq!(
        answered,
        vec![(ids[0].clone(), json!(200)), (ids[1].clone(), json!(404))]
    );
}

/// The log, its subscriptions held (no event delivered) while `held` is set:
/// the view falls behind as it would behind a slow store, while appends and
/// reads go on.
struct Held {
    log: Arc<dyn EventLog>,
    held: Arc<AtomicBool>,
}

impl Around for Held {
    fn log(&self) -> Arc<dyn EventLog> {
        Arc::clone(&self.log)
    }

    fn subscription(&self, subscription: Subscription) -> Subscription {
        let held = Arc::clone(&self.held);
        subscription
            .then(move |message| {
                let held = Arc::clone(&held);
                async move {
                    while held.load(Ordering::Acquire) {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    message
                }
            })
            .boxed()
    }
}

async fn readyz(server: &TestServer) -> (u16, Value) {
    server.get(&server.url("/readyz")).await
}

/// Polls `/readyz` until it answers `status`, at most `within`.
async fn until_readyz(server: &TestServer, status: u16, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (now, body) = readyz(server).await;
        if now == status {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz still {now} after {within:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn readyz_fails_while_the_view_lags_the_log_beyond_max_lag_and_recovers() {
    let held = Arc::new(AtomicBool::new(false));
    let holder = Arc::clone(&held);
    let open: support::OpenLog = Box::new(move |dir: &Path| {
        let log: Arc<dyn EventLog> = Arc::new(ercs_server::startup::open_log(dir).unwrap());
        Arc::new(Wrapped(Held { log, held: holder }))
    });
    let ops = OpsArgs {
        max_lag: 1,
        ..OpsArgs::default()
    };
    let server = TestServer::on_log(support::seeded_copy(), open, ops).await;
    assert_eq!(readyz(&server).await.0, 200);

    held.store(true, Ordering::Release);
    declare(&server).await;
    let problem = until_readyz(&server, 503, Duration::from_secs(10)).await;
    assert_eq!(problem["type"], "https://ercs.example/problems/unavailable");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("lags the log") && detail.contains("--max-lag 1 s"),
        "{detail}"
    );
    assert!(problem["request_id"].is_string());
    let lagging = scrape(&server).await;
    assert!(lagging["ercs_view_lag_events"] >= 1.0, "{lagging:?}");
    assert!(lagging["ercs_view_lag_seconds"] > 1.0);

    held.store(false, Ordering::Release);
    let ready = until_readyz(&server, 200, Duration::from_secs(10)).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(scrape(&server).await["ercs_view_lag_events"], 0.0);
}

/// An admin statement on the test cluster.
async fn admin(sql: &str) {
    let url = ercs_eventlog_postgres::testing::cluster().url("postgres");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn served_readyz(served: &support::served::Served) -> (u16, Value) {
    let response = reqwest::get(served.url("/readyz")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn readyz_fails_while_the_store_is_unreachable_and_recovers_when_it_is_back() {
    let (url, database) = ercs_eventlog_postgres::testing::cluster()
        .fresh_database()
        .await;
    let name = url.rsplit('/').next().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let served = support::served::serve_on(dir.path(), &["--store", &url]);
    served.ready().await;

    admin(&format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false;
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let problem = loop {
        let (status, body) = served_readyz(&served).await;
        if status == 503 {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("the event log does not answer"), "{detail}");
    assert!(problem["request_id"].is_string());

    admin(&format!(
        "ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true"
    ))
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = served_readyz(&served).await;
        if status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(served);
    drop(database);
}
