//! Hosted drills over HTTP: a drill is a network of its own on a sandbox log,
//! played on the live endpoints under `/api/v1/drills/{drill}/…`, and the
//! live network never notices.

mod support;

use std::time::Duration;

use ercs_server::auth::{Role, development};
use serde_json::{Value, json};
use support::{TestServer, bearer, problem_type};

const WANZHOU: &str = "wanzhou-respiratory-outbreak";
/// 万州区突发急性传染病防控队, a seeded team.
const TEAM_KEY: &str = "team/500101/acute_infectious_disease";

/// 长寿区中毒救治队, which the 万州 script never commands.
const OTHER_TEAM_KEY: &str = "team/500115/poisoning";

fn team_id() -> String {
    ercs_seed::inventory::seed_id(TEAM_KEY).to_string()
}

async fn start(server: &TestServer, body: Value) -> Value {
    let response = server.post("/api/v1/drills", &body).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

/// A drill of the 万州 script on a copy of the live network, its clock stopped.
async fn paused_copy(server: &TestServer) -> String {
    let drill = start(
        server,
        json!({"script": WANZHOU, "from": {"live": {}}, "paused": true}),
    )
    .await;
    drill["drill"].as_str().unwrap().to_owned()
}

fn digest(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// The live log's files, byte for byte.
fn live_files(server: &TestServer) -> Vec<(String, Vec<u8>)> {
    ["events.db", "events.db-wal"]
        .iter()
        .map(|name| (name.to_string(), digest(&server.dir.path().join(name))))
        .collect()
}

async fn team_status(server: &TestServer, base: &str) -> String {
    let (status, body) = server
        .get(&server.url(&format!("{base}/teams/{}", team_id())))
        .await;
    assert_eq!(status, 200, "{body}");
    body["status"].as_str().unwrap_or_default().to_owned()
}

/// Waits until `GET path` satisfies `done`.
async fn eventually(server: &TestServer, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = server.get(&server.url(path)).await;
        if status == 200 && done(&body) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn trainees_play_on_a_copy_and_the_live_log_stays_byte_identical() {
    let server = TestServer::seeded().await;
    let before = live_files(&server);
    let live_events = server.events_in_log();
    let drill = paused_copy(&server).await;
    let base = format!("/api/v1/drills/{drill}");
    // The copy holds the live network.
    assert_eq!(team_status(&server, &base).await, "standby");
    // A trainee takes the team out of service, in the drill.
    let mobilise = server
        .post(
            &format!("{base}/teams/{}/mark_unavailable", team_id()),
            &json!({"reason": "演练：调派防控队"}),
        )
        .await;
    let status = mobilise.status().as_u16();
    let written: Value = mobilise.json().await.unwrap();
    assert_eq!(status, 200, "{written}");
    assert_eq!(written["drill"], drill.as_str(), "{written}");
    let position = written["position"].as_u64().unwrap();
    let (status, team) = server
        .get(&server.url(&format!(
            "{base}/teams/{}?min_position={position}",
            team_id()
        )))
        .await;
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["status"], "unavailable", "{team}");
    // And the director runs the script's first steps.
    for _ in 0..3 {
        let step = server
            .post(&format!("{base}/clock"), &json!({"action": "step"}))
            .await;
        assert_eq!(step.status(), 200);
    }
    // The live network never noticed: same team, same log, same bytes.
    assert_eq!(team_status(&server, "/api/v1").await, "standby");
    assert_eq!(server.events_in_log(), live_events);
    let (_, incidents) = server.get(&server.url("/api/v1/incidents")).await;
    assert_eq!(
        incidents["items"].as_array().unwrap().len(),
        0,
        "{incidents}"
    );
    assert!(
        live_files(&server) == before,
        "the live log's files changed during a drill"
    );
    // The drill's own log is a file of its own under the data directory.
    let sandbox = server
        .dir
        .path()
        .join("drills")
        .join(&drill)
        .join("events.db");
    assert!(sandbox.exists());
}

#[actix_web::test]
async fn every_answer_inside_a_drill_names_it_and_the_live_feed_never_does() {
    let server = TestServer::seeded().await;
    let drill = paused_copy(&server).await;
    let base = format!("/api/v1/drills/{drill}");
    // A list, a GIS collection and a problem all carry the drill's id.
    for path in [
        format!("{base}/teams?limit=1"),
        format!("{base}/gis/collections/teams/items?limit=1"),
        format!("{base}/teams/not-a-team"),
    ] {
        let response = server.client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(
            response.headers()["ercs-drill"].to_str().unwrap(),
            drill,
            "{path}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["drill"], drill.as_str(), "{path}: {body}");
    }
    // GIS links stay inside the drill.
    let (_, items) = server
        .get(&server.url(&format!("{base}/gis/collections/teams/items?limit=1")))
        .await;
    let links = items["links"].as_array().unwrap();
    assert!(
        links
            .iter()
            .all(|l| l["href"].as_str().unwrap().contains(&base)),
        "{links:?}"
    );
    // Live answers carry no drill.
    let live = server
        .client
        .get(server.url("/api/v1/teams?limit=1"))
        .send()
        .await
        .unwrap();
    assert!(live.headers().get("ercs-drill").is_none());
    let live: Value = live.json().await.unwrap();
    assert!(live.get("drill").is_none(), "{live}");
    // A change in the drill reaches the drill's feed with its id, and the
    // live feed carries nothing of it.
    let mut drill_feed = server
        .client
        .get(server.url(&format!("{base}/feed")))
        .send()
        .await
        .unwrap();
    let mut live_feed = server
        .client
        .get(server.url("/api/v1/feed"))
        .send()
        .await
        .unwrap();
    let mobilise = server
        .post(
            &format!("{base}/teams/{}/mark_unavailable", team_id()),
            &json!({"reason": "演练"}),
        )
        .await;
    assert_eq!(mobilise.status(), 200);
    let message = tokio::time::timeout(Duration::from_secs(20), async {
        let mut text = String::new();
        while let Some(chunk) = drill_feed.chunk().await.unwrap() {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(line) = text.lines().find(|l| l.starts_with("data: {")) {
                return serde_json::from_str::<Value>(&line["data: ".len()..]).unwrap();
            }
        }
        panic!("the drill's feed ended");
    })
    .await
    .expect("the drill's feed sent the change");
    assert_eq!(message["drill"], drill.as_str(), "{message}");
    assert_eq!(
        message["feature"]["properties"]["status"], "unavailable",
        "{message}"
    );
    // The live feed's first second: heartbeats at most, no update, no drill.
    let mut live_text = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Ok(Some(chunk)) = live_feed.chunk().await {
            live_text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(!live_text.contains("event: update"), "{live_text}");
    assert!(!live_text.contains(&drill), "{live_text}");
}

#[actix_web::test]
async fn two_drills_do_not_see_each_other() {
    let server = TestServer::seeded().await;
    let first = paused_copy(&server).await;
    let second = paused_copy(&server).await;
    assert_ne!(first, second);
    let mobilise = server
        .post(
            &format!(
                "/api/v1/drills/{first}/teams/{}/mark_unavailable",
                team_id()
            ),
            &json!({"reason": "演练"}),
        )
        .await;
    assert_eq!(mobilise.status(), 200);
    let written: Value = mobilise.json().await.unwrap();
    let position = written["position"].as_u64().unwrap();
    let first_base = format!("/api/v1/drills/{first}");
    eventually(
        &server,
        &format!("{first_base}/teams/{}?min_position={position}", team_id()),
        |team| team["status"] == "unavailable",
    )
    .await;
    assert_eq!(
        team_status(&server, &format!("/api/v1/drills/{second}")).await,
        "standby"
    );
    assert_eq!(team_status(&server, "/api/v1").await, "standby");
    // Each drill's events name the drill they are of (its script).
    let sandbox = server
        .dir
        .path()
        .join("drills")
        .join(&first)
        .join("events.db");
    let db = rusqlite::Connection::open(sandbox).unwrap();
    let metadata: String = db
        .query_row(
            "SELECT metadata FROM events ORDER BY position DESC LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let metadata: Value = serde_json::from_str(&metadata).unwrap();
    assert_eq!(metadata["drill_id"], WANZHOU, "{metadata}");
}

#[actix_web::test]
async fn the_clock_steps_seeks_both_ways_and_commands_are_stamped_with_drill_time() {
    let server = TestServer::seeded().await;
    let drill = paused_copy(&server).await;
    let base = format!("/api/v1/drills/{drill}");
    let (_, status) = server.get(&server.url(&base)).await;
    assert_eq!(status["state"], "paused", "{status}");
    assert_eq!(status["steps_run"], 0);
    assert_eq!(status["drill_time"], "2026-03-02T00:00:00Z");
    // Paused, nothing runs however long we wait.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, status) = server.get(&server.url(&base)).await;
    assert_eq!(status["steps_run"], 0, "{status}");
    // One step: exactly one, and drill time is its time.
    let stepped: Value = server
        .post(&format!("{base}/clock"), &json!({"action": "step"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stepped["steps_run"], 1, "{stepped}");
    assert_eq!(stepped["state"], "paused", "{stepped}");
    // Seek to +00:45: the steps at 00:20, 00:30 and both at 00:40 run.
    let sought: Value = server
        .post(
            &format!("{base}/clock"),
            &json!({"action": "seek", "to": "2026-03-02T00:45:00Z"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sought["drill_time"], "2026-03-02T00:45:00Z", "{sought}");
    assert_eq!(sought["steps_run"], 5, "{sought}");
    assert_eq!(sought["state"], "paused", "{sought}");
    let status = sought;
    // A trainee's command is stamped with drill time, not wall time.
    let drill_time = status["drill_time"].as_str().unwrap().to_owned();
    let other = ercs_seed::inventory::seed_id(OTHER_TEAM_KEY);
    let mobilise: Value = server
        .post(
            &format!("{base}/teams/{other}/mark_unavailable"),
            &json!({"reason": "演练"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let at = mobilise["events"][0]["data"]["at"].as_str().unwrap();
    assert_eq!(at, drill_time, "{mobilise}");
    // Back to 00:25: the sandbox is rebuilt to that point. The trainee's
    // command and the steps after 00:25 never happened; the drill goes on
    // from the step at 00:30.
    let back = server
        .post(
            &format!("{base}/clock"),
            &json!({"action": "seek", "to": "2026-03-02T00:25:00Z"}),
        )
        .await;
    assert_eq!(back.status(), 200);
    let back: Value = back.json().await.unwrap();
    assert_eq!(back["drill_time"], "2026-03-02T00:25:00Z", "{back}");
    assert_eq!(back["steps_run"], 2, "{back}");
    assert_eq!(back["state"], "paused", "{back}");
    let other_base = format!("{base}/teams/{other}");
    let (_, team) = server.get(&server.url(&other_base)).await;
    assert_eq!(team["status"], "standby", "{team}");
    let (_, incidents) = server.get(&server.url(&format!("{base}/incidents"))).await;
    assert_eq!(
        incidents["items"].as_array().unwrap().len(),
        1,
        "{incidents}"
    );
    // And forward again: the same steps run again, none refused.
    let again: Value = server
        .post(
            &format!("{base}/clock"),
            &json!({"action": "seek", "to": "2026-03-02T00:45:00Z"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["steps_run"], 5, "{again}");
    assert_eq!(again["refused"].as_array().unwrap().len(), 0, "{again}");
    // Seek to a position of the drill's log: to the drill time of its event.
    let marked: Value = server
        .post(
            &format!("{other_base}/mark_unavailable"),
            &json!({"reason": "演练"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let position = marked["position"].as_u64().unwrap();
    let later: Value = server
        .post(
            &format!("{base}/clock"),
            &json!({"action": "seek", "to": "2026-03-02T01:10:00Z"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(later["steps_run"], 6, "{later}");
    let landed: Value = server
        .post(
            &format!("{base}/clock"),
            &json!({"action": "seek_position", "position": position}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(landed["drill_time"], "2026-03-02T00:45:00Z", "{landed}");
    assert_eq!(landed["steps_run"], 5, "{landed}");
    let (_, team) = server.get(&server.url(&other_base)).await;
    assert_eq!(
        team["status"], "unavailable",
        "the event at the position is kept: {team}"
    );
    let nowhere = server
        .post(
            &format!("{base}/clock"),
            &json!({"action": "seek_position", "position": 999_999_999}),
        )
        .await;
    assert_eq!(nowhere.status(), 422);
    // Before the drill's start is refused, naming the field.
    let early = server
        .post(
            &format!("{base}/clock"),
            &json!({"action": "seek", "to": "2026-03-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(early.status(), 422);
    let early: Value = early.json().await.unwrap();
    assert_eq!(early["field"], "to");
    // A bad speed is a 422 naming `speed`.
    let fast = server
        .post(
            &format!("{base}/clock"),
            &json!({"action": "speed", "speed": 0}),
        )
        .await;
    assert_eq!(fast.status(), 422);
}

#[actix_web::test]
async fn a_drill_from_the_seed_runs_as_fast_as_possible_and_reports() {
    let server = TestServer::seeded().await;
    let drill = start(&server, json!({"script": WANZHOU, "speed": "max"})).await;
    let id = drill["drill"].as_str().unwrap();
    let base = format!("/api/v1/drills/{id}");
    let status = eventually(&server, &base, |s| s["state"] == "finished").await;
    assert_eq!(status["steps_run"], status["steps"], "{status}");
    assert_eq!(status["refused"].as_array().unwrap().len(), 0, "{status}");
    let (code, report) = server.get(&server.url(&format!("{base}/report"))).await;
    assert_eq!(code, 200, "{report}");
    let expectations = report["report"]["expectations"].as_array().unwrap();
    assert_eq!(expectations.len(), 2, "{report}");
    // No trainee approved a plan after the inject that was never fired, and
    // nobody deployed the team: the first is not started, the second missed,
    // which fired its contingency inject.
    let by_name = |name: &str| {
        expectations
            .iter()
            .find(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {report}"))
            .clone()
    };
    assert_eq!(by_name("negative-beds-planned")["status"], "not_started");
    assert_eq!(by_name("team-on-scene")["status"], "missed");
    let fired = report["report"]["fired"].as_array().unwrap();
    assert!(
        fired.iter().any(|f| f["inject"] == "team-delayed"),
        "{report}"
    );
    // The after-action report: the script's steps in the timeline, every
    // demand the script recorded with when, and a printable page.
    let after = &report["after_action"];
    let timeline = after["timeline"].as_array().unwrap();
    assert!(timeline.len() >= 47, "{}", timeline.len());
    assert!(!after["demands"].as_array().unwrap().is_empty(), "{after}");
    let page = server
        .client
        .get(server.url(&format!("{base}/report?format=html")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = page.text().await.unwrap();
    assert!(
        page.contains("演练评估报告") && page.contains("lang=\"zh-CN\""),
        "{page}"
    );
    // Two runs of the script side by side; another script does not compare.
    let other_run = start(
        &server,
        json!({"script": WANZHOU, "from": {"live": {}}, "speed": "max"}),
    )
    .await;
    let other_id = other_run["drill"].as_str().unwrap();
    eventually(&server, &format!("/api/v1/drills/{other_id}"), |s| {
        s["state"] == "finished"
    })
    .await;
    let (code, compared) = server
        .get(&server.url(&format!("{base}/report?compare={other_id}")))
        .await;
    assert_eq!(code, 200, "{compared}");
    assert!(compared["compared_with"].is_object(), "{compared}");
    let elsewhere = start(
        &server,
        json!({"script": "changshou-chemical-poisoning", "from": {"live": {}}, "paused": true}),
    )
    .await;
    let (code, refused) = server
        .get(&server.url(&format!(
            "{base}/report?compare={}",
            elsewhere["drill"].as_str().unwrap()
        )))
        .await;
    assert_eq!(code, 422, "{refused}");
    assert_eq!(refused["field"], "compare");
    // The director fires the script's inject once; twice is a 409.
    let inject = server
        .post(
            &format!("{base}/injects"),
            &json!({"inject": "nosocomial-cluster"}),
        )
        .await;
    assert_eq!(inject.status(), 200);
    let again = server
        .post(
            &format!("{base}/injects"),
            &json!({"inject": "nosocomial-cluster"}),
        )
        .await;
    assert_eq!(again.status(), 409);
    let unknown = server
        .post(
            &format!("{base}/injects"),
            &json!({"inject": "no-such-inject"}),
        )
        .await;
    assert_eq!(unknown.status(), 422);
    let free = server
        .post(
            &format!("{base}/injects"),
            &json!({"label": "媒体询问发热门诊排队情况"}),
        )
        .await;
    assert_eq!(free.status(), 200);
    let free: Value = free.json().await.unwrap();
    assert_eq!(free["free_injects"][0]["label"], "媒体询问发热门诊排队情况");
    // Deleted, it is gone with its sandbox.
    let deleted = server
        .client
        .delete(server.url(&base))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (code, gone) = server.get(&server.url(&base)).await;
    assert_eq!(code, 404);
    assert_eq!(problem_type(&gone), "unknown-drill");
    let (code, _) = server.get(&server.url(&format!("{base}/teams"))).await;
    assert_eq!(code, 404);
    assert!(!server.dir.path().join("drills").join(id).exists());
}

#[actix_web::test]
async fn live_roles_stay_out_of_a_drill_unless_let_in_and_drill_roles_stay_out_of_live() {
    let server = TestServer::seeded().await;
    let as_role = |role: Role| {
        reqwest::Client::builder()
            .default_headers(bearer(role))
            .build()
            .unwrap()
    };
    // Only a director (or an admin) starts a drill.
    let refused = as_role(Role::CityCommander)
        .post(server.url("/api/v1/drills"))
        .json(&json!({"script": WANZHOU, "from": {"live": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(problem_type(&refused), "director-only");
    let director = as_role(Role::DrillDirector);
    let started = director
        .post(server.url("/api/v1/drills"))
        .json(&json!({"script": WANZHOU, "from": {"live": {}}, "paused": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 201);
    let drill: Value = started.json().await.unwrap();
    let base = format!("/api/v1/drills/{}", drill["drill"].as_str().unwrap());
    let root = server.base.clone();
    let mobilise = |client: reqwest::Client, base: String| {
        let root = root.clone();
        async move {
            client
                .post(format!("{root}{base}/teams/{}/mark_unavailable", team_id()))
                .json(&json!({"reason": "演练"}))
                .send()
                .await
                .unwrap()
        }
    };
    // A live dispatcher is kept out of the drill, reads included.
    let outsider = as_role(Role::CityCommander);
    let response = mobilise(outsider.clone(), base.clone()).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(problem_type(&body), "not-in-drill");
    let read = outsider
        .get(server.url(&format!("{base}/teams")))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 403);
    // A drill player commands inside the drill, never on the live network.
    let player = reqwest::Client::builder()
        .default_headers({
            let mut headers = reqwest::header::HeaderMap::new();
            let token = development::token_for(
                "trainee-1",
                "万州区演练参演员",
                Role::DrillPlayer,
                "500101",
            );
            headers.insert(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {token}").parse().unwrap(),
            );
            headers
        })
        .build()
        .unwrap();
    let inside = mobilise(player.clone(), base.clone()).await;
    assert_eq!(inside.status(), 200, "{}", inside.text().await.unwrap());
    let live = mobilise(player.clone(), "/api/v1".into()).await;
    assert_eq!(live.status(), 403);
    let live: Value = live.json().await.unwrap();
    assert_eq!(problem_type(&live), "drill-role-on-live-network");
    // A player steers no clock.
    let steer = player
        .post(server.url(&format!("{base}/clock")))
        .json(&json!({"action": "resume"}))
        .send()
        .await
        .unwrap();
    assert_eq!(steer.status(), 403);
    // A dashboard reads the drill and writes nothing there.
    let viewer = as_role(Role::Viewer);
    let read = viewer
        .get(server.url(&format!("{base}/network")))
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let write = mobilise(viewer, base.clone()).await;
    assert_eq!(write.status(), 403);
}

#[actix_web::test]
async fn a_live_account_listed_as_participant_plays_in_the_drill() {
    let server = TestServer::seeded().await;
    let subject = "wanzhou-dispatcher";
    let token = development::token_for(subject, "万州区调度员", Role::DistrictDispatcher, "500101");
    let drill = start(
        &server,
        json!({"script": WANZHOU, "from": {"live": {}}, "paused": true, "participants": [subject]}),
    )
    .await;
    let base = format!("/api/v1/drills/{}", drill["drill"].as_str().unwrap());
    let response = server
        .client
        .post(server.url(&format!("{base}/teams/{}/mark_unavailable", team_id())))
        .bearer_auth(&token)
        .json(&json!({"reason": "演练"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[actix_web::test]
async fn bad_drill_requests_name_the_field_and_make_nothing() {
    let server = TestServer::seeded().await;
    for (body, field) in [
        (json!({"script": "no-such-drill"}), "script"),
        (json!({}), "script"),
        (json!({"script": WANZHOU, "speed": -1}), "speed"),
        (json!({"script_body": {"id": "x"}}), "script_body"),
        (
            json!({"script": WANZHOU, "from": {"live": {"position": 999_999_999}}}),
            "from.live.position",
        ),
    ] {
        let response = server.post("/api/v1/drills", &body).await;
        assert_eq!(response.status(), 422, "{body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["field"], field, "{problem}");
    }
    let (_, list) = server.get(&server.url("/api/v1/drills")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
    let drills = server.dir.path().join("drills");
    let left = std::fs::read_dir(&drills).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "a refused drill left a sandbox behind");
    let (code, problem) = server
        .get(&server.url("/api/v1/drills/no-such-drill/teams"))
        .await;
    assert_eq!(code, 404);
    assert_eq!(problem_type(&problem), "unknown-drill");
}

#[tokio::test]
async fn drills_survive_a_restart_of_the_service_paused_where_they_stood() {
    use support::served::serve_on;
    let data = support::seeded_copy();
    let client = reqwest::Client::builder()
        .default_headers(bearer(Role::DrillDirector))
        .build()
        .unwrap();
    let mut served = serve_on(data.path(), &[]);
    served.ready().await;
    let started: Value = client
        .post(served.url("/api/v1/drills"))
        .json(&json!({"script": WANZHOU, "from": {"live": {}}, "paused": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = started["drill"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/drills/{id}");
    for _ in 0..2 {
        let stepped = client
            .post(served.url(&format!("{base}/clock")))
            .json(&json!({"action": "step"}))
            .send()
            .await
            .unwrap();
        assert_eq!(stepped.status(), 200);
    }
    // The command line lists it, and leaves it to the service to delete.
    let cli = |args: &[&str]| {
        support::served::ercs()
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .output()
            .unwrap()
    };
    let listed = cli(&["drill", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains(&id) && listed.contains("服务托管"),
        "{listed}"
    );
    let delete = cli(&["drill", "delete", &id]);
    assert!(!delete.status.success());
    assert!(String::from_utf8_lossy(&delete.stderr).contains("DELETE /api/v1/drills/"));
    served.terminate();
    // As a crash in the middle of a rewind would leave it: the old sandbox
    // moved aside, the new one half made. The drill comes back as it was.
    let drills = data.path().join("drills");
    std::fs::rename(drills.join(&id), drills.join(format!("{id}.retired"))).unwrap();
    std::fs::create_dir(drills.join(format!("{id}.rewinding"))).unwrap();
    let served = serve_on(data.path(), &[]);
    served.ready().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let restored = loop {
        let response = client.get(served.url(&base)).send().await.unwrap();
        if response.status() == 200 {
            break response.json::<Value>().await.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the drill never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(restored["steps_run"], 2, "{restored}");
    assert!(!drills.join(format!("{id}.rewinding")).exists());
    assert!(!drills.join(format!("{id}.retired")).exists());
    assert_eq!(restored["state"], "paused", "{restored}");
    // Its network is there, and the script goes on from the third step.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let response = client
            .get(served.url(&format!("{base}/incidents")))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        if body["items"]
            .as_array()
            .is_some_and(|items| items.len() == 1)
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stepped: Value = client
        .post(served.url(&format!("{base}/clock")))
        .json(&json!({"action": "step"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stepped["steps_run"], 3, "{stepped}");
    assert_eq!(stepped["refused"].as_array().unwrap().len(), 0, "{stepped}");
}

/// The live network's changes to one team and one more, for a replay.
async fn record_live_changes(server: &TestServer) -> (u64, u64) {
    let from = server.head().await;
    let other = ercs_seed::inventory::seed_id(OTHER_TEAM_KEY);
    for path in [
        format!("/api/v1/teams/{}/mark_unavailable", team_id()),
        format!("/api/v1/teams/{other}/mark_unavailable"),
        format!("/api/v1/teams/{}/mark_available", team_id()),
    ] {
        let body = if path.ends_with("mark_available") {
            json!({})
        } else {
            json!({"reason": "车辆检修"})
        };
        let response = server.post(&path, &body).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    (from, server.head().await)
}

/// The network's teams by status, and the two teams the replay changes, as
/// they stand (what bed and stock rollups say depends on each network's
/// "now", which in a drill is its own drill time).
async fn network_of(server: &TestServer, base: &str) -> Value {
    let (status, network) = server.get(&server.url(&format!("{base}/network"))).await;
    assert_eq!(status, 200, "{network}");
    let mut teams = Vec::new();
    for id in [
        team_id(),
        ercs_seed::inventory::seed_id(OTHER_TEAM_KEY).to_string(),
    ] {
        let (_, mut team) = server.get(&server.url(&format!("{base}/teams/{id}"))).await;
        // When the sandbox recorded the change is its wall time, not the
        // network's: left out (the revision stays).
        team.as_object_mut().unwrap().remove("drill");
        team["mark"].as_object_mut().unwrap().remove("at");
        teams.push(team);
    }
    json!({"rollup": network["teams"], "teams": teams})
}

#[actix_web::test]
async fn a_recorded_range_of_the_live_log_replays_as_it_happened_at_any_speed() {
    let server = TestServer::seeded().await;
    let (from, to) = record_live_changes(&server).await;
    let live_events = server.events_in_log();
    // One event at a time, from the live network just before the range.
    let stepped = start(
        &server,
        json!({"replay": {"from": from, "to": to}, "paused": true}),
    )
    .await;
    assert_eq!(
        stepped["steps"], 0,
        "a replay has no script step: {stepped}"
    );
    let base = format!("/api/v1/drills/{}", stepped["drill"].as_str().unwrap());
    assert_eq!(team_status(&server, &base).await, "standby");
    let one: Value = server
        .post(&format!("{base}/clock"), &json!({"action": "step"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["state"], "paused", "{one}");
    eventually(&server, &format!("{base}/teams/{}", team_id()), |t| {
        t["status"] == "unavailable"
    })
    .await;
    let other = ercs_seed::inventory::seed_id(OTHER_TEAM_KEY);
    let (_, team) = server
        .get(&server.url(&format!("{base}/teams/{other}")))
        .await;
    assert_eq!(team["status"], "standby", "only one event replayed: {team}");
    // The whole range, as fast as possible and at 3,600×: the same network,
    // which is the live one at the range's end.
    let fast = start(
        &server,
        json!({"replay": {"from": from, "to": to}, "speed": "max"}),
    )
    .await;
    let timed = start(
        &server,
        json!({"replay": {"from": from, "to": to}, "speed": 3600}),
    )
    .await;
    let mut views = Vec::new();
    for drill in [&fast, &timed] {
        let base = format!("/api/v1/drills/{}", drill["drill"].as_str().unwrap());
        eventually(&server, &base, |s| s["state"] == "finished").await;
        // The view has applied what was replayed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        views.push(network_of(&server, &base).await);
        assert_eq!(team_status(&server, &base).await, "standby");
        let (_, team) = server
            .get(&server.url(&format!("{base}/teams/{other}")))
            .await;
        assert_eq!(team["status"], "unavailable", "{team}");
    }
    assert!(views[0] == views[1], "two speeds, two views");
    assert!(
        views[0] == network_of(&server, "/api/v1").await,
        "the replay does not end where live is"
    );
    // Replaying wrote nothing to the live log.
    assert_eq!(server.events_in_log(), live_events);
    // The same range by time: the events recorded from the first one's time
    // until the last one's.
    let (_, trail) = server
        .get(&server.url(&format!("/api/v1/audit?after={from}&limit=10")))
        .await;
    let recorded = |position: u64| {
        trail["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["position"] == position)
            .map(|e| e["recorded_at"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("{position}: {trail}"))
    };
    let by_time = start(
        &server,
        json!({"replay": {"since": recorded(from + 1), "until": recorded(to)}, "paused": true}),
    )
    .await;
    assert_eq!(
        by_time["replay"],
        json!({"from": from, "to": to, "next": from + 1}),
        "{by_time}"
    );
    // A range beyond the head, or holding nothing, is refused naming the field.
    for (range, field) in [
        (json!({"from": from, "to": to + 1000}), "replay.to"),
        (json!({"from": to, "to": to}), "replay.from"),
    ] {
        let response = server
            .post("/api/v1/drills", &json!({"replay": range}))
            .await;
        assert_eq!(response.status(), 422);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["field"], field, "{problem}");
    }
}

/// Every row of a drill's sandbox log, every column.
fn sandbox_rows(server: &TestServer, drill: &str) -> Vec<Vec<String>> {
    let path = server
        .dir
        .path()
        .join("drills")
        .join(drill)
        .join("events.db");
    let db = rusqlite::Connection::open(path).unwrap();
    let mut query = db
        .prepare(
            "SELECT position, stream, revision, hex(event_id), event_type, data, metadata, recorded_at \
             FROM events ORDER BY position",
        )
        .unwrap();
    query
        .query_map([], |row| {
            (0..8)
                .map(|i| {
                    row.get::<_, rusqlite::types::Value>(i)
                        .map(|v| format!("{v:?}"))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[actix_web::test]
async fn the_same_script_and_the_same_trainee_commands_at_the_same_drill_times_record_the_same_log()
{
    let server = TestServer::seeded().await;
    let mut drills = Vec::new();
    for _ in 0..2 {
        let id = paused_copy(&server).await;
        let base = format!("/api/v1/drills/{id}");
        let clock = |body: Value| {
            let (server, base) = (&server, base.clone());
            async move {
                let response = server.post(&format!("{base}/clock"), &body).await;
                assert_eq!(response.status(), 200);
            }
        };
        for _ in 0..3 {
            clock(json!({"action": "step"})).await;
        }
        // A trainee, keyed as a client should: a team out of service, and a
        // plan for the incident the script declared, proposed and approved.
        let other = ercs_seed::inventory::seed_id(OTHER_TEAM_KEY);
        let marked = server
            .post_keyed(
                &format!("{base}/teams/{other}/mark_unavailable"),
                "trainee-1",
                &json!({"reason": "车辆检修"}),
            )
            .await;
        assert_eq!(marked.status(), 200);
        let (_, incidents) = server.get(&server.url(&format!("{base}/incidents"))).await;
        let incident = incidents["items"][0]["id"].as_str().unwrap().to_owned();
        let proposed = server
            .post_keyed(
                &format!("{base}/plans"),
                "trainee-2",
                &json!({"incident": incident}),
            )
            .await;
        assert_eq!(proposed.status(), 201);
        let plan: Value = proposed.json().await.unwrap();
        let approved = server
            .post_keyed(
                &format!("{base}/plans/{}/approve", plan["id"].as_str().unwrap()),
                "trainee-3",
                &json!({"partial": true}),
            )
            .await;
        assert_eq!(approved.status(), 200, "{}", approved.text().await.unwrap());
        clock(json!({"action": "seek", "to": "2026-03-02T01:00:00Z"})).await;
        drills.push(id);
    }
    let (first, second) = (
        sandbox_rows(&server, &drills[0]),
        sandbox_rows(&server, &drills[1]),
    );
    assert!(
        first.len() > 4416,
        "the drill wrote its steps: {}",
        first.len()
    );
    assert_eq!(first.len(), second.len());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a, b, "the two runs' logs differ");
    }
}

#[actix_web::test]
async fn a_replica_hosts_at_most_max_drills_at_once() {
    let ops = ercs_server::cli::OpsArgs {
        max_drills: 1,
        ..ercs_server::cli::OpsArgs::default()
    };
    let open: support::OpenLog =
        Box::new(|dir| std::sync::Arc::new(ercs_server::startup::open_log(dir).unwrap()));
    let server = TestServer::on_log(support::seeded_copy(), open, ops).await;
    let first = paused_copy(&server).await;
    let body = json!({"script": WANZHOU, "from": {"live": {}}, "paused": true});
    let refused = server.post("/api/v1/drills", &body).await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem_type(&problem), "too-many-drills");
    let deleted = server
        .client
        .delete(server.url(&format!("/api/v1/drills/{first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(server.post("/api/v1/drills", &body).await.status(), 201);
}
