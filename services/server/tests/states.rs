//! The command path's states survive a restart: the real `ercs serve` saves the
//! states it decided on (when it stops, and every `--snapshot-every-seconds`),
//! so after a restart a command on a long stream folds no more of it than
//! followed the last save. Counted by `/metrics`'
//! `ercs_command_events_folded_total`; the decisions are checked by the
//! revisions the log gives them.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::served::{Served, admin_client, serve_on};

const STATES: &str = "aggregates.states.json";

async fn get(served: &Served, path: &str) -> reqwest::Response {
    admin_client().get(served.url(path)).send().await.unwrap()
}

/// `ercs_command_events_folded_total` now.
async fn folded(served: &Served) -> u64 {
    let text = get(served, "/metrics").await.text().await.unwrap();
    let line = text
        .lines()
        .find(|line| line.starts_with("ercs_command_events_folded_total "))
        .unwrap_or_else(|| panic!("no folded count in\n{text}"));
    line.rsplit(' ').next().unwrap().parse::<f64>().unwrap() as u64
}

/// The folded count once the start-up work (the transfers' sweep, after
/// ready) has stopped moving it.
async fn folded_at_rest(served: &Served) -> u64 {
    let mut last = folded(served).await;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = folded(served).await;
        if now == last {
            return now;
        }
        last = now;
    }
}

/// A seeded facility's id and the body of a report on one of its pools.
async fn a_facility(served: &Served) -> (String, Value) {
    let page: Value = get(served, "/api/v1/facilities?limit=1")
        .await
        .json()
        .await
        .unwrap();
    let facility = &page["items"][0];
    let pool = &facility["state"]["pools"][0];
    let (key, total) = (&pool[0], pool[1]["counts"]["total"].as_u64().unwrap());
    let report = json!({"bed_type": key["bed_type"], "class": key["class"],
        "lead_time_minutes": 0, "counts": {"total": total, "staffed": total, "occupied": 0}});
    (facility["id"].as_str().unwrap().to_owned(), report)
}

/// Reports `occupied` beds on the facility; gives the revision the log gave it.
async fn report(served: &Served, facility: &str, body: &Value, occupied: u64) -> u64 {
    let mut body = body.clone();
    body["counts"]["occupied"] = occupied.into();
    let response = admin_client()
        .post(served.url(&format!("/api/v1/facilities/{facility}/report")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
    let etag = response.headers()["etag"].to_str().unwrap();
    etag.trim_matches('"').parse().unwrap()
}

/// The revision the saved file holds for `stream`, if it holds it.
fn saved_revision(dir: &Path, stream: &str) -> Option<u64> {
    let file: Value = serde_json::from_slice(&std::fs::read(dir.join(STATES)).ok()?).ok()?;
    file["entries"]
        .as_array()?
        .iter()
        .find(|entry| entry["stream"] == stream)?["revision"]
        .as_u64()
}

#[tokio::test]
async fn after_a_stop_a_command_on_a_long_stream_folds_none_of_it_again() {
    let dir = support::seeded_copy();
    let mut served = serve_on(dir.path(), &[]);
    served.ready().await;
    let (facility, body) = a_facility(&served).await;
    let mut revision = 0;
    for occupied in 0..40 {
        revision = report(&served, &facility, &body, occupied % 5).await;
    }
    served.terminate();
    assert_eq!(
        saved_revision(dir.path(), &format!("facility-{facility}")),
        Some(revision),
        "the stop saved the facility's state"
    );

    let mut restarted = serve_on(dir.path(), &[]);
    restarted.ready().await;
    let before = folded_at_rest(&restarted).await;
    let next = report(&restarted, &facility, &body, 3).await;
    assert_eq!(next, revision + 1, "decided on the state the log has");
    assert_eq!(
        folded(&restarted).await - before,
        0,
        "no event folded again"
    );
    restarted.terminate();

    // The control: without the saved file the same command folds the whole
    // stream, so the count above measures what it says.
    std::fs::remove_file(dir.path().join(STATES)).unwrap();
    let cold = serve_on(dir.path(), &[]);
    cold.ready().await;
    let before = folded_at_rest(&cold).await;
    assert_eq!(report(&cold, &facility, &body, 4).await, revision + 2);
    assert_eq!(
        folded(&cold).await - before,
        revision + 2,
        "every event of the stream (revisions 0 to {})",
        revision + 1
    );
}

#[tokio::test]
async fn after_kill_9_a_command_folds_only_what_followed_the_last_save() {
    let dir = support::seeded_copy();
    let served = serve_on(dir.path(), &["--snapshot-every-seconds", "2"]);
    served.ready().await;
    let (facility, body) = a_facility(&served).await;
    let stream = format!("facility-{facility}");
    let mut revision = 0;
    for occupied in 0..30 {
        revision = report(&served, &facility, &body, occupied % 5).await;
    }
    // Right after a periodic save has the 30 reports, three more, then the kill:
    // the next save is two seconds away.
    let deadline = Instant::now() + Duration::from_secs(30);
    while saved_revision(dir.path(), &stream) != Some(revision) {
        assert!(Instant::now() < deadline, "no periodic save within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for occupied in 0..3 {
        revision = report(&served, &facility, &body, occupied).await;
    }
    served.kill();

    let restarted = serve_on(dir.path(), &[]);
    restarted.ready().await;
    let before = folded_at_rest(&restarted).await;
    assert_eq!(report(&restarted, &facility, &body, 2).await, revision + 1);
    assert_eq!(
        folded(&restarted).await - before,
        3,
        "the three reports after the save"
    );
}
