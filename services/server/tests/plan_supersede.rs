//! A plan that supersedes an approved one: what the old plan holds is handed
//! over (moved, never released and taken again), only the difference is
//! dispatched, what is no longer needed is released, and it happens once
//! however many approvals race.

mod support;

use futures::future::join_all;
use serde_json::{Value, json};
use support::{INCIDENT, TestServer, incident_with_demand, problem_type, propose, sum_of as total};

async fn approve(server: &TestServer, plan: &str) -> reqwest::Response {
    server
        .post(&format!("/api/v1/plans/{plan}/approve"), &json!({}))
        .await
}

async fn approved(server: &TestServer, plan: &str) -> Value {
    let response = approve(server, plan).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn supersede(server: &TestServer, old: &str) -> reqwest::Response {
    server.caught_up().await;
    server
        .post(
            "/api/v1/plans",
            &json!({"incident": INCIDENT, "supersedes": old}),
        )
        .await
}

async fn record(server: &TestServer, command: &str, body: Value) {
    let response = server
        .post(&format!("/api/v1/incidents/{INCIDENT}/{command}"), &body)
        .await;
    assert_eq!(response.status(), 200, "{command}");
}

/// The sum of a numeric field (a JSON path) over the events of one type after `from`.
fn summed(server: &TestServer, event_type: &str, path: &str, from: u64) -> u64 {
    server
        .events_db()
        .query_row(
            &format!(
                "SELECT coalesce(sum(json_extract(data, '{path}')), 0) FROM events \
                 WHERE event_type = ?1 AND position > ?2"
            ),
            rusqlite::params![event_type, from as i64],
            |row| row.get::<_, i64>(0),
        )
        .unwrap() as u64
}

/// Units in the lot picks of the events of one type after `from`.
fn picked(server: &TestServer, event_type: &str, from: u64) -> u64 {
    server
        .events_db()
        .query_row(
            "SELECT coalesce(sum(json_extract(p.value, '$.quantity')), 0) \
             FROM events e, json_each(e.data, '$.picks') p \
             WHERE e.event_type = ?1 AND e.position > ?2",
            rusqlite::params![event_type, from as i64],
            |row| row.get::<_, i64>(0),
        )
        .unwrap() as u64
}

fn count(server: &TestServer, event_type: &str, from: u64) -> u64 {
    server
        .events_db()
        .query_row(
            "SELECT count(*) FROM events WHERE event_type = ?1 AND position > ?2",
            rusqlite::params![event_type, from as i64],
            |row| row.get::<_, i64>(0),
        )
        .unwrap() as u64
}

async fn held(server: &TestServer) -> Value {
    support::held_at(server, server.head().await).await
}

async fn statuses(server: &TestServer) -> Vec<String> {
    support::plan_statuses(server, server.head().await).await
}

/// An approved first plan (30 beds, 2,000 N95, 2 teams), then the demand changes:
/// 42 beds, 1,500 N95, 1 team.
async fn approved_then_changed(server: &TestServer) -> String {
    incident_with_demand(server).await;
    let first = propose(server).await;
    let id = first["id"].as_str().unwrap().to_owned();
    approved(server, &id).await;
    let before = held(server).await;
    assert_eq!(total(&before["beds"], "beds"), 30);
    assert_eq!(total(&before["stock"], "quantity"), 2000);
    record(
        server,
        "record_bed_demand",
        json!({"bed_type": "negative_flow_isolation", "township": "500101001", "beds": 42}),
    )
    .await;
    record(
        server,
        "record_supply_demand",
        json!({"item": "N95", "area": "500101", "quantity": 1500}),
    )
    .await;
    record(
        server,
        "record_team_demand",
        json!({"kind": "medical_rescue", "teams": 1}),
    )
    .await;
    id
}

#[tokio::test]
async fn a_superseding_plan_hands_over_what_the_old_one_holds_and_dispatches_only_the_difference() {
    let server = TestServer::seeded().await;
    let first = approved_then_changed(&server).await;
    let proposed = supersede(&server, &first).await;
    assert_eq!(proposed.status(), 201);
    let proposed: Value = proposed.json().await.unwrap();
    let second = proposed["id"].as_str().unwrap().to_owned();
    // It plans the whole new demand, counting on what the first plan holds.
    let plan = &proposed["record"]["plan"];
    let planned = |kind: &str| -> u64 {
        plan["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["commodity"].as_str().unwrap().starts_with(kind))
            .map(|a| a["quantity"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(
        (planned("bed:"), planned("supply:"), planned("team:")),
        (42, 1500, 1)
    );
    assert!(
        !proposed["record"]["takeover"]
            .as_object()
            .unwrap()
            .is_empty(),
        "{}",
        proposed["record"]
    );

    let before = server.head().await;
    approved(&server, &second).await;
    // Held now is exactly the new demand, not the sum of both plans.
    let now = held(&server).await;
    assert_eq!(total(&now["beds"], "beds"), 42, "{now}");
    assert_eq!(total(&now["stock"], "quantity"), 1500, "{now}");
    assert_eq!(now["teams"].as_array().unwrap().len(), 1, "{now}");
    assert_eq!(statuses(&server).await, ["superseded", "approved"]);

    // The beds changed hands: what was held moved, only the difference was
    // reserved anew, and what the first plan held beyond that was released.
    let moved = summed(&server, "BedReservationMoved", "$.beds", before);
    let reserved = summed(&server, "BedsReserved", "$.beds", before);
    let released = summed(&server, "BedReservationReleased", "$.beds", before);
    assert!(moved > 0, "no bed changed hands");
    assert_eq!(moved + reserved, 42, "moved {moved}, reserved {reserved}");
    assert_eq!(moved + released, 30, "moved {moved}, released {released}");
    // The stock: 1,500 of the 2,000 handed over, 500 released, none reserved anew.
    let stock_moved = picked(&server, "StockReservationMoved", before);
    let stock_reserved = picked(&server, "StockReserved", before);
    let stock_released = picked(&server, "StockReservationReleased", before);
    assert_eq!(stock_moved + stock_reserved, 1500);
    assert_eq!(stock_moved + stock_released, 2000);
    assert!(stock_moved > 0, "no stock changed hands");
    // One of the two teams is kept (no new mobilisation), the other stood down.
    assert_eq!(count(&server, "TeamMobilised", before), 0);
    assert_eq!(count(&server, "TeamDemobilised", before), 1);
    assert_eq!(count(&server, "PlanSuperseded", before), 1);

    // Approving again changes nothing; the old plan can no longer be cancelled
    // (its successor holds what it held) nor superseded a second time.
    let head = server.head().await;
    approved(&server, &second).await;
    assert_eq!(server.head().await, head);
    let cancel = server
        .post(
            &format!("/api/v1/plans/{first}/cancel"),
            &json!({"reason": "重复"}),
        )
        .await;
    assert_eq!(cancel.status(), 409);
    assert_eq!(
        problem_type(&cancel.json().await.unwrap()),
        "plan-superseded"
    );
    let again = supersede(&server, &first).await;
    assert_eq!(again.status(), 409);
    assert_eq!(
        problem_type(&again.json().await.unwrap()),
        "plan-superseded"
    );
    assert_eq!(server.head().await, head);
    // The successor's own record says what it took over.
    let (_, read) = server
        .get(&server.url(&format!("/api/v1/plans/{second}")))
        .await;
    let taken: u64 = read["approval"]["dispatches"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["taken_over"].as_u64())
        .sum();
    assert!(taken >= moved + stock_moved, "{read}");
}

#[tokio::test]
async fn a_plan_supersedes_only_an_approved_plan_of_its_own_incident() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let proposed = propose(&server).await;
    let id = proposed["id"].as_str().unwrap().to_owned();
    let head = server.head().await;

    let not_approved = supersede(&server, &id).await;
    assert_eq!(not_approved.status(), 409);
    assert_eq!(
        problem_type(&not_approved.json().await.unwrap()),
        "plan-not-approved"
    );
    let unknown = supersede(&server, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c88").await;
    assert_eq!(unknown.status(), 422);
    let unknown: Value = unknown.json().await.unwrap();
    assert_eq!(problem_type(&unknown), "unknown-reference");
    assert_eq!(unknown["field"], "supersedes", "{unknown}");
    let without_incident = server
        .post("/api/v1/plans", &json!({"supersedes": id, "demands": []}))
        .await;
    assert_eq!(without_incident.status(), 422);
    let without_incident: Value = without_incident.json().await.unwrap();
    assert_eq!(
        without_incident["field"], "supersedes",
        "{without_incident}"
    );
    assert_eq!(server.head().await, head, "a refusal records nothing");

    let cancel = server
        .post(
            &format!("/api/v1/plans/{id}/cancel"),
            &json!({"reason": "方案作废"}),
        )
        .await;
    assert_eq!(cancel.status(), 200);
    let cancelled = supersede(&server, &id).await;
    assert_eq!(cancelled.status(), 409);
    assert_eq!(
        problem_type(&cancelled.json().await.unwrap()),
        "plan-cancelled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_approvals_and_rival_successors_hand_over_once() {
    let server = TestServer::seeded().await;
    let first = approved_then_changed(&server).await;
    let ids = async |response: reqwest::Response| -> String {
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    };
    let second = ids(supersede(&server, &first).await).await;
    let rival = ids(supersede(&server, &first).await).await;
    let before = server.head().await;
    // Four approvals of each successor at once: one successor wins, once.
    let racing = (0..4).flat_map(|_| [second.clone(), rival.clone()]);
    let answers = join_all(racing.map(|plan| {
        let server = &server;
        async move { (plan.clone(), approve(server, &plan).await.status().as_u16()) }
    }))
    .await;
    let winners: std::collections::BTreeSet<&String> = answers
        .iter()
        .filter(|(_, status)| *status == 200)
        .map(|(plan, _)| plan)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (plan, status) in &answers {
        if !winners.contains(plan) {
            assert_eq!(*status, 409, "{answers:?}");
        }
    }
    let now = held(&server).await;
    assert_eq!(total(&now["beds"], "beds"), 42, "{now}");
    assert_eq!(total(&now["stock"], "quantity"), 1500, "{now}");
    assert_eq!(now["teams"].as_array().unwrap().len(), 1, "{now}");
    assert_eq!(count(&server, "PlanSuperseded", before), 1);
    assert_eq!(count(&server, "PlanApproved", before), 1);
    assert_eq!(count(&server, "TeamDemobilised", before), 1);
}

/// The metadata of the events a request's steps appended, after `from`.
fn step_metadata(server: &TestServer, plan: &str, from: u64) -> Vec<Value> {
    let db = server.events_db();
    let mut query = db
        .prepare(
            "SELECT metadata FROM events WHERE position > ?1 \
             AND json_extract(metadata, '$.plan_id') = ?2 ORDER BY position",
        )
        .unwrap();
    query
        .query_map(rusqlite::params![from as i64, plan], |row| {
            row.get::<_, String>(0)
        })
        .unwrap()
        .map(|m| serde_json::from_str(&m.unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn every_step_of_an_approval_says_who_asked_with_one_request_id() {
    let server = TestServer::seeded().await;
    let first = approved_then_changed(&server).await;
    let proposed: Value = supersede(&server, &first).await.json().await.unwrap();
    let second = proposed["id"].as_str().unwrap().to_owned();
    let before = server.head().await;
    approved(&server, &second).await;
    // The moves, the new reservations and mobilisation; then the old plan's
    // releases, which carry the old plan's id.
    let mut steps = step_metadata(&server, &second, before);
    steps.extend(step_metadata(&server, &first, before));
    assert!(steps.len() >= 4, "{steps:?}");
    let request_ids: std::collections::BTreeSet<String> = steps
        .iter()
        .map(|m| m["request_id"].as_str().expect("a request id").to_owned())
        .collect();
    assert_eq!(request_ids.len(), 1, "one request, one id: {request_ids:?}");
    for metadata in &steps {
        let who = &metadata["authenticated"];
        assert!(who["subject"].is_string(), "{metadata}");
        assert_eq!(who["name"], metadata["actor"], "{metadata}");
        assert!(who["role"].is_string() && who["jurisdiction"].is_string());
    }
}
