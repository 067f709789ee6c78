//! Two `ercs serve` replicas on one PostgreSQL database, as an operator runs them:
//! dispatchers write through both at once, to the same facilities, and one replica
//! is killed mid-way. Every request it left unanswered is retried, with its key,
//! through the other. Afterwards each command is in the log exactly once, and the
//! surviving replica's view equals a view rebuilt from the log by a new replica.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ercs_eventlog::{Direction, EventLog, Filter, ReadFrom};
use ercs_eventlog_postgres::PostgresEventLog;
use ercs_eventlog_postgres::testing::{Database, cluster};
use serde_json::{Value, json};
use support::served::{Served, admin_client, serve_on};

const CLIENTS: usize = 8;
const FACILITIES: usize = 4;
const PER_CLIENT: u32 = 40;

fn report(occupied: u32) -> Value {
    json!({
        "bed_type": "general_isolation", "class": "designated",
        "counts": {"total": 80, "staffed": 70, "occupied": occupied},
        "lead_time_minutes": 0
    })
}

/// A keyed request, and whether its answer was seen.
struct Sent {
    path: String,
    body: Value,
    answered: bool,
}

/// POSTs until a final answer: a 409 (another replica wrote the stream first)
/// is retried with the same key, as a client does. `None`: the replica is gone.
async fn post(base: &str, path: &str, key: &str, body: &Value) -> Option<u16> {
    for _ in 0..50 {
        let response = admin_client()
            .post(format!("{base}{path}"))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .ok()?;
        match response.status().as_u16() {
            409 => tokio::time::sleep(Duration::from_millis(10)).await,
            status => return Some(status),
        }
    }
    panic!("{key}: still conflicting after 50 tries");
}

/// The shared log, and every event in it.
async fn whole_log(url: &str) -> (PostgresEventLog, Vec<ercs_eventlog::RecordedEvent>) {
    let log = PostgresEventLog::connect(url).await.unwrap();
    let events = log
        .read_all(
            ReadFrom::Start,
            Direction::Forwards,
            &Filter::all(),
            usize::MAX,
        )
        .await
        .unwrap();
    (log, events)
}

async fn get(served: &Served, path: &str) -> Value {
    let response = admin_client().get(served.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

/// A view without what depends on the instant it was read at: the time, and
/// the age of each stale report (two reads a moment apart may straddle a
/// minute).
async fn view(served: &Served, path: &str) -> Value {
    let mut body = get(served, path).await;
    if let Some(fields) = body.as_object_mut() {
        fields.remove("at");
        if let Some(Value::Array(stale)) = fields.get_mut("stale_reports") {
            for report in stale.iter_mut().filter_map(Value::as_object_mut) {
                report.remove("age_minutes");
            }
        }
    }
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_postgres_apply_each_command_once_and_agree() {
    let (url, _database) = cluster().fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let first = serve_on(
        &dir.path().join("a"),
        &["--store", &url, "--seed", "chongqing"],
    );
    let seeded = first.ready().await;
    let second = serve_on(&dir.path().join("b"), &["--store", &url]);
    assert_eq!(
        second.ready().await,
        seeded,
        "the second replica reads the same log"
    );
    let page = get(
        &first,
        &format!("/api/v1/facilities?limit={FACILITIES}&min_position={seeded}"),
    )
    .await;
    let facilities: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();

    // Client c writes through replica c % 2 to facility c % 4: each facility is
    // written through both replicas at once.
    let sent = Arc::new(Mutex::new(BTreeMap::new()));
    let bases = [first.base.clone(), second.base.clone()];
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (sent, base) = (Arc::clone(&sent), bases[c % 2].clone());
            let path = format!("/api/v1/facilities/{}/report", facilities[c % FACILITIES]);
            tokio::spawn(async move {
                for n in 0..PER_CLIENT {
                    let key = format!("replica-{c}-{n}");
                    let body = report(n % 70);
                    let request = Sent {
                        path: path.clone(),
                        body: body.clone(),
                        answered: false,
                    };
                    sent.lock().unwrap().insert(key.clone(), request);
                    match post(&base, &path, &key, &body).await {
                        Some(200) => sent.lock().unwrap().get_mut(&key).unwrap().answered = true,
                        Some(status) => panic!("{key}: {status}"),
                        None => return, // the replica is gone
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(400)).await;
    first.kill();
    for client in clients {
        client.await.unwrap();
    }

    let sent = Arc::try_unwrap(sent).ok().unwrap().into_inner().unwrap();
    let unanswered = sent.values().filter(|s| !s.answered).count();
    for (key, request) in &sent {
        let status = post(&second.base, &request.path, key, &request.body).await;
        assert_eq!(
            status,
            Some(200),
            "{key} retried through the surviving replica"
        );
    }
    assert!(
        unanswered > 0,
        "the kill came after every request was answered"
    );

    let (log, events) = whole_log(&url).await;
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    for event in &events {
        let metadata: Value = event.metadata.deserialize().unwrap();
        if let Some(key) = metadata["idempotency_key"]
            .as_str()
            .and_then(|k| k.rsplit('/').next())
            && key.starts_with("replica-")
        {
            *applied.entry(key.to_owned()).or_default() += 1;
        }
    }
    for key in sent.keys() {
        assert_eq!(
            applied.get(key),
            Some(&1),
            "{key} is in the log exactly once"
        );
    }
    assert_eq!(applied.len(), sent.len(), "and nothing else was applied");

    // A new replica rebuilds its view from the log alone; the survivor's view,
    // which followed the log live, must be the same.
    let head = log.head().await.unwrap().0;
    let rebuilt = serve_on(&dir.path().join("c"), &["--store", &url]);
    assert_eq!(rebuilt.ready().await, head);
    for path in std::iter::once("/api/v1/network".to_owned())
        .chain(facilities.iter().map(|f| format!("/api/v1/facilities/{f}")))
    {
        let at = format!(
            "{path}{}min_position={head}",
            if path.contains('?') { "&" } else { "?" }
        );
        let (live, from_log) = (view(&second, &at).await, view(&rebuilt, &at).await);
        let differing: Vec<&String> = live
            .as_object()
            .map(|fields| {
                fields
                    .iter()
                    .filter(|(k, v)| from_log.get(k.as_str()) != Some(*v))
                    .map(|(k, _)| k)
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            live == from_log,
            "{path} differs in {differing:?}:\n{live}\n{from_log}"
        );
    }
    eprintln!(
        "{} keyed reports through two replicas, {unanswered} unanswered when one was killed: each applied once",
        sent.len()
    );
}

/// Two replicas on a fresh database, the first of which seeded it; both ready.
struct Replicas {
    first: Served,
    second: Served,
    url: String,
    _database: Database,
    _dir: tempfile::TempDir,
}

async fn two_replicas() -> Replicas {
    let (url, database) = cluster().fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let first = serve_on(
        &dir.path().join("a"),
        &["--store", &url, "--seed", "chongqing"],
    );
    first.ready().await;
    let second = serve_on(&dir.path().join("b"), &["--store", &url]);
    second.ready().await;
    Replicas {
        first,
        second,
        url,
        _database: database,
        _dir: dir,
    }
}

/// One plan approved through both replicas at once, as two dispatchers at two
/// consoles press the same button: the approval is recorded once and each of
/// its dispatches is in the log once, whichever replica took each step. The
/// steps are idempotent (keyed `plan/<id>/…` in the shared store), and the
/// approval itself is an append at the plan stream's revision: no lease.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_plan_approved_through_both_replicas_at_once_dispatches_each_step_once() {
    let Replicas {
        first,
        second,
        url,
        _database,
        ..
    } = two_replicas().await;

    let incident = uuid::Uuid::new_v4().to_string();
    let send = |base: &str, path: &str, body: Value| {
        admin_client()
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
    };
    let declared = send(
        &first.base,
        "/api/v1/incidents",
        json!({"incident_id": incident, "kind": "infectious_disease", "level": "III",
               "title": "万州区聚集性疫情", "affected_areas": ["500101"]}),
    )
    .await
    .unwrap();
    assert_eq!(declared.status(), 201);
    for (command, body) in [
        (
            "record_bed_demand",
            json!({"bed_type": "negative_flow_isolation", "township": "500101001", "beds": 30}),
        ),
        (
            "record_team_demand",
            json!({"kind": "medical_rescue", "teams": 2}),
        ),
    ] {
        let path = format!("/api/v1/incidents/{incident}/{command}");
        assert_eq!(send(&first.base, &path, body).await.unwrap().status(), 200);
    }
    let proposed = send(&first.base, "/api/v1/plans", json!({"incident": incident}))
        .await
        .unwrap();
    assert_eq!(proposed.status(), 201);
    let plan: Value = proposed.json().await.unwrap();
    let id = plan["id"].as_str().unwrap().to_owned();
    let assignments = plan["record"]["plan"]["assignments"]
        .as_array()
        .unwrap()
        .len();
    assert!(assignments >= 2);
    // The second replica has read the plan before anyone presses.
    let position = plan["position"].as_u64().unwrap();
    get(&second, &format!("/api/v1/network?min_position={position}")).await;

    let path = format!("/api/v1/plans/{id}/approve");
    let presses = (0..6).map(|n| {
        let base = [&first.base, &second.base][n % 2].clone();
        let path = path.clone();
        async move {
            let response = send(&base, &path, json!({})).await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    });
    let answers = futures::future::join_all(presses).await;
    for (status, answer) in &answers {
        assert!(
            *status == 200 || *status == 409,
            "a press answered {status}: {answer}"
        );
    }
    assert!(answers.iter().any(|(status, _)| *status == 200));
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    eprintln!("six presses through two replicas answered {statuses:?}");

    let (_, events) = whole_log(&url).await;
    let mut of_plan: BTreeMap<String, usize> = BTreeMap::new();
    for event in &events {
        let metadata: Value = event.metadata.deserialize().unwrap();
        if event.stream.as_str() == format!("plan-{id}") || metadata["plan_id"] == id.as_str() {
            *of_plan.entry(event.event_type.to_string()).or_default() += 1;
        }
    }
    assert_eq!(of_plan.get("PlanApproved"), Some(&1), "{of_plan:?}");
    let dispatched: usize = ["BedsReserved", "TeamMobilised", "StockReserved"]
        .iter()
        .filter_map(|t| of_plan.get(*t))
        .sum();
    assert_eq!(dispatched, assignments, "each dispatch once: {of_plan:?}");
    // A press after it all, through either replica, answers the one approval.
    for base in [&first.base, &second.base] {
        let response = send(base, &path, json!({})).await.unwrap();
        assert_eq!(response.status(), 200);
    }
}

/// A feed open at one replica on an API token revoked through the other ends
/// within the check interval, with a `closed` event naming the token.
#[tokio::test]
async fn a_token_revoked_at_one_replica_ends_its_feed_at_the_other() {
    let replicas = two_replicas().await;
    let (first, second) = (&replicas.first, &replicas.second);
    let (token, id) = support::viewer_api_token(&first.base).await;
    let mut feed = reqwest::Client::new()
        .get(format!("{}/api/v1/feed", second.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);

    let revoked = admin_client()
        .post(format!("{}/api/v1/tokens/{id}/revoke", first.base))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let within = ercs_server::auth::lasting::CHECK_EVERY + Duration::from_secs(5);
    let text = support::to_the_end(&mut feed, within).await;
    let (_, closed) = text.rsplit_once("event: closed\ndata: ").expect(&text);
    assert!(closed.contains(&id), "{closed}");
}
