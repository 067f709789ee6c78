//! The audit trail over HTTP: who did what to which resource, when and why.

mod support;

use ercs_server::auth::{Role, development};
use serde_json::{Value, json};
use support::{TestServer, problem_type};

/// Two commands on one 万州 standby team by 万州区卫健委值班员; the team's id.
async fn two_changes_by_the_wanzhou_dispatcher(server: &TestServer) -> String {
    let (_, teams) = server
        .get(&server.url("/api/v1/teams?limit=1&status=standby&area=500101"))
        .await;
    let team = teams["items"][0]["id"].as_str().unwrap().to_owned();
    let token = development::token_for(
        "wz-duty-01",
        "万州区卫健委值班员",
        Role::DistrictDispatcher,
        "500101",
    );
    for (command, body) in [
        ("mark_unavailable", json!({"reason": "车辆维修"})),
        ("mark_available", json!({})),
    ] {
        let response = reqwest::Client::new()
            .post(server.url(&format!("/api/v1/teams/{team}/{command}")))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{command}");
    }
    team
}

/// Every page of `/api/v1/audit?{query}`, followed to the head.
async fn whole_trail(server: &TestServer, query: &str) -> Vec<Value> {
    let (mut items, mut after) = (Vec::new(), 0);
    loop {
        let (status, page) = server
            .get(&server.url(&format!("/api/v1/audit?{query}&after={after}")))
            .await;
        assert_eq!(status, 200, "{page}");
        assert!(page["scanned"].as_u64().unwrap() <= 2_000, "unbounded page");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        if page["at_head"] == true {
            return items;
        }
        after = page["next_after"].as_u64().unwrap();
    }
}

#[tokio::test]
async fn a_resources_history_names_who_changed_it_and_why_page_by_page() {
    let server = TestServer::seeded().await;
    let team = two_changes_by_the_wanzhou_dispatcher(&server).await;
    let (status, all) = server
        .get(&server.url(&format!("/api/v1/teams/{team}/history")))
        .await;
    assert_eq!(status, 200, "{all}");
    let items = all["items"].as_array().unwrap();
    let [.., unavailable, available] = items.as_slice() else {
        panic!("{all}")
    };
    assert_eq!(unavailable["reason"], "车辆维修");
    assert_eq!(unavailable["actor"], "万州区卫健委值班员");
    assert_eq!(
        unavailable["authenticated"]["role"], "district_dispatcher",
        "{unavailable}"
    );
    assert_eq!(
        available["revision"],
        unavailable["revision"].as_u64().unwrap() + 1
    );

    let (_, first) = server
        .get(&server.url(&format!("/api/v1/teams/{team}/history?limit=1")))
        .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    let after = first["next_after"].as_u64().unwrap();
    let (_, second) = server
        .get(&server.url(&format!(
            "/api/v1/teams/{team}/history?limit=1&after={after}"
        )))
        .await;
    assert_eq!(second["items"][0]["revision"], after + 1);

    let (status, _) = server
        .get(&server.url(&format!("/api/v1/teams/{}/history", uuid::Uuid::new_v4())))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_audit_trail_filters_by_actor_resource_area_and_time_in_bounded_pages() {
    let server = TestServer::seeded().await;
    let started = chrono::Utc::now();
    let team = two_changes_by_the_wanzhou_dispatcher(&server).await;

    let by_actor = whole_trail(&server, "actor=wz-duty-01").await;
    assert_eq!(by_actor.len(), 2, "{by_actor:?}");
    assert!(
        by_actor
            .iter()
            .all(|e| e["stream"] == format!("team-{team}"))
    );

    let by_resource = whole_trail(&server, &format!("resource={team}&limit=500")).await;
    assert!(by_resource.len() >= 3, "registration and the two changes");
    let since = started.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let recent = whole_trail(&server, &format!("since={since}&area=500101")).await;
    assert_eq!(recent.len(), 2, "{recent:?}");
    assert!(
        whole_trail(&server, &format!("since={since}&area=500102"))
            .await
            .is_empty()
    );

    let (status, problem) = server
        .get(&server.url("/api/v1/audit?since=yesterday"))
        .await;
    assert_eq!((status, problem_type(&problem)), (400, "invalid-parameter"));
    assert_eq!(problem["field"], "since");
}

#[tokio::test]
async fn an_incidents_trail_holds_its_plans_and_what_they_reserved_and_released() {
    let server = TestServer::seeded().await;
    support::incident_with_demand(&server).await;
    let plan = support::propose(&server).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let approved = server
        .post(&format!("/api/v1/plans/{id}/approve"), &json!({}))
        .await;
    assert_eq!(approved.status(), 200);
    let cancelled = server
        .post(
            &format!("/api/v1/plans/{id}/cancel"),
            &json!({"reason": "改派"}),
        )
        .await;
    assert_eq!(cancelled.status(), 200);

    // Asked from the start, the first page begins at the incident, not in the seed.
    let (_, first) = server
        .get(&server.url(&format!("/api/v1/audit?incident={}", support::INCIDENT)))
        .await;
    assert_eq!(first["items"][0]["type"], "IncidentDeclared", "{first}");
    let trail = whole_trail(&server, &format!("incident={}", support::INCIDENT)).await;
    let types: Vec<&str> = trail.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for wanted in [
        "IncidentDeclared",
        "PlanProposed",
        "BedsReserved",
        "PlanApproved",
        "PlanCancelled",
        "BedReservationReleased",
    ] {
        assert!(types.contains(&wanted), "no {wanted} in {types:?}");
    }
    // Nothing of another incident's.
    let other = uuid::Uuid::new_v4().to_string();
    let declared = server
        .post(
            "/api/v1/incidents",
            &json!({"incident_id": other, "kind": "mass_casualty", "level": "IV",
                    "title": "万州区交通事故", "affected_areas": ["500101"]}),
        )
        .await;
    assert_eq!(declared.status(), 201);
    let again = whole_trail(&server, &format!("incident={}", support::INCIDENT)).await;
    assert_eq!(
        again.len(),
        trail.len(),
        "another incident's event in the trail"
    );
}
