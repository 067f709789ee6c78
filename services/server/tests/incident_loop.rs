//! One incident in 万州, run end to end over HTTP as a dispatcher runs it:
//! declare → record demand → plan → approve → issue and dispatch → in transit →
//! received (签收) / on scene / admitted → raise the level → more demand → release
//! part → close with `release_all`. Afterwards nothing is held for it, every
//! unit of stock is accounted for, the incident's feed delivered every step in
//! log order, and a view rebuilt from the log answers as the live one does.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};
use support::{TestServer, problem_type};

const INCIDENT: &str = "4c1d2e3f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const SITE: [f64; 2] = [108.4057, 30.8075];

/// A write that must succeed; its answer.
async fn ok(server: &TestServer, path: &str, body: Value) -> Value {
    let response = server.post(path, &body).await;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap();
    assert!(
        status == 200 || status == 201,
        "{path} {body}: {status} {answer}"
    );
    answer
}

/// A write's log position.
fn at(answer: &Value) -> u64 {
    answer["position"].as_u64().expect("a position")
}

async fn incident(server: &TestServer, position: u64) -> Value {
    let (status, body) = server
        .get(&server.url(&format!(
            "/api/v1/incidents/{INCIDENT}?min_position={position}"
        )))
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Every unit of stock on every depot's shelves.
async fn units_on_shelves(server: &TestServer, position: u64) -> u64 {
    let (status, page) = server
        .get(&server.url(&format!(
            "/api/v1/depots?limit=1000&min_position={position}"
        )))
        .await;
    assert_eq!(status, 200);
    assert!(page.get("next_cursor").is_none(), "one page holds them all");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|depot| depot["state"]["stock"].as_object().unwrap().values())
        .flat_map(|lots| lots.as_object().unwrap().values())
        .map(|lot| lot["quantity"].as_u64().unwrap())
        .sum()
}

fn sum(list: &Value, field: &str) -> u64 {
    list.as_array()
        .unwrap()
        .iter()
        .map(|entry| entry[field].as_u64().unwrap())
        .sum()
}

/// The feed's updates (SSE `id` and data) until none comes for a while.
async fn drain(feed: &mut reqwest::Response, until_position: u64) -> Vec<(u64, Value)> {
    let mut buffer = Vec::new();
    let mut updates: Vec<(u64, Value)> = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while updates.last().is_none_or(|(id, _)| *id < until_position) {
        let chunk = tokio::time::timeout_at(deadline, feed.chunk())
            .await
            .expect("the feed delivered every step in time")
            .unwrap()
            .expect("the feed stayed open");
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
            let block: Vec<u8> = buffer.drain(..end + 2).collect();
            let block = String::from_utf8(block).unwrap();
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id: "))
                .and_then(|v| v.parse().ok());
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .and_then(|v| serde_json::from_str(v).ok());
            if let (Some(id), Some(data)) = (id, data) {
                updates.push((id, data));
            }
        }
    }
    updates
}

#[tokio::test]
async fn an_incident_runs_from_declaration_to_close_and_everything_goes_home() {
    let server = TestServer::seeded().await;
    let start = server.head().await;
    let shelves_before = units_on_shelves(&server, start).await;
    let mut feed = server
        .client
        .get(server.url(&format!("/api/v1/feed?incident={INCIDENT}")))
        .header("Last-Event-ID", start.to_string())
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    // Each step's position and the event type the feed must show for it.
    let mut steps: Vec<(u64, String)> = Vec::new();

    // Declared, with a location and demand in a township of 万州.
    let declared = ok(
        &server,
        "/api/v1/incidents",
        json!({
            "incident_id": INCIDENT, "kind": "infectious_disease", "level": "III",
            "title": "万州区高笋塘街道呼吸道传染病聚集性疫情", "affected_areas": ["500101"],
            "location": {"lon": SITE[0], "lat": SITE[1]}
        }),
    )
    .await;
    steps.push((at(&declared), "IncidentDeclared".into()));
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
        let recorded = ok(
            &server,
            &format!("/api/v1/incidents/{INCIDENT}/{command}"),
            body,
        )
        .await;
        let recorded_type = recorded["events"][0]["type"].as_str().unwrap().to_owned();
        steps.push((at(&recorded), recorded_type));
    }

    // Planned and approved: teams mobilised, beds and stock reserved for it.
    let plan = support::propose_for(&server, INCIDENT).await;
    steps.push((at(&plan), "PlanProposed".into()));
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let approved = ok(
        &server,
        &format!("/api/v1/plans/{plan_id}/approve"),
        json!({}),
    )
    .await;
    steps.push((at(&approved), "PlanApproved".into()));
    // Every commitment the approval made names the incident, not only the plan.
    for event_type in ["StockReserved", "BedsReserved", "TeamMobilised"] {
        let naming = server.count_events(
            &format!("event_type = '{event_type}' AND json_extract(data, '$.incident') = ?1"),
            INCIDENT,
        );
        assert!(naming >= 1, "no {event_type} names the incident");
    }
    let held = incident(&server, at(&approved)).await["state"]["held"].clone();
    assert_eq!(held["teams"].as_array().unwrap().len(), 2, "{held}");
    assert!(
        held["teams"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"]["mobilising"]["expected_arrival"].is_string())
    );
    assert_eq!(
        (sum(&held["beds"], "beds"), sum(&held["stock"], "quantity")),
        (30, 2000),
        "{held}"
    );

    // Issue the reserved stock to the township: in transit, due in two hours.
    let due = (Utc::now() + TimeDelta::hours(2)).to_rfc3339();
    let mut shipments = Vec::new();
    for (n, reserved) in held["stock"].as_array().unwrap().iter().enumerate() {
        let shipment = format!("6e7f8091-2b3c-4d4e-9f50-{n:012}");
        let depot = reserved["depot"].as_str().unwrap();
        let issued = ok(
            &server,
            &format!("/api/v1/depots/{depot}/issue"),
            json!({
                "item": reserved["item"], "quantity": reserved["quantity"], "plan": plan_id,
                "reason": "发往高笋塘街道发热门诊",
                "delivery": {"shipment": shipment, "area": "500101001",
                             "location": {"lon": SITE[0], "lat": SITE[1]}, "expected_arrival": due}
            }),
        )
        .await;
        assert_eq!(
            issued["events"][0]["data"]["incident"], INCIDENT,
            "the plan's incident"
        );
        steps.push((at(&issued), "StockIssued".into()));
        shipments.push((depot.to_owned(), shipment));
    }
    // And a transfer for it: city reserve → 万州's district depot, in transit.
    let (_, depots) = server.get(&server.url("/api/v1/depots?limit=1000")).await;
    let depots = depots["items"].as_array().unwrap().clone();
    let city = depots.iter().find(|d| d["tier"] == "city").unwrap();
    let wanzhou = depots
        .iter()
        .find(|d| d["tier"] == "district" && d["areas"][0] == "500101")
        .unwrap();
    let (item, lots) = city["state"]["stock"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .unwrap();
    let movable = lots.as_object().unwrap().values().next().unwrap()["quantity"]
        .as_u64()
        .unwrap()
        .min(500);
    let transfer = "1a2b3c4d-5e6f-4a7b-8c9d-000000000001";
    let dispatched = ok(
        &server,
        &format!(
            "/api/v1/depots/{}/dispatch_transfer",
            city["id"].as_str().unwrap()
        ),
        json!({
            "transfer": transfer, "to": wanzhou["id"], "item": item, "quantity": movable,
            "reason": "支援万州区", "expected_arrival": due, "incident": INCIDENT
        }),
    )
    .await;
    assert_eq!(
        dispatched["events"].as_array().unwrap().len(),
        1,
        "in transit, not yet received"
    );
    steps.push((at(&dispatched), "TransferDispatched".into()));
    let held = incident(&server, at(&dispatched)).await["state"]["held"].clone();
    assert!(
        held["stock"].as_array().unwrap().is_empty(),
        "issued, so no longer reserved: {held}"
    );
    assert_eq!(
        held["in_transit"].as_array().unwrap().len(),
        shipments.len() + 1,
        "{held}"
    );
    assert_eq!(sum(&held["in_transit"], "quantity"), 2000 + movable);
    assert!(
        held["in_transit"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["expected_arrival"].is_string())
    );
    // A city's dispatchers see it rolled up: what each tier has on the road for it.
    let (_, network) = server
        .get(&server.url(&format!(
            "/api/v1/network?group_by=tier,status,incident&min_position={}",
            at(&dispatched)
        )))
        .await;
    let on_road: u64 = network["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["status"] == "in_transit" && row["incident"] == INCIDENT)
        .map(|row| row["units"].as_u64().unwrap())
        .sum();
    assert_eq!(on_road, 2000 + movable, "{}", network["commitments"]);
    // And every resource says what it has on the road for which incident.
    let (sender, _) = &shipments[0];
    let (_, depot) = server
        .get(&server.url(&format!(
            "/api/v1/depots/{sender}?min_position={}",
            at(&dispatched)
        )))
        .await;
    let rows = depot["held_for"].as_array().cloned().unwrap_or_default();
    assert!(
        rows.iter().any(|r| r["incident"] == INCIDENT
            && r["status"] == "in_transit"
            && r["area"] == "500101001"),
        "{depot}"
    );
    // Closing now is refused: stock is on the road.
    let early = server
        .post(
            &format!("/api/v1/incidents/{INCIDENT}/close"),
            &json!({"reason": "太早", "release_all": true}),
        )
        .await;
    assert_eq!(early.status(), 409);
    assert_eq!(
        problem_type(&early.json().await.unwrap()),
        "incident-stock-in-transit"
    );

    // The teams arrive on scene: where they are is where they work.
    let teams: Vec<String> = held["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["team"].as_str().unwrap().to_owned())
        .collect();
    for team in &teams {
        let deployed = ok(
            &server,
            &format!("/api/v1/teams/{team}/deploy"),
            json!({"area": "500101001", "location": {"lon": SITE[0], "lat": SITE[1]}}),
        )
        .await;
        steps.push((at(&deployed), "TeamDeployed".into()));
        let (_, resource) = server
            .get(&server.url(&format!(
                "/api/v1/teams/{team}?min_position={}",
                at(&deployed)
            )))
            .await;
        assert_eq!(resource["point"], json!({"lon": SITE[0], "lat": SITE[1]}));
    }
    // Patients arrive in 20 of the 30 reserved beds; 5 are later discharged.
    let beds = held["beds"].as_array().unwrap()[0].clone();
    let facility = beds["facility"].as_str().unwrap();
    let admit = beds["beds"].as_u64().unwrap().min(20);
    let admitted = ok(
        &server,
        &format!("/api/v1/facilities/{facility}/admit"),
        json!({"bed_type": beds["bed_type"], "class": beds["class"], "patients": admit, "plan": plan_id}),
    )
    .await;
    steps.push((at(&admitted), "PatientsAdmitted".into()));
    let discharged = ok(
        &server,
        &format!("/api/v1/facilities/{facility}/discharge"),
        json!({"bed_type": beds["bed_type"], "class": beds["class"], "patients": 5, "plan": plan_id}),
    )
    .await;
    steps.push((at(&discharged), "PatientsDischarged".into()));
    // 签收: the township signs for each consignment, 万州's depot for the transfer.
    for (depot, shipment) in &shipments {
        let signed = ok(
            &server,
            &format!("/api/v1/depots/{depot}/sign_delivery"),
            json!({"shipment": shipment, "received_by": "高笋塘街道社区卫生服务中心 药房 李敏"}),
        )
        .await;
        steps.push((at(&signed), "DeliverySigned".into()));
    }
    let received = ok(
        &server,
        &format!("/api/v1/depots/{}/sign_transfer", wanzhou["id"].as_str().unwrap()),
        json!({"transfer": transfer, "from": city["id"], "received_by": "万州区储备库 库管员 王强"}),
    )
    .await;
    assert_eq!(received["events"][0]["type"], "TransferReceived");
    assert_eq!(received["events"][1]["type"], "TransferCompleted");
    // The answer's position is after the completion at the source.
    steps.push((at(&received), "TransferCompleted".into()));
    let held = incident(&server, at(&received)).await["state"]["held"].clone();
    assert!(held["in_transit"].as_array().unwrap().is_empty(), "{held}");
    assert_eq!(sum(&held["delivered"], "quantity"), 2000, "{held}");
    assert_eq!(sum(&held["beds_in_use"], "beds"), admit - 5, "{held}");

    // The level is raised and more demand comes in: a second plan for it.
    let raised = ok(
        &server,
        &format!("/api/v1/incidents/{INCIDENT}/raise_level"),
        json!({"level": "II", "reason": "病例持续增加"}),
    )
    .await;
    steps.push((at(&raised), "ResponseLevelRaised".into()));
    let more = ok(
        &server,
        &format!("/api/v1/incidents/{INCIDENT}/record_bed_demand"),
        json!({"bed_type": "negative_flow_isolation", "township": "500101017", "beds": 10}),
    )
    .await;
    steps.push((at(&more), "BedDemandRecorded".into()));
    let second = support::propose_for(&server, INCIDENT).await;
    steps.push((at(&second), "PlanProposed".into()));
    let second_id = second["id"].as_str().unwrap().to_owned();
    let approved = ok(
        &server,
        &format!("/api/v1/plans/{second_id}/approve"),
        json!({}),
    )
    .await;
    steps.push((at(&approved), "PlanApproved".into()));
    // The second plan plans only the demand the first does not cover; the first
    // plan's teams stay committed.
    let every_team: Vec<String> = incident(&server, at(&approved)).await["state"]["held"]["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["team"].as_str().unwrap().to_owned())
        .collect();
    assert!(every_team.contains(&teams[1]), "still on scene");

    // Part is released: one team stands down, one bed reservation is given back.
    let demobilised = ok(
        &server,
        &format!("/api/v1/teams/{}/demobilise", teams[0]),
        json!({}),
    )
    .await;
    steps.push((at(&demobilised), "TeamDemobilised".into()));
    let held = incident(&server, at(&demobilised)).await["state"]["held"].clone();
    let part = held["beds"].as_array().unwrap()[0].clone();
    let released = ok(
        &server,
        &format!(
            "/api/v1/facilities/{}/release",
            part["facility"].as_str().unwrap()
        ),
        json!({"plan": part["plan"], "bed_type": part["bed_type"], "class": part["class"]}),
    )
    .await;
    steps.push((at(&released), "BedReservationReleased".into()));

    // Closing without release_all names what is still held; with it, all goes home.
    let refused = server
        .post(
            &format!("/api/v1/incidents/{INCIDENT}/close"),
            &json!({"reason": "疫情平息"}),
        )
        .await;
    assert_eq!(refused.status(), 409);
    assert_eq!(
        problem_type(&refused.json().await.unwrap()),
        "incident-holds-resources"
    );
    let closed = ok(
        &server,
        &format!("/api/v1/incidents/{INCIDENT}/close"),
        json!({"reason": "疫情平息", "release_all": true}),
    )
    .await;
    steps.push((at(&closed), "IncidentClosed".into()));
    let after = incident(&server, at(&closed)).await;
    assert_eq!(after["status"], "closed", "{after}");
    let held = &after["state"]["held"];
    for kind in ["teams", "beds", "stock", "in_transit"] {
        assert!(
            held[kind].as_array().unwrap().is_empty(),
            "{kind} still held: {held}"
        );
    }
    for team in teams.iter().chain(&every_team) {
        let (_, resource) = server
            .get(&server.url(&format!(
                "/api/v1/teams/{team}?min_position={}",
                at(&closed)
            )))
            .await;
        assert_eq!(resource["status"], "returning", "{resource}");
    }
    // Every unit is on a shelf or was signed for at the township.
    let shelves_after = units_on_shelves(&server, at(&closed)).await;
    assert_eq!(shelves_after + 2000, shelves_before, "stock conserved");
    // Nothing more can be committed to it.
    let late = server
        .post(
            &format!("/api/v1/teams/{}/mobilise", teams[0]),
            &json!({"incident": INCIDENT}),
        )
        .await;
    assert_eq!(late.status(), 409);

    // The feed delivered every step, in log order.
    let updates = drain(&mut feed, at(&closed)).await;
    let ids: Vec<u64> = updates.iter().map(|(id, _)| *id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in log order: {ids:?}");
    let by_position: BTreeMap<u64, &Value> = updates.iter().map(|(id, data)| (*id, data)).collect();
    for (position, event_type) in &steps {
        let update = by_position
            .get(position)
            .unwrap_or_else(|| panic!("the feed missed {event_type} at {position}"));
        assert_eq!(update["event_type"], *event_type, "{update}");
        assert!(
            update["incidents"].to_string().contains(INCIDENT),
            "{update}"
        );
    }
    // The releases within the close reached the incident's subscribers too:
    // every team still committed went home.
    let demobilised_in_close = updates
        .iter()
        .filter(|(id, data)| *id > at(&released) && data["event_type"] == "TeamDemobilised")
        .count();
    assert_eq!(
        demobilised_in_close,
        every_team.len() - 1,
        "all but the one stood down before"
    );

    // A view rebuilt from the log answers as the live one does.
    let live = snapshot_of(&server, &teams, facility, at(&closed)).await;
    let rebuilt = TestServer::over(support::log_copy(server.dir.path())).await;
    assert_eq!(
        snapshot_of(&rebuilt, &teams, facility, at(&closed)).await,
        live
    );
}

/// What the dispatcher reads of the incident and what served it.
async fn snapshot_of(
    server: &TestServer,
    teams: &[String],
    facility: &str,
    position: u64,
) -> Value {
    let mut seen = serde_json::Map::new();
    let paths = [
        format!("/api/v1/incidents/{INCIDENT}"),
        format!("/api/v1/facilities/{facility}"),
    ]
    .into_iter()
    .chain(teams.iter().map(|t| format!("/api/v1/teams/{t}")));
    for path in paths {
        let (status, body) = server
            .get(&server.url(&format!("{path}?min_position={position}")))
            .await;
        assert_eq!(status, 200);
        seen.insert(path, body["state"].clone());
    }
    let (_, network) = server
        .get(&server.url(&format!("/api/v1/network?min_position={position}")))
        .await;
    for part in ["teams", "supplies", "commitments", "incidents"] {
        seen.insert(part.to_owned(), network[part].clone());
    }
    Value::Object(seen)
}
