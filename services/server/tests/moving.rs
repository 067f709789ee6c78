//! `ercs export`, `ercs import` and `ercs backup`, run as an operator runs them:
//! the real binary, a real SQLite file and a real PostgreSQL database.

mod support;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use ercs_eventlog::{
    AppendOnce, CommandKey, Direction, EventData, EventLog, ExpectedRevision, Filter, ReadFrom,
    RecordedEvent, SqliteEventLog, StreamName,
};
use ercs_eventlog_postgres::testing::cluster;
use support::served::ercs;
use uuid::Uuid;

fn run(args: &[&str]) -> Output {
    let output = ercs().args(args).output().expect("ercs runs");
    assert!(
        output.status.success(),
        "ercs {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn event(data: &str, metadata: &str) -> EventData {
    EventData::from_json(Uuid::new_v4(), "BedsReported", data, metadata).expect("an event")
}

/// A log with what a move must keep: several streams, payloads whose exact text
/// matters (spacing, key order, a line break, Chinese), metadata, and command keys.
async fn a_varied_log(dir: &Path) -> Vec<CommandKey> {
    std::fs::create_dir_all(dir).unwrap();
    let log = SqliteEventLog::open(dir.join("events.db")).expect("a log");
    let mut keys = Vec::new();
    for i in 0..250 {
        let stream = StreamName::new(format!("facility-{}", i % 7)).expect("a name");
        let data =
            format!("{{ \"名称\": \"万州区第{i}医院\",\n  \"staffed\":{i}, \"a\": [1, 2.50] }}");
        let metadata = format!(
            r#"{{"actor":"调度员-{i}","correlation_id":"{}"}}"#,
            Uuid::new_v4()
        );
        let events = vec![event(&data, &metadata), event("{}", "{}")];
        if i % 10 == 0 {
            let key = CommandKey::new(format!("POST /facilities/{i}/report #{i}")).expect("a key");
            log.append_once(&stream, ExpectedRevision::Any, events, &key)
                .await
                .expect("a keyed append");
            keys.push(key);
        } else {
            log.append(&stream, ExpectedRevision::Any, events)
                .await
                .expect("an append");
        }
    }
    keys
}

async fn everything(log: &dyn EventLog) -> Vec<RecordedEvent> {
    log.read_all(
        ReadFrom::Start,
        Direction::Forwards,
        &Filter::all(),
        usize::MAX,
    )
    .await
    .expect("a read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_moved_sqlite_to_postgres_to_sqlite_is_the_same_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (first, last) = (dir.path().join("first"), dir.path().join("last"));
    let keys = a_varied_log(&first).await;
    let (url, _database) = cluster().fresh_database().await;
    let exports = ["a", "b", "c"].map(|name| dir.path().join(format!("{name}.jsonl")));

    run(&[
        "export",
        "--data-dir",
        path(&first),
        "--to",
        path(&exports[0]),
    ]);
    run(&["import", "--store", &url, "--from", path(&exports[0])]);
    run(&["export", "--store", &url, "--to", path(&exports[1])]);
    let store = format!("sqlite:{}", path(&last));
    run(&["import", "--store", &store, "--from", path(&exports[1])]);
    run(&["export", "--store", &store, "--to", path(&exports[2])]);

    let [a, b, c] = exports.map(|file| std::fs::read(file).expect("an export"));
    assert_eq!(a, b, "exported from PostgreSQL as from SQLite");
    assert_eq!(a, c, "and again after coming back to SQLite");
    assert_eq!(
        a.iter().filter(|&&byte| byte == b'\n').count(),
        1 + 500 + keys.len()
    );

    let original = SqliteEventLog::open(first.join("events.db")).expect("the first log");
    let moved = SqliteEventLog::open(last.join("events.db")).expect("the moved log");
    let (before, after) = (everything(&original).await, everything(&moved).await);
    assert_eq!(before.len(), 500);
    assert_eq!(
        before, after,
        "positions, ids, text and recorded times as they were"
    );
    // A retried command is still recognised in the moved log: its key came along.
    let retry = moved
        .append_once(
            &StreamName::new("facility-0").unwrap(),
            ExpectedRevision::Any,
            vec![event("{}", "{}")],
            &keys[3],
        )
        .await
        .expect("the retry");
    let landed = original.find_key(&keys[3]).await.unwrap().expect("a key");
    assert_eq!(retry, AppendOnce::AlreadyApplied(landed));
}

#[tokio::test]
async fn an_import_into_a_log_that_is_not_empty_is_refused_and_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (from, into) = (dir.path().join("from"), dir.path().join("into"));
    a_varied_log(&from).await;
    a_varied_log(&into).await;
    let export = dir.path().join("log.jsonl");
    run(&["export", "--data-dir", path(&from), "--to", path(&export)]);
    let refused = ercs()
        .args(["import", "--data-dir", path(&into), "--from", path(&export)])
        .output()
        .expect("ercs runs");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("target log is not empty"), "{message}");
    let log = SqliteEventLog::open(into.join("events.db")).expect("the log");
    assert_eq!(everything(&log).await.len(), 500);
}

#[tokio::test]
async fn an_import_names_the_line_and_field_at_fault() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("bad.jsonl");
    let header = r#"{"ercs_log_export":{"format":1,"events":1}}"#;
    let bad = r#"{"event":{"position":1,"stream":"team 1","revision":0,"id":"5f0c2d9e-0000-4000-8000-000000000001","event_type":"TeamMobilised","data":"{}","metadata":"{}","recorded_at":"2026-11-23T08:00:00.123456Z"}}"#;
    std::fs::write(&export, format!("{header}\n{bad}\n")).unwrap();
    let refused = ercs()
        .args([
            "import",
            "--data-dir",
            path(&dir.path().join("log")),
            "--from",
            path(&export),
        ])
        .output()
        .expect("ercs runs");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("line 2: stream"), "{message}");
}

/// `ercs backup` while another process appends: the copy opens as a log, and
/// holds exactly the log's first events up to some commit, with no hole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_the_log_is_written_is_the_log_as_of_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let log = Arc::new(SqliteEventLog::open(data.join("events.db")).expect("a log"));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writing = {
        let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
        tokio::spawn(async move {
            let stream = StreamName::new("depot-1").unwrap();
            let mut appended = 0;
            // Bounded, in case the test fails before it says stop.
            for i in 0..100_000 {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let events = (0..3)
                    .map(|_| event(&format!(r#"{{"i":{i}}}"#), "{}"))
                    .collect();
                log.append(&stream, ExpectedRevision::Any, events)
                    .await
                    .expect("an append");
                appended += 1;
            }
            appended
        })
    };
    while log.head().await.unwrap().0 < 300 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let copy = dir.path().join("backup.db");
    run(&["backup", "--data-dir", path(&data), "--to", path(&copy)]);
    let at_backup_end = log.head().await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writing.await.expect("the writer");
    assert!(
        log.head().await.unwrap() > at_backup_end,
        "the log was still being written after the backup"
    );

    let backed_up = everything(&SqliteEventLog::open(&copy).expect("the copy opens")).await;
    let live = everything(&*log).await;
    assert!(backed_up.len() >= 300 && backed_up.len() < live.len());
    assert_eq!(backed_up.len() % 3, 0, "whole appends only");
    assert_eq!(backed_up[..], live[..backed_up.len()]);

    let again = ercs()
        .args(["backup", "--data-dir", path(&data), "--to", path(&copy)])
        .output()
        .expect("ercs runs");
    assert!(
        !again.status.success(),
        "an existing backup is never overwritten"
    );
}
