//! Plans that compose: a second plan for an incident plans only what its approved
//! plans do not cover; plans are listed with their status, cancelled with what
//! they hold given back, approved in part when asked, refused with a 409 when
//! the network changed under them, and proposed once per `Idempotency-Key`.

mod support;

use futures::future::join_all;
use serde_json::{Value, json};
use support::{INCIDENT, TestServer, incident_with_demand, problem_type, propose};
use support::{held_at as held, plan_statuses as statuses, sum_of as sum};

async fn approve(server: &TestServer, plan: &str, body: Value) -> reqwest::Response {
    server
        .post(&format!("/api/v1/plans/{plan}/approve"), &body)
        .await
}

/// Whether an assignment or shortfall is of a commodity kind (`bed:…`, `team:…`).
fn is_kind(entry: &Value, kind: &str) -> bool {
    entry["commodity"]
        .as_str()
        .is_some_and(|c| c.split(':').next() == Some(kind))
}

/// What the plan's assignments and shortfalls say of one commodity kind.
fn planned(record: &Value, kind: &str) -> u64 {
    let of = |list: &str| -> u64 {
        record["plan"][list]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| is_kind(a, kind))
            .map(|a| a["quantity"].as_u64().unwrap())
            .sum()
    };
    of("assignments") + of("shortfalls")
}

#[tokio::test]
async fn a_second_plan_plans_only_what_the_first_does_not_cover() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let first = propose(&server).await;
    let approved = approve(&server, first["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(approved.status(), 200);
    // Everything recorded is held: nothing left to plan.
    let again = server
        .post("/api/v1/plans", &json!({"incident": INCIDENT}))
        .await;
    assert_eq!(again.status(), 422);
    assert_eq!(problem_type(&again.json().await.unwrap()), "demand-covered");

    // The level rises and 12 more beds are needed in the township: only those.
    let more = server
        .post(
            &format!("/api/v1/incidents/{INCIDENT}/record_bed_demand"),
            &json!({"bed_type": "negative_flow_isolation", "township": "500101001", "beds": 42}),
        )
        .await;
    assert_eq!(more.status(), 200);
    let second = propose(&server).await;
    let record = &second["record"];
    assert_eq!(
        planned(record, "bed"),
        12,
        "only the new beds: {}",
        record["plan"]
    );
    assert_eq!(planned(record, "supply"), 0, "the N95 are covered");
    assert_eq!(planned(record, "team"), 0, "the teams are covered");
    let approved: Value = approve(&server, second["id"].as_str().unwrap(), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let held = held(&server, approved["position"].as_u64().unwrap()).await;
    assert_eq!(
        sum(&held["beds"], "beds"),
        42,
        "42 beds for 42 needed, not 72: {held}"
    );
    assert_eq!(sum(&held["stock"], "quantity"), 2000);
    assert_eq!(held["teams"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn plans_are_listed_with_their_status_and_a_cancelled_one_gives_back_what_it_held() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let plan = propose(&server).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    assert_eq!(
        statuses(&server, plan["position"].as_u64().unwrap()).await,
        ["proposed"]
    );
    let approved: Value = approve(&server, &id, json!({})).await.json().await.unwrap();
    let at = approved["position"].as_u64().unwrap();
    assert_eq!(statuses(&server, at).await, ["approved"]);
    assert!(held(&server, at).await["teams"].as_array().unwrap().len() == 2);

    let cancel_path = format!("/api/v1/plans/{id}/cancel");
    let cancel = async |reason: &str| server.post(&cancel_path, &json!({"reason": reason})).await;
    let cancelled = cancel("疫情形势变化，重新制定方案").await;
    assert_eq!(cancelled.status(), 200);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(
        cancelled["record"]["cancellation"]["released"], 4,
        "{cancelled}"
    );
    let head = server.head().await;
    let left = held(&server, head).await;
    for kind in ["teams", "beds", "stock"] {
        assert!(left[kind].as_array().unwrap().is_empty(), "{kind}: {left}");
    }
    assert_eq!(statuses(&server, head).await, ["cancelled"]);
    // Twice cancels once; a cancelled plan is not approved again.
    assert_eq!(cancel("again").await.status(), 200);
    assert_eq!(server.head().await, head);
    let late = approve(&server, &id, json!({})).await;
    assert_eq!(late.status(), 409);
    assert_eq!(problem_type(&late.json().await.unwrap()), "plan-cancelled");
    // And with nothing covered any more, the demand can be planned again.
    let replanned = server
        .post("/api/v1/plans", &json!({"incident": INCIDENT}))
        .await;
    assert_eq!(replanned.status(), 201);
}

#[tokio::test]
async fn a_plan_whose_sources_changed_is_a_409_naming_what_changed_unless_partial_is_asked() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let plan = propose(&server).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    let supply = plan["record"]["plan"]["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| is_kind(a, "supply"))
        .unwrap_or_else(|| panic!("{}", plan["record"]["plan"]))
        .clone();
    let depot = supply["source"]
        .as_str()
        .unwrap()
        .strip_prefix("depot/")
        .unwrap();
    let (_, state) = server
        .get(&server.url(&format!("/api/v1/depots/{depot}")))
        .await;
    let on_hand: u64 = state["state"]["stock"]["N95"]
        .as_object()
        .unwrap()
        .values()
        .map(|lot| lot["quantity"].as_u64().unwrap())
        .sum();
    // Meanwhile the depot sends most of its N95 elsewhere.
    let taken = on_hand - supply["quantity"].as_u64().unwrap() + 1;
    let issued = server
        .post(
            &format!("/api/v1/depots/{depot}/issue"),
            &json!({"item": "N95", "quantity": taken, "plan": null, "reason": "发往其他区县"}),
        )
        .await;
    assert_eq!(issued.status(), 200);

    let head = server.head().await;
    let refused = approve(&server, &id, json!({})).await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem_type(&problem), "plan-stale", "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains(state["name"].as_str().unwrap()),
        "names the depot: {detail}"
    );
    assert_eq!(
        problem["outcome"]["changed"][0]["planned"],
        supply["quantity"]
    );
    assert_eq!(server.head().await, head, "nothing dispatched");
    // The answer offers the re-plan, ready to send: it plans the incident afresh.
    let replan = &problem["outcome"]["replan"];
    assert_eq!(replan["method"], "POST", "{problem}");
    let replanned = server
        .post(replan["href"].as_str().unwrap(), &replan["body"])
        .await;
    assert_eq!(replanned.status(), 201);
    let replanned: Value = replanned.json().await.unwrap();
    assert_eq!(replanned["record"]["request"]["incident"], INCIDENT);

    let partial = approve(&server, &id, json!({"partial": true})).await;
    assert_eq!(partial.status(), 200);
    let partial: Value = partial.json().await.unwrap();
    let outcomes: Vec<&str> = partial["record"]["approval"]["dispatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "stale").count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes.iter().filter(|o| **o == "dispatched").count() >= 3);
    let at = partial["position"].as_u64().unwrap();
    // The stale plan, partly approved, and the re-plan, proposed.
    assert_eq!(statuses(&server, at).await, ["partly_approved", "proposed"]);
    assert!(
        held(&server, at).await["stock"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_chosen_subset_of_assignments_is_approved_and_nothing_else() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let plan = propose(&server).await;
    let id = plan["id"].as_str().unwrap();
    let beyond = approve(&server, id, json!({"assignments": [999]})).await;
    assert_eq!(beyond.status(), 422);
    assert_eq!(
        beyond.json::<Value>().await.unwrap()["field"],
        "assignments"
    );
    let teams: Vec<usize> = plan["record"]["plan"]["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, a)| is_kind(a, "team"))
        .map(|(i, _)| i)
        .collect();
    let approved: Value = approve(&server, id, json!({"assignments": teams}))
        .await
        .json()
        .await
        .unwrap();
    let held = held(&server, approved["position"].as_u64().unwrap()).await;
    assert_eq!(held["teams"].as_array().unwrap().len(), 2, "{approved}");
    assert!(held["beds"].as_array().unwrap().is_empty(), "{held}");
    assert!(held["stock"].as_array().unwrap().is_empty(), "{held}");
    assert_eq!(approved["record"]["approval"]["partial"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_keyed_proposal_is_made_once_and_its_key_names_one_request() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let body = json!({"incident": INCIDENT});
    let twins = (0..6).map(|_| server.post_keyed("/api/v1/plans", "plan-wanzhou-1", &body));
    let mut ids = Vec::new();
    for answer in join_all(twins).await {
        assert_eq!(answer.status(), 201);
        ids.push(answer.json::<Value>().await.unwrap()["id"].clone());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let proposed = server.count_events("event_type = ?1", "PlanProposed");
    assert_eq!(proposed, 1, "six clicks, one plan");
    let other = server
        .post_keyed(
            "/api/v1/plans",
            "plan-wanzhou-1",
            &json!({"incident": INCIDENT, "settings": {"horizon_minutes": 60}}),
        )
        .await;
    assert_eq!(other.status(), 422);
    assert_eq!(
        problem_type(&other.json().await.unwrap()),
        "idempotency-key-reused"
    );
}

#[tokio::test]
async fn an_unknown_setting_is_refused_naming_it() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let head = server.head().await;
    let response = server
        .post(
            "/api/v1/plans",
            &json!({"incident": INCIDENT, "settings": {"horizon_minutes": 60, "standrd_minutes": 30}}),
        )
        .await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["field"], "settings.standrd_minutes", "{problem}");
    assert_eq!(server.head().await, head);
}

#[tokio::test]
async fn teams_go_to_the_incident_and_are_judged_by_the_two_hour_circle() {
    let server = TestServer::seeded().await;
    let incident = "5d6e7f80-aaaa-4bbb-8ccc-000000000001";
    let site = json!({"lon": 108.4057, "lat": 30.8075});
    let declared = server
        .post(
            "/api/v1/incidents",
            &json!({"incident_id": incident, "kind": "mass_casualty", "level": "II",
                    "title": "万州区长江大桥交通事故", "affected_areas": ["500101"], "location": site}),
        )
        .await;
    assert_eq!(declared.status(), 201);
    let demand = server
        .post(
            &format!("/api/v1/incidents/{incident}/record_team_demand"),
            &json!({"kind": "medical_rescue", "teams": 2}),
        )
        .await;
    assert_eq!(demand.status(), 200);
    let plan = support::propose_for(&server, incident).await;
    let record = &plan["record"];
    let demands = record["problem"]["demands"].as_array().unwrap();
    assert_eq!(demands.len(), 1);
    assert_eq!(
        demands[0]["location"], site,
        "at the incident, not a district's middle"
    );
    let summary = record["plan"]["summaries"]
        .as_array()
        .or_else(|| record["plan"]["commodities"].as_array())
        .cloned()
        .unwrap_or_default();
    for assignment in record["plan"]["assignments"].as_array().unwrap() {
        let within = assignment["arrival_minutes"].as_f64().unwrap() <= 120.0;
        assert_eq!(
            assignment["within_standard"], within,
            "{assignment} / {summary:?}"
        );
    }
}

#[tokio::test]
async fn a_plan_is_sent_compressed_when_the_client_accepts_it_and_the_feed_never_is() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let plan = propose(&server).await;
    let url = server.url(&format!("/api/v1/plans/{}", plan["id"].as_str().unwrap()));
    let plain = server.client.get(&url).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    let gzipped = server
        .client
        .get(&url)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let gzipped = gzipped.bytes().await.unwrap();
    assert_eq!(&gzipped[..2], [0x1f, 0x8b], "a gzip stream");
    assert!(
        gzipped.len() * 3 < plain.len(),
        "{} bytes gzipped, {} plain",
        gzipped.len(),
        plain.len()
    );
    // Server-sent events leave as they are written, whatever the client accepts.
    let mut feed = server
        .client
        .get(server.url("/api/v1/feed"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(
        feed.headers()
            .get("content-encoding")
            .is_none_or(|e| e == "identity")
    );
    let team = server
        .get(&server.url("/api/v1/teams?status=standby&limit=1"))
        .await
        .1["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let changed = server
        .post(
            &format!("/api/v1/teams/{team}/mark_unavailable"),
            &json!({"reason": "装备检修"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let mut seen = String::new();
    while !seen.contains("event: update") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), feed.chunk())
            .await
            .expect("an update at once, not held back by a compressor")
            .unwrap()
            .unwrap();
        seen.push_str(std::str::from_utf8(&chunk).expect("plain text, not gzip"));
    }
}

#[tokio::test]
async fn a_plan_names_its_sources_and_demands_as_a_dispatcher_knows_them() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let plan = propose(&server).await;
    let names = &plan["names"];
    for assignment in plan["record"]["plan"]["assignments"].as_array().unwrap() {
        for id in [&assignment["source"], &assignment["demand"]] {
            let name = names[id.as_str().unwrap()].as_str().unwrap_or("");
            assert!(
                !name.is_empty() && !name.is_ascii(),
                "{id} is named in Chinese, not by its id: {name:?}"
            );
        }
    }
    assert_eq!(names["area/500101001"], "高笋塘街道", "{names}");
    // The summary first: per commodity, what was needed, served, from which tier.
    for row in plan["summary"].as_array().unwrap() {
        let by_tier: u64 = row["by_tier"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(row["served"].as_u64().unwrap(), by_tier, "{row}");
        assert_eq!(
            row["needed"].as_u64().unwrap(),
            row["served"].as_u64().unwrap() + row["shortfall"].as_u64().unwrap(),
            "{row}"
        );
    }
    let beds = plan["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["commodity"] == "bed:negative_flow_isolation")
        .unwrap();
    assert_eq!(
        (beds["needed"].as_u64(), beds["served"].as_u64()),
        (Some(30), Some(30))
    );
    let (_, read) = server
        .get(&server.url(&format!("/api/v1/plans/{}", plan["id"].as_str().unwrap())))
        .await;
    assert_eq!(&read["names"], names);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_plans_racing_for_the_same_stock_never_both_succeed_nor_half_succeed() {
    let server = TestServer::seeded().await;
    // 万州's own depot: each incident will want every N95 it has.
    let (_, page) = server
        .get(&server.url("/api/v1/depots?area=500101&tier=district"))
        .await;
    let depot = page["items"][0].clone();
    let units: u64 = depot["state"]["stock"]["N95"]
        .as_object()
        .unwrap()
        .values()
        .map(|lot| lot["quantity"].as_u64().unwrap())
        .sum();
    let mut plans = Vec::new();
    for n in 0..2 {
        let incident = format!("6e7f8091-aaaa-4bbb-8ccc-00000000000{n}");
        let declared = server
            .post(
                "/api/v1/incidents",
                &json!({"incident_id": incident, "kind": "infectious_disease", "level": "III",
                        "title": format!("万州区聚集性疫情 {n}"), "affected_areas": ["500101"]}),
            )
            .await;
        assert_eq!(declared.status(), 201);
        let demand = server
            .post(
                &format!("/api/v1/incidents/{incident}/record_supply_demand"),
                &json!({"item": "N95", "area": "500101", "quantity": units}),
            )
            .await;
        assert_eq!(demand.status(), 200);
        plans.push(
            support::propose_for(&server, &incident).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let racing = plans.iter().map(|plan| approve(&server, plan, json!({})));
    let statuses: Vec<u16> = join_all(racing)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [200, 409],
        "one wins, the other is told: {statuses:?}"
    );
    let loser = &plans[statuses.iter().position(|s| *s == 409).unwrap()];
    // The loser holds nothing: whatever it had taken before it lost was given back.
    let head = server.head().await;
    let (_, depots) = server
        .get(&server.url(&format!("/api/v1/depots?limit=1000&min_position={head}")))
        .await;
    assert!(
        !depots.to_string().contains(loser.as_str()),
        "the refused plan still holds stock"
    );
}

#[tokio::test]
async fn beds_beyond_the_horizon_become_actions_and_are_not_escalated_beyond_the_city() {
    let server = TestServer::seeded().await;
    let incident = "7e8f9001-aaaa-4bbb-8ccc-000000000001";
    let declared = server
        .post(
            "/api/v1/incidents",
            &json!({"incident_id": incident, "kind": "infectious_disease", "level": "II",
                    "title": "万州区大规模疫情", "affected_areas": ["500101"]}),
        )
        .await;
    assert_eq!(declared.status(), 201);
    // Far more isolation beds than the whole region has open within four hours.
    let demand = server
        .post(
            &format!("/api/v1/incidents/{incident}/record_bed_demand"),
            &json!({"bed_type": "general_isolation", "township": "500101001", "beds": 6000}),
        )
        .await;
    assert_eq!(demand.status(), 200);
    let plan = support::propose_for(&server, incident).await;
    let record = &plan["record"];
    let actions = record["actions"].as_array().cloned().unwrap_or_default();
    let gym = actions
        .iter()
        .find(|a| plan["names"][a["source"].as_str().unwrap()] == "万州区体育馆")
        .unwrap_or_else(|| panic!("no action for 万州区体育馆: {actions:#?}"));
    assert_eq!(gym["action"], "convert");
    assert_eq!(gym["quantity"], 500);
    assert_eq!(gym["ready_in_minutes"], 2880, "its 48-hour conversion");
    let recommended: u64 = actions
        .iter()
        .map(|a| a["quantity"].as_u64().unwrap())
        .sum();
    let short: u64 = record["plan"]["shortfalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["quantity"].as_u64().unwrap())
        .sum();
    let beyond: u64 = record["plan"]["escalations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to_tier"] == "beyond")
        .map(|e| e["quantity"].as_u64().unwrap())
        .sum();
    assert!(
        recommended > 0 && recommended <= short,
        "{recommended} of {short}"
    );
    assert!(
        beyond <= short - recommended,
        "beyond the city only what no lead time can meet: {beyond} > {short} - {recommended}"
    );
}

#[tokio::test]
async fn a_plans_assignments_are_read_a_page_at_a_time_with_names_and_outcomes() {
    let server = TestServer::seeded().await;
    incident_with_demand(&server).await;
    let plan = propose(&server).await;
    let id = plan["id"].as_str().unwrap();
    approve(&server, id, json!({})).await;
    let all = plan["record"]["plan"]["assignments"]
        .as_array()
        .unwrap()
        .clone();
    let mut read = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = server
            .get(&server.url(&format!("/api/v1/plans/{id}/assignments?limit=2{cursor}")))
            .await;
        assert_eq!(status, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        for item in items {
            assert!(
                item["source_name"].as_str().is_some_and(|n| !n.is_ascii()),
                "{item}"
            );
            assert_eq!(item["dispatch"]["outcome"], "dispatched", "{item}");
            // Why this source: its own name and arrival, and the next best by name.
            let why = item["why"].as_str().unwrap();
            let source_name = item["source_name"].as_str().unwrap();
            assert!(why.starts_with(source_name), "{why}");
            let arrival = item["arrival_minutes"].as_f64().unwrap();
            assert!(why.contains(&format!("{arrival} 分钟到达")), "{why}");
            if let Some(next) = item["next_best"]["source"].as_str() {
                let next_name = &plan["names"][next];
                assert!(next_name.is_string(), "the next best is named: {next}");
                assert!(why.contains(next_name.as_str().unwrap()), "{why}");
                assert!(
                    item["next_best"]["extra_seconds_per_unit"]
                        .as_i64()
                        .unwrap()
                        >= 0
                );
            }
            read.push(item["index"].as_u64().unwrap() as usize);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(
        read,
        (0..all.len()).collect::<Vec<_>>(),
        "every assignment once, in order"
    );
    assert!(
        all.iter().any(|a| a["next_best"]["source"].is_string()),
        "the seeded city has other sources for some demand"
    );
    let (_, teams) = server
        .get(&server.url(&format!(
            "/api/v1/plans/{id}/assignments?commodity=team:medical_rescue"
        )))
        .await;
    assert_eq!(teams["items"].as_array().unwrap().len(), 2);
    let (status, bad) = server
        .get(&server.url(&format!("/api/v1/plans/{id}/assignments?cursor=first")))
        .await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("cursor")));
}

#[tokio::test]
async fn a_team_already_at_the_site_is_mobilised_not_refused() {
    let server = TestServer::seeded().await;
    let (_, teams) = server
        .get(&server.url("/api/v1/teams?area=500101&kind=medical_rescue&status=standby&limit=1"))
        .await;
    let base = teams["items"][0]["point"].clone();
    let incident = "8f9a0b1c-aaaa-4bbb-8ccc-000000000001";
    let declared = server
        .post(
            "/api/v1/incidents",
            &json!({"incident_id": incident, "kind": "mass_casualty", "level": "III",
                    "title": "万州区救援队驻地旁事故", "affected_areas": ["500101"], "location": base}),
        )
        .await;
    assert_eq!(declared.status(), 201);
    let demand = server
        .post(
            &format!("/api/v1/incidents/{incident}/record_team_demand"),
            &json!({"kind": "medical_rescue", "teams": 1}),
        )
        .await;
    assert_eq!(demand.status(), 200);
    let plan = support::propose_for(&server, incident).await;
    assert_eq!(
        plan["record"]["plan"]["assignments"][0]["arrival_minutes"],
        0.0
    );
    // Arriving at once is not arriving before setting out.
    let approved = approve(&server, plan["id"].as_str().unwrap(), json!({})).await;
    assert_eq!(approved.status(), 200, "{}", approved.text().await.unwrap());
}
