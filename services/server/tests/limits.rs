//! Rate limits: a token or an address beyond its rate gets 429 problem+json
//! with `Retry-After`, appends nothing, and leaves other callers alone.

mod support;

use ercs_server::auth::{AuthArgs, Role, development};
use serde_json::json;
use support::{TestServer, problem_type};

async fn read_as(server: &TestServer, subject: &str) -> reqwest::Response {
    let token = development::token_for(subject, "限流测试", Role::CityCommander, "500000");
    reqwest::Client::new()
        .get(server.url("/api/v1/teams?limit=1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_beyond_its_rate_is_429_with_retry_after_and_others_go_on() {
    let auth = AuthArgs {
        token_requests_per_second: 1,
        ..AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    // A burst of ten seconds' worth, then refused.
    for _ in 0..10 {
        assert_eq!(read_as(&server, "busy-script").await.status(), 200);
    }
    let refused = read_as(&server, "busy-script").await;
    assert_eq!(refused.status(), 429);
    assert!(
        refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u32>()
            .unwrap()
            >= 1
    );
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem_type(&problem), "rate-limited", "{problem}");
    assert_eq!(read_as(&server, "dispatcher").await.status(), 200);

    let before = server.events_in_log();
    let token = development::token_for("busy-script", "限流测试", Role::CityCommander, "500000");
    let command = reqwest::Client::new()
        .post(server.url("/api/v1/incidents"))
        .bearer_auth(token)
        .json(&json!({
            "incident_id": uuid::Uuid::new_v4(), "kind": "infectious_disease", "level": "IV",
            "title": "限流测试", "affected_areas": ["500101"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(command.status(), 429);
    assert_eq!(server.events_in_log(), before);
}

#[tokio::test]
async fn an_address_beyond_its_rate_is_429_whatever_token_it_sends() {
    let auth = AuthArgs {
        address_requests_per_second: 1,
        ..AuthArgs::development()
    };
    let server = TestServer::seeded_with_auth(auth, &development::token(Role::Admin)).await;
    let mut statuses = Vec::new();
    for n in 0..12 {
        statuses.push(
            read_as(&server, &format!("caller-{n}"))
                .await
                .status()
                .as_u16(),
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // Health checks are not counted.
    assert_eq!(server.get(&server.url("/healthz")).await.0, 200);
}
