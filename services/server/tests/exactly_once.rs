//! A command or a process step takes effect at most once, over real HTTP: a
//! retry after the answer was lost, twins racing with one key, a store that
//! fails, and processes triggered many times at once. Each test counts events.

mod support;

use ercs_routing::Plan;
use futures::future::join_all;
use serde_json::{Value, json};
use support::{TestServer, incident_with_demand, problem_type, propose};

fn report(occupied: u32) -> Value {
    json!({
        "bed_type": "general_isolation", "class": "designated",
        "counts": {"total": 60, "staffed": 50, "occupied": occupied},
        "lead_time_minutes": 0
    })
}

async fn first_id(server: &TestServer, collection: &str, query: &str) -> String {
    let (_, page) = server
        .get(&server.url(&format!("/api/v1/{collection}?limit=1&{query}")))
        .await;
    page["items"][0]["id"].as_str().unwrap().to_owned()
}

/// Events the log holds for the HTTP key `key` (whatever the path).
fn keyed(server: &TestServer, key: &str) -> u64 {
    server.count_events(
        "json_extract(metadata, '$.idempotency_key') LIKE '%/' || ?1",
        key,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_posts_with_one_key_apply_once_and_all_get_the_first_answer() {
    let server = TestServer::seeded().await;
    let facility = first_id(&server, "facilities", "").await;
    let path = format!("/api/v1/facilities/{facility}/report");
    let head = server.head().await;
    let body = report(17);
    let answers = join_all((0..40).map(|_| server.post_keyed(&path, "same-40", &body))).await;
    let mut bodies = Vec::new();
    let mut replayed = 0;
    for answer in answers {
        assert_eq!(answer.status(), 200);
        replayed += usize::from(answer.headers().contains_key("idempotent-replayed"));
        bodies.push(answer.json::<Value>().await.unwrap());
    }
    assert_eq!(replayed, 39, "one applied, 39 answered from the log");
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every twin gets the first answer"
    );
    assert_eq!(server.head().await, head + 1);
    assert_eq!(keyed(&server, "same-40"), 1);
}

#[tokio::test]
async fn a_retry_after_the_answer_was_lost_and_the_stream_moved_on_is_not_applied_again() {
    let server = TestServer::seeded().await;
    let facility = first_id(&server, "facilities", "").await;
    let path = format!("/api/v1/facilities/{facility}/report");
    let first = server.post_keyed(&path, "lost-answer", &report(21)).await;
    assert_eq!(first.status(), 200);
    let first_etag = first.headers()["etag"].clone();
    let first: Value = first.json().await.unwrap();
    // Another dispatcher reports meanwhile, so a retry decided afresh would be
    // decided on a newer revision, and a report is never refused.
    assert_eq!(server.post(&path, &report(22)).await.status(), 200);
    let head = server.head().await;

    let retry = server.post_keyed(&path, "lost-answer", &report(21)).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(
        retry.headers()["etag"],
        first_etag,
        "the first outcome's ETag"
    );
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    let pinned = server
        .client
        .post(server.url(&path))
        .header("Idempotency-Key", "lost-answer")
        .header("If-Match", first_etag)
        .json(&report(21))
        .send()
        .await
        .unwrap();
    assert_eq!(pinned.status(), 200, "a retry with its old If-Match too");
    assert_eq!(server.head().await, head, "no retry appended");
    assert_eq!(keyed(&server, "lost-answer"), 1);
}

#[tokio::test]
async fn a_retry_the_new_state_would_refuse_still_gets_the_first_outcome() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let team = first_id(&server, "teams", "status=standby").await;
    let path = format!("/api/v1/teams/{team}/mobilise");
    let incident = json!({"incident": support::INCIDENT});
    let first = server.post_keyed(&path, "mobilise-once", &incident).await;
    assert_eq!(first.status(), 200);
    let head = server.head().await;
    let first: Value = first.json().await.unwrap();
    // A mobilising team cannot be mobilised again: decided afresh, this is a 409.
    let retry = server.post_keyed(&path, "mobilise-once", &incident).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(
        retry.json::<Value>().await.unwrap(),
        first,
        "the first outcome, events and all"
    );
    assert_eq!(server.head().await, head);

    let other = server
        .post_keyed(
            &path,
            "mobilise-once",
            &json!({"incident": "1f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44"}),
        )
        .await;
    assert_eq!(other.status(), 422, "the same key with another body");
    let problem: Value = other.json().await.unwrap();
    assert_eq!(problem_type(&problem), "idempotency-key-reused");
    assert_eq!(problem["field"], "Idempotency-Key");
    assert_eq!(server.head().await, head);
}

#[tokio::test]
async fn a_store_that_fails_answers_503_keeps_nothing_and_the_retry_applies_once() {
    // The key is kept by the log itself, in the command's own transaction: there
    // is no second store whose failure could split "appended" from "kept".
    let server = TestServer::seeded().await;
    let facility = first_id(&server, "facilities", "").await;
    let path = format!("/api/v1/facilities/{facility}/report");
    let head = server.head().await;
    let blocker = server.events_db_writable();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let failed = server.post_keyed(&path, "store-fails", &report(30)).await;
    assert_eq!(failed.status(), 503);
    let problem: Value = failed.json().await.unwrap();
    assert_eq!(problem_type(&problem), "unavailable");
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    assert_eq!(server.head().await, head, "nothing was appended");

    let retry = server.post_keyed(&path, "store-fails", &report(30)).await;
    assert_eq!(retry.status(), 200);
    assert!(!retry.headers().contains_key("idempotent-replayed"));
    let again = server.post_keyed(&path, "store-fails", &report(30)).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(server.head().await, head + 1);
    assert_eq!(keyed(&server, "store-fails"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_bed_reports_without_if_match_all_succeed() {
    let server = TestServer::seeded().await;
    let facility = first_id(&server, "facilities", "").await;
    let path = format!("/api/v1/facilities/{facility}/report");
    let head = server.head().await;
    let answers = join_all((0..40).map(|n| {
        let body = report(n);
        let path = path.clone();
        let server = &server;
        async move { server.post(&path, &body).await.status().as_u16() }
    }))
    .await;
    assert!(answers.iter().all(|&status| status == 200), "{answers:?}");
    assert_eq!(server.head().await, head + 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_approvals_of_one_plan_dispatch_it_once() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let proposed = propose(&server).await;
    let id = proposed["id"].as_str().unwrap().to_owned();
    let plan: Plan = serde_json::from_value(proposed["record"]["plan"].clone()).unwrap();
    let path = format!("/api/v1/plans/{id}/approve");
    let empty = json!({});
    let answers = join_all((0..10).map(|_| server.post(&path, &empty))).await;
    let mut approvals = Vec::new();
    let mut positions = Vec::new();
    for answer in answers {
        assert_eq!(answer.status(), 200);
        let header = answer
            .headers()
            .get("ERCS-Position")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let body: Value = answer.json().await.unwrap();
        // Each answer, the nine that found the plan approved too, names a
        // position to read the dispatches at.
        assert_eq!(header, body["position"].as_u64(), "{body}");
        positions.push(header.expect("every approval answers a position"));
        approvals.push(body["record"]["approval"].clone());
    }
    assert!(
        approvals.windows(2).all(|w| w[0] == w[1]),
        "one approval for all"
    );
    assert_eq!(
        server.count_events("json_extract(metadata, '$.plan_id') = ?1", &id),
        plan.assignments.len() as u64,
        "each assignment dispatched once"
    );
    assert_eq!(
        server.count_events(
            "stream = 'plan-' || ?1 AND event_type = 'PlanApproved'",
            &id
        ),
        1
    );
    let supplies: u64 = plan
        .assignments
        .iter()
        .filter(|a| a.commodity.to_string() == "supply:N95")
        .map(|a| a.quantity)
        .sum();
    // Read at the lowest position answered: every reservation is there.
    let lowest = positions.iter().min().unwrap();
    let (_, depots) = server
        .get(&server.url(&format!("/api/v1/depots?limit=1000&min_position={lowest}")))
        .await;
    let reserved: u64 = depots["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            d["state"]["reservations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        // Each reservation is `[[plan, item], {lot: quantity}]`.
        .filter(|r| r[0][0] == id.as_str())
        .flat_map(|r| r[1].as_object().cloned().unwrap_or_default())
        .map(|(_, quantity)| quantity.as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        reserved, supplies,
        "the stock is reserved once, not once per click"
    );
}

/// Registers a new district depot; when `clashing_lots_of` is given, it already
/// holds every N95 lot number of that depot with another expiry, so it refuses
/// a transfer of them.
async fn destination(server: &TestServer, id: &str, clashing_lots_of: Option<&Value>) {
    support::register_depot(
        server,
        id,
        "开州区临时物资储备点",
        "500154",
        [108.39, 31.16],
    )
    .await;
    let lots = clashing_lots_of
        .and_then(|source| source["state"]["stock"]["N95"].as_object().cloned())
        .unwrap_or_default();
    for lot in lots.keys() {
        let body = json!({"item": "N95", "lot_number": lot, "quantity": 1,
                          "expiry": "2031-01-01T00:00:00Z", "reason": "donation"});
        let received = server
            .post(&format!("/api/v1/depots/{id}/receive_lot"), &body)
            .await;
        assert_eq!(received.status(), 200);
    }
}

/// Ten twins of one keyed dispatch race; each answer settles the transfer it
/// dispatched, so ten settlements race too. Every twin gets `status`; returns
/// how the transfer was settled.
async fn ten_twins_dispatch(
    server: &TestServer,
    source: &Value,
    to: &str,
    transfer: &str,
    status: u16,
) -> Vec<String> {
    let path = format!(
        "/api/v1/depots/{}/dispatch_transfer",
        source["id"].as_str().unwrap()
    );
    let body = json!({"transfer": transfer, "to": to, "item": "N95", "quantity": 100, "reason": "rebalance"});
    let answers = join_all((0..10).map(|_| server.post_keyed(&path, transfer, &body))).await;
    let mut bodies = Vec::new();
    for answer in answers {
        assert_eq!(answer.status(), status);
        let mut body = answer.json::<Value>().await.unwrap();
        // Each request has its own id; the answer is otherwise the same.
        if let Some(problem) = body.as_object_mut() {
            problem.remove("request_id");
        }
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:#?}");
    server.transfer_events(transfer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_twins_of_one_transfer_settle_it_once_either_way() {
    let server = TestServer::seeded().await;
    let (_, page) = server.get(&server.url("/api/v1/depots?limit=1000")).await;
    let source = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["state"]["stock"]["N95"].is_object())
        .expect("a depot with N95")
        .clone();
    let accepting = "41111111-2222-4333-8444-555555555555";
    destination(&server, accepting, None).await;
    let refusing = "42111111-2222-4333-8444-555555555555";
    destination(&server, refusing, Some(&source)).await;

    let received = ten_twins_dispatch(
        &server,
        &source,
        accepting,
        "51111111-2222-4333-8444-555555555555",
        200,
    )
    .await;
    assert_eq!(
        received,
        [
            "TransferDispatched",
            "TransferReceived",
            "TransferCompleted"
        ]
    );
    let returned = ten_twins_dispatch(
        &server,
        &source,
        refusing,
        "52111111-2222-4333-8444-555555555555",
        409,
    )
    .await;
    assert_eq!(
        returned,
        ["TransferDispatched", "TransferReturned"],
        "returned once, never received"
    );
}

#[tokio::test]
async fn a_command_without_a_json_content_type_is_refused_and_changes_nothing() {
    let server = TestServer::seeded().await;
    let team = first_id(&server, "teams", "status=standby").await;
    let head = server.head().await;
    let path = server.url(&format!("/api/v1/teams/{team}/mark_unavailable"));
    // What a web page can send cross-site without a preflight.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let mut request = server.client.post(&path).body(r#"{"reason":"x"}"#);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 415, "{content_type:?}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["field"], "Content-Type");
    }
    let approve = server
        .client
        .post(server.url("/api/v1/plans/00000000-0000-4000-8000-000000000000/approve"))
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), 415, "approving a plan is a command too");
    assert_eq!(server.head().await, head);
}
