//! `kill -9` of the real `ercs serve` at arbitrary moments while dispatchers send
//! keyed commands and approve plans; after each restart every unanswered request
//! is retried with its key. Counting the log's events afterwards shows that each
//! command and each dispatch step took effect exactly once.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use support::served::{Served, admin_client, serve_on};

const CLIENTS: usize = 8;
const TRIALS: u64 = 6;

/// A keyed request and whether its answer was seen.
struct Sent {
    path: String,
    body: Value,
    answered: bool,
}

async fn get(served: &Served, path: &str) -> Value {
    admin_client()
        .get(served.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// POSTs `body` with an optional key; `None` when the server did not answer.
async fn post(
    served: &Served,
    path: &str,
    key: Option<&str>,
    body: &Value,
) -> Option<(u16, Value)> {
    let mut request = admin_client().post(served.url(path)).json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.ok()?))
}

fn report(occupied: u32) -> Value {
    json!({
        "bed_type": "general_isolation", "class": "designated",
        "counts": {"total": 80, "staffed": 70, "occupied": occupied},
        "lead_time_minutes": 0
    })
}

/// Dispatchers send bed reports, each with a fresh key, until the server is
/// killed after `kill_after`; returns every request sent, answered or not.
async fn report_until_killed(
    served: Served,
    trial: u64,
    facilities: &[String],
    kill_after: Duration,
) -> BTreeMap<String, Sent> {
    let sent = Arc::new(Mutex::new(BTreeMap::new()));
    let clients: Vec<_> = facilities
        .iter()
        .enumerate()
        .map(|(c, facility)| {
            let (sent, base) = (Arc::clone(&sent), served.base.clone());
            let path = format!("/api/v1/facilities/{facility}/report");
            tokio::spawn(async move {
                let client = admin_client();
                for n in 0u32.. {
                    let key = format!("kill-{trial}-{c}-{n}");
                    let body = report(n % 70);
                    sent.lock().unwrap().insert(
                        key.clone(),
                        Sent {
                            path: path.clone(),
                            body: body.clone(),
                            answered: false,
                        },
                    );
                    let answer = client
                        .post(format!("{base}{path}"))
                        .header("Idempotency-Key", &key)
                        .json(&body)
                        .send()
                        .await;
                    match answer {
                        Ok(answer) if answer.status() == 200 => {
                            sent.lock().unwrap().get_mut(&key).unwrap().answered = true;
                        }
                        Ok(answer) => panic!("{key}: {}", answer.status()),
                        Err(_) => return, // the server is gone
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(kill_after).await;
    served.kill();
    for client in clients {
        client.await.unwrap();
    }
    Arc::try_unwrap(sent).ok().unwrap().into_inner().unwrap()
}

fn log(data_dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        data_dir.join("events.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_retried_after_kill_9_at_any_moment_are_applied_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let served = serve_on(&data, &["--seed", "chongqing"]);
    let head = served.ready().await;
    let page = get(
        &served,
        &format!("/api/v1/facilities?limit={CLIENTS}&min_position={head}"),
    )
    .await;
    let facilities: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    let mut served = Some(served);
    let mut all = BTreeMap::new();
    let mut unanswered = 0;
    for trial in 0..TRIALS {
        // Kill at a different moment in each trial: 50 ms to 550 ms in.
        let kill_after = Duration::from_millis(50 + (trial * 97) % 500);
        let sent =
            report_until_killed(served.take().unwrap(), trial, &facilities, kill_after).await;
        let restarted = serve_on(&data, &[]);
        for (key, request) in &sent {
            let answer = post(&restarted, &request.path, Some(key), &request.body).await;
            assert_eq!(answer.map(|(status, _)| status), Some(200), "{key} retried");
            unanswered += usize::from(!request.answered);
        }
        all.extend(sent);
        served = Some(restarted);
    }
    served.take().unwrap().kill();
    let db = log(&data);
    for key in all.keys() {
        let applied = count(
            &db,
            "json_extract(metadata, '$.idempotency_key') LIKE '%/' || ?1",
            key,
        );
        assert_eq!(applied, 1, "{key}");
    }
    eprintln!(
        "{} keyed reports over {TRIALS} kills, {unanswered} of them unanswered when the server died: each in the log exactly once",
        all.len()
    );
    assert!(
        unanswered > 0,
        "no kill fell between a request and its answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_killed_mid_way_and_retried_dispatches_each_step_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut served = serve_on(&data, &["--seed", "chongqing"]);
    let mut cut_short = 0;
    for trial in 0..12u64 {
        if trial >= 3 && cut_short > 0 {
            break;
        }
        let incident = format!("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c{trial:02}");
        let declared = post(
            &served,
            "/api/v1/incidents",
            None,
            &json!({
                "incident_id": incident, "kind": "infectious_disease", "level": "II",
                "title": "万州区呼吸道传染病聚集性疫情", "affected_areas": ["500101"]
            }),
        )
        .await;
        assert_eq!(declared.map(|(s, _)| s), Some(201));
        for (command, body) in [
            (
                "record_bed_demand",
                json!({"bed_type": "general_isolation", "township": "500101001", "beds": 400}),
            ),
            (
                "record_supply_demand",
                json!({"item": "N95", "area": "500101", "quantity": 20000}),
            ),
            (
                "record_team_demand",
                json!({"kind": "medical_rescue", "teams": 4}),
            ),
        ] {
            let recorded = post(
                &served,
                &format!("/api/v1/incidents/{incident}/{command}"),
                None,
                &body,
            )
            .await;
            assert_eq!(recorded.map(|(s, _)| s), Some(200), "{command}");
        }
        let head = served.ready().await;
        let (status, proposed) = post(
            &served,
            &format!("/api/v1/plans?min_position={head}"),
            None,
            &json!({"incident": incident}),
        )
        .await
        .unwrap();
        assert_eq!(status, 201, "{proposed}");
        let plan = proposed["id"].as_str().unwrap().to_owned();
        let assignments = proposed["record"]["plan"]["assignments"]
            .as_array()
            .unwrap()
            .len() as u64;

        let approve = format!("/api/v1/plans/{plan}/approve");
        let base = served.base.clone();
        let pressing = tokio::spawn(async move {
            admin_client()
                .post(format!("{base}{approve}"))
                .json(&json!({}))
                .send()
                .await
                .ok()
                .map(|r| r.status().as_u16())
        });
        // Kill once the approval has begun dispatching (its first step is in the
        // log), a little later in each trial.
        let begun = tokio::time::Instant::now() + Duration::from_secs(20);
        while count(
            &log(&data),
            "json_extract(metadata, '$.plan_id') = ?1",
            &plan,
        ) == 0
            && tokio::time::Instant::now() < begun
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(trial)).await;
        served.kill();
        let first = pressing.await.unwrap();
        let dispatched_before = count(
            &log(&data),
            "json_extract(metadata, '$.plan_id') = ?1",
            &plan,
        );

        served = serve_on(&data, &[]);
        // A retry before the restarted view has caught up is a 503 "retry
        // shortly"; the dispatcher retries once it is ready.
        served.ready().await;
        let (status, approved) = post(
            &served,
            &format!("/api/v1/plans/{plan}/approve"),
            None,
            &json!({}),
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{approved}");
        let db = log(&data);
        let dispatched = count(&db, "json_extract(metadata, '$.plan_id') = ?1", &plan);
        let dispatches = approved["record"]["approval"]["dispatches"]
            .as_array()
            .unwrap();
        let done = dispatches
            .iter()
            .filter(|d| d["outcome"] == "dispatched")
            .count() as u64;
        assert_eq!(dispatched, done, "each dispatched step is in the log once");
        assert_eq!(dispatches.len() as u64, assignments);
        assert_eq!(
            count(
                &db,
                "stream = 'plan-' || ?1 AND event_type = 'PlanApproved'",
                &plan
            ),
            1
        );
        eprintln!(
            "trial {trial}: first approval answered {first:?}; {dispatched_before} of {assignments} steps in the log at the kill; {dispatched} after the retry"
        );
        cut_short += usize::from(dispatched_before > 0 && dispatched_before < dispatched);
    }
    served.kill();
    assert!(cut_short > 0, "no kill fell in the middle of an approval");
}

fn count(db: &rusqlite::Connection, condition: &str, value: &str) -> u64 {
    db.query_row(
        &format!("SELECT count(*) FROM events WHERE {condition}"),
        [value],
        |row| row.get::<_, i64>(0),
    )
    .unwrap() as u64
}
