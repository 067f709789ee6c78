//! Bounded work and honest readiness, over HTTP against the real server: `/readyz`
//! waits for the replay, the view is snapshotted while the service runs, `as_of`
//! reads agree with the live view they once were, and no numeric parameter can
//! crash a handler.

mod support;

use std::time::Duration;

use ercs_server::cli::ViewArgs;
use serde_json::{Value, json};
use support::{TestServer, problem_type};

#[tokio::test]
async fn readyz_answers_503_until_the_view_has_replayed_the_log_it_started_with() {
    let server = TestServer::starting_seeded();
    let mut refusals = 0;
    let ready = loop {
        let response = server
            .client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            503 => {
                assert_eq!(response.headers()["retry-after"], "1");
                let problem: Value = response.json().await.unwrap();
                assert_eq!(problem_type(&problem), "unavailable");
                refusals += 1;
            }
            200 => break response.json::<Value>().await.unwrap(),
            other => panic!("/readyz answered {other}"),
        }
    };
    assert!(
        refusals > 0,
        "/readyz said ready before the replay had begun"
    );
    let head = ready["log_position"].as_u64().unwrap();
    // Ready means the whole log is in the view: a read reflects the head at once.
    let response = server
        .client
        .get(server.url("/api/v1/facilities?limit=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["ercs-position"],
        head.to_string().as_str()
    );
}

#[tokio::test]
async fn the_view_is_snapshotted_while_the_service_runs_not_only_when_it_stops() {
    let server = TestServer::seeded_with(ViewArgs {
        snapshot_every_seconds: 1,
        ..ViewArgs::default()
    })
    .await;
    let position = report_beds(&server).await;
    let snapshot = server.dir.path().join("one-network.snapshot.json");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let saved = std::fs::read(&snapshot)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|saved| saved["position"].as_u64());
        if saved >= Some(position) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no snapshot reached position {position} while running (found {saved:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_network_read_as_of_a_position_equals_the_live_network_at_that_position() {
    let server = TestServer::seeded().await;
    let before = server.head().await;
    let (_, live_then) = server
        .get(&server.url("/api/v1/facilities?limit=1000"))
        .await;
    for _ in 0..3 {
        report_beds(&server).await;
    }
    // Asked twice: the second is answered from the view the first one kept.
    for _ in 0..2 {
        let (status, then) = server
            .get(&server.url(&format!("/api/v1/facilities?limit=1000&as_of={before}")))
            .await;
        assert_eq!(status, 200, "{then}");
        assert_eq!(then, live_then);
    }
}

#[tokio::test]
async fn an_out_of_range_number_in_a_query_is_a_400_naming_it_not_a_crash() {
    let server = TestServer::seeded().await;
    for (query, field) in [
        (
            "/api/v1/network?stale_after_minutes=153722867280913",
            "stale_after_minutes",
        ),
        (
            "/api/v1/network?stale_after_minutes=0",
            "stale_after_minutes",
        ),
        (
            "/api/v1/network?stale_after_minutes=-5",
            "stale_after_minutes",
        ),
        ("/api/v1/teams?limit=18446744073709551616", "limit"),
        (
            "/api/v1/teams?min_position=18446744073709551616",
            "min_position",
        ),
        ("/api/v1/feed?last_event_id=-1", "last_event_id"),
    ] {
        let (status, problem) = server.get(&server.url(query)).await;
        assert_eq!(
            (status, problem["field"].as_str()),
            (400, Some(field)),
            "{query}: {problem}"
        );
    }
    let (status, _) = server
        .get(&server.url("/api/v1/network?stale_after_minutes=5256000"))
        .await;
    assert_eq!(status, 200, "ten years is a valid staleness");
    let (status, _) = server
        .get(&server.url(&format!("/api/v1/network?as_of={}", u64::MAX)))
        .await;
    assert_eq!(status, 200, "as of the end of time is the view now");
}

/// Reports a facility's beds (a command never refused); returns the position.
async fn report_beds(server: &TestServer) -> u64 {
    let (_, page) = server.get(&server.url("/api/v1/facilities?limit=1")).await;
    let id = page["items"][0]["id"].as_str().unwrap().to_owned();
    let response = server
        .post(
            &format!("/api/v1/facilities/{id}/report"),
            &json!({
                "bed_type": "negative_flow_isolation", "class": "designated",
                "counts": {"total": 40, "staffed": 36, "occupied": 21},
                "lead_time_minutes": 0
            }),
        )
        .await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["position"]
        .as_u64()
        .unwrap()
}
