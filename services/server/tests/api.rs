//! The REST API over HTTP against the real server on a random port: reads with
//! filters and pagination, writes with `If-Match` and `Idempotency-Key`,
//! read-your-writes, time travel, and bad input that changes nothing.

mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::{TestServer, problem_type};

const WANZHOU: &str = "500101";
/// A point in 开州区 (500154).
const KAIZHOU: [f64; 2] = [108.39, 31.16];

async fn first_team(server: &TestServer, query: &str) -> Value {
    let (status, page) = server
        .get(&server.url(&format!("/api/v1/teams?limit=1&{query}")))
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"][0].clone()
}

fn new_team(id: &str) -> Value {
    json!({
        "team_id": id, "name": "万州区测试救援队", "kind": "medical_rescue",
        "tier": "district", "home_area": WANZHOU,
        "base": {"lon": 108.408, "lat": 30.807}, "headcount": 12,
        "capabilities": ["triage"]
    })
}

#[tokio::test]
async fn every_collection_lists_and_gets_its_resources_with_their_revision_as_etag() {
    let server = TestServer::seeded().await;
    for collection in ["teams", "facilities", "depots", "convertibles", "items"] {
        let (status, page) = server
            .get(&server.url(&format!("/api/v1/{collection}?limit=3")))
            .await;
        assert_eq!(status, 200, "{collection}: {page}");
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 3, "{collection}");
        let id = items[0]["id"].as_str().unwrap();
        let response = server
            .client
            .get(server.url(&format!("/api/v1/{collection}/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            etag,
            format!("\"{}\"", body["mark"]["revision"]),
            "{collection}"
        );
        assert_eq!(body["id"], items[0]["id"]);
    }
    let (status, page) = server.get(&server.url("/api/v1/incidents")).await;
    assert_eq!((status, page["items"].as_array().unwrap().len()), (200, 0));
}

#[tokio::test]
async fn a_cursor_pages_through_a_filtered_list_with_no_gap_and_no_duplicate() {
    let server = TestServer::seeded().await;
    let (_, all) = server
        .get(&server.url("/api/v1/teams?tier=district&limit=1000"))
        .await;
    let all: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(all.len() > 100, "{} district teams", all.len());
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = server
            .get(&server.url(&format!("/api/v1/teams?tier=district&limit=40{cursor}")))
            .await;
        assert_eq!(status, 200);
        for team in page["items"].as_array().unwrap() {
            assert_eq!(team["tier"], "district");
            paged.push(team["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(paged, all);
}

#[tokio::test]
async fn filters_by_area_kind_status_and_bbox_keep_only_matching_resources() {
    let server = TestServer::seeded().await;
    let (_, page) = server
        .get(&server.url(&format!(
            "/api/v1/teams?area={WANZHOU}&kind=medical_rescue&status=standby&limit=1000"
        )))
        .await;
    let teams = page["items"].as_array().unwrap();
    assert!(!teams.is_empty());
    for team in teams {
        assert_eq!(team["subkind"], "medical_rescue");
        assert_eq!(team["status"], "standby");
        assert_eq!(team["areas"][0], WANZHOU);
    }
    // A township's facilities count towards its district.
    let (_, district) = server
        .get(&server.url(&format!("/api/v1/facilities?area={WANZHOU}&limit=1000")))
        .await;
    let township_level = district["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["areas"][0].as_str().unwrap().len() == 9)
        .count();
    assert!(township_level > 0, "no township facility under 万州");
    // A box around central Chongqing holds fewer facilities than the city.
    let (_, boxed) = server
        .get(&server.url("/api/v1/facilities?bbox=106.4,29.4,106.7,29.7&limit=1000"))
        .await;
    let (_, city) = server
        .get(&server.url("/api/v1/facilities?limit=1000"))
        .await;
    let boxed = boxed["items"].as_array().unwrap();
    assert!(!boxed.is_empty() && boxed.len() < city["items"].as_array().unwrap().len());
    for facility in boxed {
        let (lon, lat) = (
            facility["point"]["lon"].as_f64().unwrap(),
            facility["point"]["lat"].as_f64().unwrap(),
        );
        assert!((106.4..=106.7).contains(&lon) && (29.4..=29.7).contains(&lat));
    }
}

#[tokio::test]
async fn a_created_resource_is_readable_at_the_position_its_write_returned() {
    let server = TestServer::seeded().await;
    let id = "6d1f0c3a-1b2c-4d5e-8f90-a1b2c3d4e5f6";
    let response = server.post("/api/v1/teams", &new_team(id)).await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        response.headers()["location"],
        format!("/api/v1/teams/{id}")
    );
    assert_eq!(response.headers()["etag"], "\"0\"");
    let written: Value = response.json().await.unwrap();
    let position = written["position"].as_u64().unwrap();
    assert_eq!(written["events"][0]["type"], "TeamRegistered");

    let (status, team) = server
        .get(&server.url(&format!("/api/v1/teams/{id}?min_position={position}")))
        .await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["state"]["headcount"], 12);
    assert_eq!(team["mark"]["position"], position);
}

#[tokio::test]
async fn a_read_at_a_position_beyond_the_log_head_is_refused_naming_the_head() {
    let server = TestServer::seeded().await;
    let head = server.head().await;
    let started = std::time::Instant::now();
    let (status, problem) = server
        .get(&server.url(&format!("/api/v1/teams?min_position={}", head + 1000)))
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem_type(&problem), "position-beyond-head");
    assert_eq!(problem["field"], "min_position");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&head.to_string()),
        "{problem}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "it waited for a position that does not exist"
    );
}

#[tokio::test]
async fn a_stale_if_match_is_a_409_and_appends_nothing() {
    let server = TestServer::seeded().await;
    let team = first_team(&server, "status=standby").await;
    let id = team["id"].as_str().unwrap();
    let revision = team["mark"]["revision"].as_u64().unwrap();
    let mark = |r: u64| format!("\"{r}\"");
    let unavailable = json!({"reason": "vehicle under repair"});
    let ok = server
        .client
        .post(server.url(&format!("/api/v1/teams/{id}/mark_unavailable")))
        .header("If-Match", mark(revision))
        .json(&unavailable)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["etag"], mark(revision + 1));
    let head = server.head().await;

    let stale = server
        .client
        .post(server.url(&format!("/api/v1/teams/{id}/mark_available")))
        .header("If-Match", mark(revision))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 409);
    assert_eq!(
        stale.headers()["etag"],
        mark(revision + 1),
        "the 409 carries the current ETag to retry with"
    );
    let problem: Value = stale.json().await.unwrap();
    assert_eq!(problem_type(&problem), "stale-revision");
    assert_eq!(server.head().await, head);
}

#[tokio::test]
async fn of_concurrent_writes_at_the_same_revision_exactly_one_wins() {
    let server = TestServer::seeded().await;
    let team = first_team(&server, "status=standby").await;
    let id = team["id"].as_str().unwrap().to_owned();
    let revision = team["mark"]["revision"].as_u64().unwrap();
    let writes = (0..8).map(|n| {
        let request = server
            .client
            .post(server.url(&format!("/api/v1/teams/{id}/update_roster")))
            .header("If-Match", format!("\"{revision}\""))
            .json(&json!({"headcount": 10 + n, "capabilities": ["triage"]}));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(writes).await;
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 409).count(),
        7,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field_and_the_rule_and_changes_nothing() {
    let server = TestServer::seeded().await;
    let team = first_team(&server, "status=standby").await;
    let id = team["id"].as_str().unwrap();
    let head = server.head().await;
    let raw = |path: String, body: &'static str| {
        server
            .client
            .post(server.url(&path))
            .header("content-type", "application/json")
            .body(body)
    };
    let deploy = format!("/api/v1/teams/{id}/deploy");
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str, Option<&str>)> = vec![
        (
            "malformed JSON",
            raw(deploy.clone(), "{\"area\": "),
            400,
            "malformed-json",
            None,
        ),
        (
            "a wrong type",
            raw(
                format!("/api/v1/teams/{id}/update_roster"),
                r#"{"headcount": "many", "capabilities": []}"#,
            ),
            422,
            "invalid-field",
            Some("headcount"),
        ),
        (
            "an unknown field",
            raw(
                format!("/api/v1/teams/{id}/mark_unavailable"),
                r#"{"reason": "flat tyre", "urgent": true}"#,
            ),
            422,
            "invalid-field",
            Some("urgent"),
        ),
        (
            "an out-of-range value",
            raw(
                deploy.clone(),
                r#"{"area": "500101", "location": {"lon": 200.0, "lat": 30.8}}"#,
            ),
            422,
            "invalid-field",
            Some("location"),
        ),
        (
            "a zero headcount",
            raw(
                format!("/api/v1/teams/{id}/update_roster"),
                r#"{"headcount": 0, "capabilities": []}"#,
            ),
            422,
            "invalid-field",
            Some("headcount"),
        ),
        (
            "an unknown id",
            raw(
                "/api/v1/teams/00000000-0000-4000-8000-000000000000/mark_available".into(),
                "",
            ),
            404,
            "not-found",
            None,
        ),
        (
            "a malformed id",
            raw("/api/v1/teams/not-a-uuid/mark_available".into(), ""),
            404,
            "not-found",
            None,
        ),
        (
            "an unknown action",
            raw(format!("/api/v1/teams/{id}/teleport"), "{}"),
            404,
            "not-found",
            None,
        ),
        (
            "an oversized body",
            server
                .client
                .post(server.url(&deploy))
                .header("content-type", "application/json")
                .body(format!("{{\"area\": \"{}\"}}", "x".repeat(100_000))),
            413,
            "body-too-large",
            None,
        ),
        (
            "a list query with an unknown parameter",
            server.client.get(server.url("/api/v1/teams?colour=red")),
            400,
            "invalid-parameter",
            Some("colour"),
        ),
        (
            "a malformed bbox",
            server.client.get(server.url("/api/v1/teams?bbox=1,2,3")),
            400,
            "invalid-parameter",
            Some("bbox"),
        ),
    ];
    for (case, request, status, slug, field) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{case}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{case}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem_type(&problem), slug, "{case}: {problem}");
        assert!(!problem["detail"].as_str().unwrap().is_empty(), "{case}");
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "{case}: {problem}");
        }
    }
    assert_eq!(server.head().await, head, "bad input changed the log");
}

#[tokio::test]
async fn a_resource_and_the_network_can_be_read_as_of_an_earlier_position_or_time() {
    let server = TestServer::seeded().await;
    let team = first_team(&server, "status=standby").await;
    let id = team["id"].as_str().unwrap();
    let before = server.head().await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let between = chrono::Utc::now().to_rfc3339();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let response = server
        .post(
            &format!("/api/v1/teams/{id}/mark_unavailable"),
            &json!({"reason": "training"}),
        )
        .await;
    let position = response.json::<Value>().await.unwrap()["position"]
        .as_u64()
        .unwrap();

    let (_, now) = server
        .get(&server.url(&format!("/api/v1/teams/{id}?min_position={position}")))
        .await;
    assert_eq!(now["status"], "unavailable");
    for as_of in [before.to_string(), between.replace('+', "%2B")] {
        let (status, then) = server
            .get(&server.url(&format!("/api/v1/teams/{id}?as_of={as_of}")))
            .await;
        assert_eq!(status, 200, "{then}");
        assert_eq!(then["status"], "standby", "as of {as_of}");
    }
    let count = |network: &Value| -> u64 {
        network["teams"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["status"] == "unavailable")
            .map(|row| row["teams"].as_u64().unwrap())
            .sum()
    };
    let (_, network_then) = server
        .get(&server.url(&format!("/api/v1/network?as_of={before}")))
        .await;
    let (_, network_now) = server.get(&server.url("/api/v1/network")).await;
    assert_eq!(count(&network_now), count(&network_then) + 1);
    assert_eq!(network_then["position"], before);
}

#[tokio::test]
async fn the_network_rolls_up_by_tier_and_counts_townships_in_their_district() {
    let server = TestServer::seeded().await;
    let (status, by_tier) = server
        .get(&server.url("/api/v1/network?group_by=tier"))
        .await;
    assert_eq!(status, 200);
    let tiers: BTreeSet<&str> = by_tier["beds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["tier"].as_str().unwrap())
        .collect();
    assert!(
        tiers.contains("township") && tiers.contains("district"),
        "{tiers:?}"
    );
    let (_, full) = server.get(&server.url("/api/v1/network")).await;
    let total = |rows: &Value| -> u64 {
        rows.as_array()
            .unwrap()
            .iter()
            .map(|r| r["total"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(total(&by_tier["beds"]), total(&full["beds"]));

    let (_, by_district) = server
        .get(&server.url("/api/v1/network?group_by=area&area_level=district"))
        .await;
    let areas: Vec<&str> = by_district["beds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["area"].as_str().unwrap())
        .collect();
    assert!(areas.iter().all(|a| a.len() == 6), "{areas:?}");
    assert!(areas.contains(&WANZHOU));
    assert_eq!(total(&by_district["beds"]), total(&full["beds"]));
}

/// The types of the events a write answered with, in order.
fn event_types(written: &Value) -> Vec<&str> {
    written["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

/// Usable units of `item` in a depot's state (every lot).
fn units(depot: &Value, item: &str) -> u64 {
    depot["state"]["stock"][item]
        .as_object()
        .map(|lots| {
            lots.values()
                .map(|lot| lot["quantity"].as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn a_transfer_is_settled_at_the_destination_or_returned_to_the_source() {
    let server = TestServer::seeded().await;
    let (_, page) = server.get(&server.url("/api/v1/depots?limit=1000")).await;
    let depots = page["items"].as_array().unwrap();
    let source = depots
        .iter()
        .find(|d| units(d, "N95") >= 1000)
        .expect("a depot with N95");
    // A new depot, so no lot of the same number is already held there.
    let to = "31111111-2222-4333-8444-555555555555";
    support::register_depot(&server, to, "开州区临时物资储备点", "500154", KAIZHOU).await;
    let destination = json!({});
    let from = source["id"].as_str().unwrap();
    let dispatch = |transfer: &str, to: &str| json!({"transfer": transfer, "to": to, "item": "N95", "quantity": 500, "reason": "rebalance"});

    let key = "a-transfer-dispatched-once";
    let response = server
        .post_keyed(
            &format!("/api/v1/depots/{from}/dispatch_transfer"),
            key,
            &dispatch("11111111-2222-4333-8444-555555555555", to),
        )
        .await;
    assert_eq!(response.status(), 200);
    let written: Value = response.json().await.unwrap();
    let types = event_types(&written);
    assert_eq!(
        types,
        [
            "TransferDispatched",
            "TransferReceived",
            "TransferCompleted"
        ],
        "{written}"
    );
    let at = written["position"].as_u64().unwrap();
    let (_, source_now) = server
        .get(&server.url(&format!("/api/v1/depots/{from}?min_position={at}")))
        .await;
    // Completed: neither depot keeps anything of it (a depot's state does not
    // grow with its transfers), and the answer's revision is the source's own
    // after the completion.
    let first = "11111111-2222-4333-8444-555555555555";
    let (_, destination_now) = server
        .get(&server.url(&format!("/api/v1/depots/{to}?min_position={at}")))
        .await;
    assert_eq!(source_now["state"]["outbound"], json!({}), "{source_now}");
    for depot in [&source_now, &destination_now] {
        assert!(!depot["state"].to_string().contains(first), "{depot}");
    }
    assert_eq!(
        written["revision"], source_now["mark"]["revision"],
        "{written}"
    );
    // Its id cannot name another transfer, from either depot (the log's key
    // for its settlement says so): refused, naming the field, nothing appended.
    let head = server.head().await;
    for (source, destination) in [(from, to), (to, from)] {
        let again = server
            .post(
                &format!("/api/v1/depots/{source}/dispatch_transfer"),
                &json!({"transfer": first, "to": destination, "item": "N95", "quantity": 1, "reason": "rebalance"}),
            )
            .await;
        support::refused(again, 409, "already-exists", "transfer").await;
    }
    assert_eq!(server.head().await, head);
    // The first dispatch retried with its key, after it settled: answered as the
    // first time (the id check at the edge does not stand in its way).
    let retry = server
        .post_keyed(
            &format!("/api/v1/depots/{from}/dispatch_transfer"),
            key,
            &dispatch(first, to),
        )
        .await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let replayed: Value = retry.json().await.unwrap();
    assert_eq!(replayed, written);
    assert_eq!(server.head().await, head);
    assert_eq!(units(&source_now, "N95"), units(source, "N95") - 500);
    assert_eq!(
        units(&destination_now, "N95"),
        units(&destination, "N95") + 500
    );

    // A destination that does not exist is refused at the edge: nothing moves.
    let head = server.head().await;
    let nowhere = "99999999-8888-4777-8666-555555555555";
    let response = server
        .post(
            &format!("/api/v1/depots/{from}/dispatch_transfer"),
            &dispatch("21111111-2222-4333-8444-555555555555", nowhere),
        )
        .await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        (problem_type(&problem), problem["field"].as_str()),
        ("unknown-reference", Some("to"))
    );
    assert_eq!(server.head().await, head);

    // A destination that holds the same lot number with another expiry refuses
    // it: the stock comes back to the source.
    let (_, source_now) = server
        .get(&server.url(&format!("/api/v1/depots/{from}?min_position={at}")))
        .await;
    let lots: Vec<String> = source_now["state"]["stock"]["N95"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let clash = "61111111-2222-4333-8444-555555555555";
    support::register_depot(
        &server,
        clash,
        "云阳县临时物资储备点",
        "500235",
        [108.69, 30.93],
    )
    .await;
    for lot in lots {
        support::receive_n95(&server, clash, &lot, 10).await;
    }
    let response = server
        .post(
            &format!("/api/v1/depots/{from}/dispatch_transfer"),
            &dispatch("21111111-2222-4333-8444-555555555555", clash),
        )
        .await;
    // Not a 200: a step of the transfer was refused, and the answer says so.
    assert_eq!(response.status(), 409);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem_type(&problem), "transfer-returned", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains(clash),
        "{problem}"
    );
    let written = &problem["outcome"];
    let types = event_types(written);
    assert_eq!(
        types,
        ["TransferDispatched", "TransferReturned"],
        "{written}"
    );
    let at = written["position"].as_u64().unwrap();
    let (_, after) = server
        .get(&server.url(&format!("/api/v1/depots/{from}?min_position={at}")))
        .await;
    assert_eq!(units(&after, "N95"), units(source, "N95") - 500);
}

#[tokio::test]
async fn every_command_endpoint_takes_its_documented_example_over_http() {
    use ercs_projections::one_network::ResourceKind;
    use ercs_server::examples::actions;

    let server = TestServer::seeded().await;
    let declared = server
        .post(
            "/api/v1/incidents",
            actions(ResourceKind::Incidents)[0]
                .example
                .as_ref()
                .unwrap(),
        )
        .await;
    assert_eq!(declared.status(), 201);
    for kind in ResourceKind::ALL {
        let (_, page) = server
            .get(&server.url(&format!("/api/v1/{kind}?limit=1")))
            .await;
        let id = page["items"][0]["id"].as_str().unwrap().to_owned();
        for (n, action) in actions(kind).iter().enumerate() {
            let path = if n == 0 {
                format!("/api/v1/{kind}")
            } else {
                format!("/api/v1/{kind}/{id}/{}", action.name)
            };
            let mut request = server
                .client
                .post(server.url(&path))
                .header("content-type", "application/json");
            if let Some(example) = &action.example {
                request = request.json(example);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            // Accepted, or refused by the domain for the state the resource is
            // in: never unparsed, unrouted or a server error.
            assert!(
                matches!(status, 200 | 201 | 409 | 422)
                    || (status == 404
                        && !body["detail"]
                            .as_str()
                            .unwrap_or("")
                            .contains("has no command")),
                "POST {path}: {status} {body}"
            );
            if status == 422 {
                assert_ne!(problem_type(&body), "malformed-json", "POST {path}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn a_command_naming_something_that_does_not_exist_is_refused_at_the_edge() {
    let server = TestServer::seeded().await;
    support::incident_with_demand(&server).await;
    let incident = format!("/api/v1/incidents/{}", support::INCIDENT);
    let (_, depots) = server.get(&server.url("/api/v1/depots?limit=1")).await;
    let depot = format!(
        "/api/v1/depots/{}",
        depots["items"][0]["id"].as_str().unwrap()
    );
    let (_, teams) = server
        .get(&server.url("/api/v1/teams?limit=1&status=standby"))
        .await;
    let team = format!(
        "/api/v1/teams/{}",
        teams["items"][0]["id"].as_str().unwrap()
    );
    let head = server.head().await;
    for (path, body, field) in [
        (
            format!("{incident}/record_bed_demand"),
            json!({"bed_type": "general_isolation", "township": "500101999", "beds": 5}),
            "township",
        ),
        (
            format!("{incident}/record_supply_demand"),
            json!({"item": "UNOBTAINIUM", "area": "500101", "quantity": 5}),
            "item",
        ),
        (
            format!("{incident}/extend_affected_areas"),
            json!({"areas": ["500102", "500199"]}),
            "areas.1",
        ),
        (
            format!("{depot}/receive_lot"),
            json!({"item": "UNOBTAINIUM", "lot_number": "U-1", "quantity": 5, "expiry": null, "reason": "donation"}),
            "item",
        ),
        (
            format!("{team}/mobilise"),
            json!({"incident": "00000000-0000-4000-8000-000000000001"}),
            "incident",
        ),
    ] {
        let response = server.post(&path, &body).await;
        assert_eq!(response.status(), 422, "{path} {body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem_type(&problem), "unknown-reference", "{problem}");
        assert_eq!(problem["field"], field, "{problem}");
    }
    assert_eq!(server.head().await, head, "nothing was appended");

    let closed = server
        .post(
            &format!("{incident}/close"),
            &json!({"reason": "response ended"}),
        )
        .await;
    assert_eq!(closed.status(), 200);
    let head = server.head().await;
    let late = server
        .post(
            &format!("{team}/mobilise"),
            &json!({"incident": support::INCIDENT}),
        )
        .await;
    assert_eq!(late.status(), 409);
    let problem: Value = late.json().await.unwrap();
    assert_eq!(problem_type(&problem), "incident-closed", "{problem}");
    assert_eq!(server.head().await, head);
}

#[tokio::test]
async fn the_token_says_who_acted_and_an_ercs_actor_header_is_ignored() {
    let server = TestServer::seeded().await;
    let (_, teams) = server
        .get(&server.url("/api/v1/teams?limit=1&status=standby&area=500101"))
        .await;
    let path = server.url(&format!(
        "/api/v1/teams/{}/mark_unavailable",
        teams["items"][0]["id"].as_str().unwrap()
    ));
    let token = ercs_server::auth::development::token_for(
        "wz-duty-01",
        "万州区卫健委值班员",
        ercs_server::auth::Role::DistrictDispatcher,
        "500101",
    );
    let done = reqwest::Client::new()
        .post(&path)
        .bearer_auth(token)
        .header("ERCS-Actor", "seed")
        .json(&json!({"reason": "车辆维修"}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let position: Value = done.json().await.unwrap();
    let actor: String = server
        .events_db()
        .query_row(
            "SELECT json_extract(metadata, '$.actor') FROM events WHERE position = ?1",
            [position["position"].as_i64().unwrap()],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(actor, "万州区卫健委值班员");
}

#[tokio::test]
async fn a_transfer_between_seeded_depots_of_every_pair_of_tiers_is_received() {
    let server = TestServer::seeded().await;
    let (_, page) = server.get(&server.url("/api/v1/depots?limit=1000")).await;
    let depots = page["items"].as_array().unwrap();
    let tiers = ["city", "regional", "district", "institution"];
    let of_tier = |tier: &str| {
        depots
            .iter()
            .find(|d| d["state"]["tier"] == tier)
            .unwrap_or_else(|| panic!("no {tier} depot"))
    };
    let mut n = 0;
    for from in tiers {
        for to in tiers.iter().filter(|&&to| to != from) {
            let (source, destination) = (of_tier(from), of_tier(to));
            let (item, _) = source["state"]["stock"]
                .as_object()
                .unwrap()
                .iter()
                .find(|(item, _)| units(source, item) >= 100)
                .expect("an item in stock");
            n += 1;
            let transfer = format!("7{n:07}-2222-4333-8444-555555555555");
            let response = server
                .post(
                    &format!(
                        "/api/v1/depots/{}/dispatch_transfer",
                        source["id"].as_str().unwrap()
                    ),
                    &json!({"transfer": transfer, "to": destination["id"], "item": item,
                            "quantity": 10, "reason": "定期轮换"}),
                )
                .await;
            assert_eq!(response.status(), 200, "{from} → {to}");
            let written: Value = response.json().await.unwrap();
            let types = event_types(&written);
            assert_eq!(
                types,
                [
                    "TransferDispatched",
                    "TransferReceived",
                    "TransferCompleted"
                ],
                "{from} → {to}: {written}"
            );
        }
    }
}
