//! Surge plans over HTTP against the real server: an incident's demand planned
//! over the seeded one network, the plan's optimality certificate checked, and
//! approval turned into dispatch commands that carry the plan id.

mod support;

use ercs_routing::{Plan, SurgeProblem};
use serde_json::{Value, json};
use support::{TestServer, problem_type};

const INCIDENT: &str = "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d";

/// A 万州 incident needing isolation beds, N95 masks and two rescue teams.
async fn incident_with_demand(server: &TestServer) {
    let declare = server
        .post(
            "/api/v1/incidents",
            &json!({
                "incident_id": INCIDENT, "kind": "infectious_disease", "level": "III",
                "title": "万州区呼吸道传染病聚集性疫情", "affected_areas": ["500101"]
            }),
        )
        .await;
    assert_eq!(declare.status(), 201);
    for (command, body) in [
        (
            "record_bed_demand",
            json!({"bed_type": "negative_flow_isolation", "township": "500101001", "beds": 30}),
        ),
        (
            "record_supply_demand",
            json!({"item": "N95", "area": "500101", "quantity": 2000}),
        ),
        (
            "record_team_demand",
            json!({"kind": "medical_rescue", "teams": 2}),
        ),
    ] {
        let response = server
            .post(&format!("/api/v1/incidents/{INCIDENT}/{command}"), &body)
            .await;
        assert_eq!(response.status(), 200, "{command}");
    }
}

async fn propose(server: &TestServer) -> Value {
    let head = server.head().await;
    let response = server
        .client
        .post(server.url(&format!("/api/v1/plans?min_position={head}")))
        .json(&json!({"incident": INCIDENT}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_incidents_demand_is_planned_optimally_and_the_certificate_checks() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let proposed = propose(&server).await;
    let record = &proposed["record"];
    let problem: SurgeProblem = serde_json::from_value(record["problem"].clone()).unwrap();
    let plan: Plan = serde_json::from_value(record["plan"].clone()).unwrap();

    plan.certificate
        .verify(&problem)
        .expect("the certificate proves the plan optimal");
    let served = |commodity: &str| -> u64 {
        plan.assignments
            .iter()
            .filter(|a| a.commodity.to_string() == commodity)
            .map(|a| a.quantity)
            .sum()
    };
    assert_eq!(served("bed:negative_flow_isolation"), 30);
    assert_eq!(served("supply:N95"), 2000);
    assert_eq!(served("team:medical_rescue"), 2);
    // Local first: the teams come from 万州 itself.
    for team in plan
        .assignments
        .iter()
        .filter(|a| a.commodity.to_string() == "team:medical_rescue")
    {
        assert!(team.tier_path.len() <= 2, "{team:?}");
    }

    let id = proposed["id"].as_str().unwrap();
    let response = server
        .client
        .get(server.url(&format!("/api/v1/plans/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"0\"");
    let read: Value = response.json().await.unwrap();
    assert_eq!(read["plan"], record["plan"]);
}

#[tokio::test]
async fn approving_dispatches_every_assignment_with_the_plan_id_once() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let proposed = propose(&server).await;
    let id = proposed["id"].as_str().unwrap().to_owned();
    let plan: Plan = serde_json::from_value(proposed["record"]["plan"].clone()).unwrap();
    let mut feed = server
        .client
        .get(server.url("/api/v1/feed?collection=teams"))
        .timeout(std::time::Duration::from_secs(60))
        .send()
        .await
        .unwrap();

    let approved: Value = server
        .post(&format!("/api/v1/plans/{id}/approve"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let dispatches = approved["record"]["approval"]["dispatches"]
        .as_array()
        .unwrap();
    assert_eq!(dispatches.len(), plan.assignments.len());
    assert!(
        dispatches.iter().all(|d| d["outcome"] == "dispatched"),
        "{dispatches:#?}"
    );
    let position = approved["position"].as_u64().unwrap();

    // The teams are mobilised for the incident, and the beds held for the plan.
    for assignment in &plan.assignments {
        let (collection, rest) = assignment.source.split_once('/').unwrap();
        let resource_id = rest.split('/').next().unwrap();
        let (_, resource) = server
            .get(
                &server.url(
                    &format!("/api/v1/{collection}s/{resource_id}?min_position={position}")
                        .replace("facilitys", "facilities"),
                ),
            )
            .await;
        match collection {
            "team" => assert_eq!(resource["status"], "mobilising", "{resource}"),
            "facility" => assert!(
                resource["state"].to_string().contains(&id),
                "no reservation for the plan"
            ),
            "depot" => assert!(resource["state"]["reservations"].to_string().contains(&id)),
            other => panic!("unexpected source {other}"),
        }
    }

    // The live feed shows the mobilised teams.
    let mut seen = String::new();
    while !seen.contains("\"status\":\"mobilising\"") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk())
            .await
            .expect("a feed update")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }

    // Approving again appends nothing.
    let head = server.head().await;
    let again = server
        .post(&format!("/api/v1/plans/{id}/approve"), &json!({}))
        .await;
    assert_eq!(again.status(), 200);
    assert_eq!(server.head().await, head);

    // Every dispatch event records the plan in its metadata.
    drop(server.client.clone());
    let db = rusqlite::Connection::open_with_flags(
        server.dir.path().join("events.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let with_plan: i64 = db
        .query_row(
            "SELECT count(*) FROM events WHERE json_extract(metadata, '$.plan_id') = ?1",
            [&id],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(with_plan as usize, plan.assignments.len());
}

#[tokio::test]
async fn a_plan_request_without_demand_or_for_an_unknown_incident_is_refused() {
    let server = TestServer::seeded().await;
    let head = server.head().await;
    for (body, status, slug, field) in [
        (json!({}), 422, "nothing-to-plan", "demands"),
        (
            json!({"incident": "00000000-0000-4000-8000-000000000000"}),
            422,
            "nothing-to-plan",
            "incident",
        ),
        (
            json!({"incident": "not-a-uuid"}),
            422,
            "invalid-field",
            "incident",
        ),
        (json!({"demand": []}), 422, "invalid-field", "demand"),
    ] {
        let response = server.post("/api/v1/plans", &body).await;
        assert_eq!(response.status(), status, "{body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem_type(&problem), slug, "{body}: {problem}");
        assert_eq!(problem["field"], field, "{body}: {problem}");
    }
    let (status, _) = server
        .get(&server.url("/api/v1/plans/00000000-0000-4000-8000-000000000000"))
        .await;
    assert_eq!(status, 404);
    assert_eq!(server.head().await, head);
}
