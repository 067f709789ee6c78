//! `ercs serve`, run as a user runs it: the real binary on a free port.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::served::{Served, ercs, serve, serve_logging_to};

async fn get_json(url: String) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(&url)
        .headers(support::bearer(ercs_server::auth::Role::Viewer))
        .send()
        .await
        .expect("a response");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// `/readyz` once it says ready (a start replays what the snapshot lacks first).
async fn readyz(base: &str) -> (u16, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = get_json(format!("{base}/readyz")).await;
        if status != 503 || std::time::Instant::now() > deadline {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn serve_answers_liveness_and_readiness_on_the_address_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("fresh");
    let mut command = ercs();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir);
    let served = serve(command);

    assert_eq!(
        get_json(format!("{}/healthz", served.base)).await,
        (200, serde_json::json!({ "status": "ok" }))
    );
    let (status, ready) = readyz(&served.base).await;
    assert_eq!(status, 200);
    assert_eq!(
        ready,
        serde_json::json!({ "status": "ready", "log_position": 0 })
    );
    assert!(
        data_dir.join("events.db").is_file(),
        "the event log lives in the data directory"
    );
}

#[tokio::test]
async fn serve_opens_an_existing_log_and_reports_its_last_position() {
    use ercs_eventlog::{EventData, EventLog, ExpectedRevision, SqliteEventLog, StreamName};
    let dir = tempfile::tempdir().unwrap();
    {
        let log = SqliteEventLog::open(dir.path().join("events.db")).unwrap();
        let events = (0..3)
            .map(|_| {
                EventData::from_json(uuid::Uuid::new_v4(), "TeamRegistered", "{}", "{}").unwrap()
            })
            .collect();
        log.append(
            &StreamName::new("team-1").unwrap(),
            ExpectedRevision::NoStream,
            events,
        )
        .await
        .unwrap();
    }
    let mut command = ercs();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path());
    let served = serve(command);
    let (status, ready) = readyz(&served.base).await;
    assert_eq!((status, ready["log_position"].as_u64()), (200, Some(3)));
}

#[tokio::test]
async fn serve_with_a_seed_loads_it_before_listening_and_a_second_start_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let start = |seed_by_env: bool| {
        let mut command = ercs();
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path());
        if seed_by_env {
            command.env("ERCS_SEED", "chongqing");
        } else {
            command.args(["--seed", "chongqing"]);
        }
        serve(command)
    };
    let position = |served: Served| async move {
        let (status, ready) = readyz(&served.base).await;
        assert_eq!(status, 200);
        ready["log_position"].as_u64().expect("a log position")
    };

    let seeded = position(start(false)).await;
    assert!(seeded > 0, "the seed was loaded before listening");
    assert_eq!(
        position(start(true)).await,
        seeded,
        "the second start added events"
    );
}

#[tokio::test]
async fn serve_takes_its_settings_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = ercs();
    command
        .arg("serve")
        .env("ERCS_LISTEN", "127.0.0.1:0")
        .env("ERCS_DATA_DIR", dir.path().join("env"));
    let served = serve(command);
    assert_eq!(readyz(&served.base).await.0, 200);
    assert!(dir.path().join("env").join("events.db").is_file());
}

#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = ercs();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path());
    let mut served = serve(command);
    served.send_sigterm();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let status = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ercs still runs 10 s after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "ercs exited with {status} on SIGTERM");
}

/// Log lines leave from a thread of their own: every request's line, and the
/// last line before the exit, reach standard error, and a file gets them in
/// plain text (no terminal colours in a log file).
#[tokio::test]
async fn the_log_reaches_a_file_in_plain_text_through_to_the_exit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let mut command = ercs();
    command
        .env_remove("ERCS_LOG")
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"));
    let mut served = serve_logging_to(command, std::fs::File::create(&log).unwrap().into());
    for _ in 0..200 {
        assert_eq!(get_json(format!("{}/healthz", served.base)).await.0, 200);
    }
    served.send_sigterm();
    let status = tokio::task::spawn_blocking(move || served.child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "ercs exited with {status}");
    let written = std::fs::read_to_string(&log).unwrap();
    let answered = written
        .lines()
        .filter(|line| line.contains("answered") && line.contains("route=\"/healthz\""))
        .count();
    assert_eq!(answered, 200, "one line per request:\n{written}");
    assert!(
        !written.contains('\x1b'),
        "terminal colours in a file:\n{written}"
    );
    let last = written.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" stopped"),
        "the last line is the stop: {last:?}"
    );
}

#[test]
fn serve_refuses_a_data_dir_holding_something_else_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("events.db");
    std::fs::write(&foreign, b"not an event log").unwrap();
    let output = ercs()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not an ERCS event log"), "{stderr}");
    assert_eq!(std::fs::read(&foreign).unwrap(), b"not an event log");
}

#[test]
fn serve_refuses_a_malformed_listen_address_naming_the_flag() {
    let output = ercs()
        .args(["serve", "--listen", "localhost"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--listen"), "{stderr}");
}

#[test]
fn help_explains_every_flag_its_variable_and_its_default() {
    let top = ercs().arg("--help").output().unwrap();
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(top.contains("serve") && top.contains("seed"), "{top}");
    let seed = ercs().args(["seed", "--help"]).output().unwrap();
    let seed = String::from_utf8_lossy(&seed.stdout);
    for expected in ["chongqing", "--data-dir", "ERCS_DATA_DIR"] {
        assert!(
            seed.contains(expected),
            "`ercs seed --help` lacks {expected}:\n{seed}"
        );
    }
    let serve = ercs().args(["serve", "--help"]).output().unwrap();
    let serve = String::from_utf8_lossy(&serve.stdout);
    for expected in [
        "--listen",
        "ERCS_LISTEN",
        "127.0.0.1:8080",
        "--data-dir",
        "ERCS_DATA_DIR",
        "[default: data]",
        "--seed",
        "ERCS_SEED",
        "chongqing",
    ] {
        assert!(
            serve.contains(expected),
            "`ercs serve --help` lacks {expected}:\n{serve}"
        );
    }
}

#[tokio::test]
async fn a_stopped_service_leaves_a_snapshot_of_the_view_at_the_log_head() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = ercs();
    command
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--seed",
            "chongqing",
            "--data-dir",
        ])
        .arg(dir.path());
    let mut served = serve(command);
    let head = readyz(&served.base).await.1["log_position"]
        .as_u64()
        .unwrap();
    let (status, _) = get_json(format!(
        "{}/api/v1/network?min_position={head}",
        served.base
    ))
    .await;
    assert_eq!(status, 200, "the view did not catch up");

    served.terminate();

    let snapshot = std::fs::read(dir.path().join("one-network.snapshot.json"))
        .expect("a snapshot of the one-network view");
    let snapshot: Value = serde_json::from_slice(&snapshot).unwrap();
    assert_eq!(snapshot["position"], head);
    assert!(!snapshot["state"]["teams"].as_object().unwrap().is_empty());
}

/// Every entry of `dir` (not recursive) and its permission bits.
fn modes(dir: &std::path::Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut modes: Vec<(String, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            (entry.file_name().to_string_lossy().into_owned(), mode)
        })
        .collect();
    modes.sort();
    modes
}

/// Serves a fresh data directory, writes to it, stops with SIGTERM (so the view
/// is snapshotted) and gives the directory's mode and every file's, seen both
/// while serving (with the WAL files) and after the stop (with the snapshot).
async fn modes_of_a_fresh_data_dir(group_readable: bool) -> (u32, Vec<(String, u32)>) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("fresh");
    let mut command = ercs();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env_remove("ERCS_GROUP_READABLE");
    if group_readable {
        command.env("ERCS_GROUP_READABLE", "1");
    }
    let mut served = serve(command);
    let created = reqwest::Client::new()
        .post(format!("{}/api/v1/items", served.base))
        .headers(support::bearer(ercs_server::auth::Role::Admin))
        .header("Idempotency-Key", "modes-1")
        .json(&serde_json::json!({"item": "N95", "details": {
            "name": "医用防护口罩（N95）", "unit": "只", "category": "protective_equipment", "shelf_life_days": 1095
        }}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{created:?}");
    let mut seen = modes(&data_dir);
    served.terminate();
    seen.extend(modes(&data_dir));
    seen.sort();
    seen.dedup();
    let names: Vec<&str> = seen.iter().map(|(name, _)| name.as_str()).collect();
    for expected in [
        "events.db",
        "events.db-wal",
        "events.db-shm",
        "events.db.lock",
    ] {
        assert!(names.contains(&expected), "no {expected} in {names:?}");
    }
    assert!(
        names.iter().any(|name| name.ends_with(".snapshot.json")),
        "no snapshot in {names:?}"
    );
    let dir_mode = std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777;
    (dir_mode, seen)
}

#[tokio::test]
async fn a_fresh_data_dir_and_every_file_in_it_are_the_service_users_alone() {
    let (dir_mode, files) = modes_of_a_fresh_data_dir(false).await;
    assert_eq!(dir_mode, 0o700, "the data directory is {dir_mode:o}");
    for (name, mode) in files {
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
}

#[tokio::test]
async fn group_readable_lets_the_services_group_read_the_data_files() {
    let (dir_mode, files) = modes_of_a_fresh_data_dir(true).await;
    assert_eq!(dir_mode, 0o750, "the data directory is {dir_mode:o}");
    for (name, mode) in files {
        assert_eq!(mode, 0o640, "{name} is {mode:o}");
    }
}

#[test]
fn help_names_the_group_readable_flag_and_its_variable() {
    let serve = ercs().args(["serve", "--help"]).output().unwrap();
    let serve = String::from_utf8_lossy(&serve.stdout);
    for expected in ["--group-readable", "ERCS_GROUP_READABLE"] {
        assert!(
            serve.contains(expected),
            "`ercs serve --help` lacks {expected}:\n{serve}"
        );
    }
}
