//! Surge plans over HTTP against the real server: an incident's demand planned
//! over the seeded one network, the plan's optimality certificate checked, and
//! approval turned into dispatch commands that carry the plan id.

mod support;

use ercs_routing::{Plan, SurgeProblem};
use serde_json::{Value, json};
use support::{TestServer, incident_with_demand, problem_type, propose};

#[tokio::test]
async fn an_incidents_demand_is_planned_optimally_and_the_certificate_checks() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let proposed = propose(&server).await;
    let record = &proposed["record"];
    let plan: Plan = serde_json::from_value(record["plan"].clone()).unwrap();
    // The record is compact: the network's sources are not in it...
    assert!(record["problem"]["sources"].as_array().unwrap().is_empty());
    assert!(record["planned_at"].is_u64());
    // ...but rebuilt from the log as of the position it was planned at, after
    // the network has moved on, they prove the plan optimal.
    let team = plan
        .assignments
        .iter()
        .find(|a| a.source.starts_with("team/"))
        .unwrap()
        .source
        .trim_start_matches("team/")
        .to_owned();
    let moved = server
        .post(
            &format!("/api/v1/teams/{team}/mark_unavailable"),
            &json!({"reason": "装备检修"}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    let id = proposed["id"].as_str().unwrap();
    let (status, rebuilt) = server
        .get(&server.url(&format!("/api/v1/plans/{id}/problem")))
        .await;
    assert_eq!(status, 200, "{rebuilt}");
    let problem: SurgeProblem = serde_json::from_value(rebuilt).unwrap();
    assert!(
        problem
            .sources
            .iter()
            .any(|s| s.id == format!("team/{team}"))
    );
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
            "team" => {
                assert_eq!(resource["status"], "mobilising", "{resource}");
                // En route to the demand's point, with the arrival the plan expects.
                let en_route = &resource["state"]["status"]["mobilising"];
                assert!(en_route["destination"].is_object(), "{resource}");
                assert!(en_route["expected_arrival"].is_string(), "{resource}");
            }
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
    let with_plan = server.count_events("json_extract(metadata, '$.plan_id') = ?1", &id);
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

#[tokio::test]
async fn an_incident_holds_what_was_committed_to_it_and_closing_releases_it_all_once() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let proposed = propose(&server).await;
    let plan = proposed["id"].as_str().unwrap().to_owned();
    let approved = server
        .post(&format!("/api/v1/plans/{plan}/approve"), &json!({}))
        .await;
    assert_eq!(approved.status(), 200);
    let at = approved.json::<Value>().await.unwrap()["position"]
        .as_u64()
        .unwrap();
    let incident = format!("/api/v1/incidents/{}", support::INCIDENT);

    let (status, held) = server
        .get(&server.url(&format!("{incident}/held?min_position={at}")))
        .await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["teams"].as_array().unwrap().len(), 2, "{held}");
    let beds: u64 = held["beds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["beds"].as_u64().unwrap())
        .sum();
    let units: u64 = held["stock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!((beds, units), (30, 2000), "{held}");

    // Closing while it holds something is refused, and says what it holds.
    let head = server.head().await;
    let refused = server
        .post(
            &format!("{incident}/close"),
            &json!({"reason": "应急响应终止"}),
        )
        .await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(
        problem_type(&problem),
        "incident-holds-resources",
        "{problem}"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("2 team(s)"),
        "{problem}"
    );
    assert_eq!(server.head().await, head, "a refused close changes nothing");

    // With release_all, every holding is released, then the incident closes; a
    // retry (and a twin pressing at the same time) releases nothing twice.
    let close = json!({"reason": "应急响应终止", "release_all": true});
    let path = format!("{incident}/close");
    let (first, twin) = tokio::join!(
        server.post_keyed(&path, "close-1", &close),
        server.post_keyed(&path, "close-1", &close)
    );
    assert_eq!(
        (first.status().as_u16(), twin.status().as_u16()),
        (200, 200)
    );
    let closed: Value = first.json().await.unwrap();
    let retry = server.post_keyed(&path, "close-1", &close).await;
    assert_eq!(retry.status(), 200);
    let at = closed["position"].as_u64().unwrap();
    let (_, held) = server
        .get(&server.url(&format!("{incident}/held?min_position={at}")))
        .await;
    assert_eq!(
        (
            held["teams"].as_array().unwrap().len(),
            held["beds"].as_array().unwrap().len(),
            held["stock"].as_array().unwrap().len()
        ),
        (0, 0, 0),
        "{held}"
    );
    let releases = server.count_events(
        "json_extract(metadata, '$.idempotency_key') LIKE 'incident/' || ?1 || '/release/%'",
        support::INCIDENT,
    );
    let plan_steps = server.count_events("json_extract(metadata, '$.plan_id') = ?1", &plan);
    assert_eq!(
        releases, plan_steps,
        "one release per dispatched step, once"
    );
    assert_eq!(
        server.count_events(
            "stream = 'incident-' || ?1 AND event_type = 'IncidentClosed'",
            support::INCIDENT
        ),
        1
    );

    // Nothing more is planned or approved for a closed incident.
    let head = server.head().await;
    let late = server
        .client
        .post(server.url(&format!("/api/v1/plans?min_position={head}")))
        .json(&json!({"incident": support::INCIDENT}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 409);
    assert_eq!(problem_type(&late.json().await.unwrap()), "incident-closed");
    assert_eq!(server.head().await, head);
}
