//! The projector against the real SQLite log, with a small view: which facility
//! events it has applied, in order.

use std::sync::Arc;
use std::time::Duration;

use ercs_eventlog::{
    EventData, EventLog, ExpectedRevision, Filter, Position, RecordedEvent, SqliteEventLog,
    StreamName,
};
use ercs_projections::{Lagging, Projection, Projector, ProjectorOptions, rebuild};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct FacilityEvents {
    positions: Vec<u64>,
    /// Applied by this process, not restored from a snapshot.
    #[serde(skip)]
    applied_here: usize,
}

impl Projection for FacilityEvents {
    const NAME: &'static str = "facility-events";
    const VERSION: u32 = 1;

    fn filter() -> Filter {
        Filter::stream_prefix("facility-")
    }

    fn apply(&mut self, event: &RecordedEvent) {
        self.positions.push(event.position.0);
        self.applied_here += 1;
    }
}

const SOON: Duration = Duration::from_secs(5);

struct Fixture {
    dir: tempfile::TempDir,
    log: Arc<dyn EventLog>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let log = SqliteEventLog::open(dir.path().join("events.db")).unwrap();
    Fixture {
        log: Arc::new(log),
        dir,
    }
}

impl Fixture {
    fn options(&self) -> ProjectorOptions {
        ProjectorOptions {
            snapshot_dir: Some(self.dir.path().join("projections")),
            snapshot_every: 2,
            ..Default::default()
        }
    }

    async fn append(&self, stream: &str) -> Position {
        let event = EventData::from_json(uuid::Uuid::new_v4(), "BedsReported", "{}", "{}").unwrap();
        let stream = StreamName::new(stream).unwrap();
        self.log
            .append(&stream, ExpectedRevision::Any, vec![event])
            .await
            .unwrap()
            .position
    }
}

#[tokio::test]
async fn a_projection_applies_every_matching_event_once_in_order() {
    let f = fixture();
    let mut expected = Vec::new();
    for i in 0..6 {
        let position = f
            .append(if i % 2 == 0 { "facility-a" } else { "team-b" })
            .await;
        if i % 2 == 0 {
            expected.push(position.0);
        }
    }
    let projector =
        Projector::<FacilityEvents>::start(Arc::clone(&f.log), ProjectorOptions::default());
    let last = f.append("facility-c").await;
    expected.push(last.0);
    projector.wait_for(last, SOON).await.unwrap();
    let (positions, at) = projector.read(|view| view.positions.clone());
    assert_eq!(positions, expected);
    assert_eq!(at, last);
    assert!(projector.is_caught_up());
}

#[tokio::test]
async fn a_reader_waiting_for_a_write_the_view_skips_is_not_kept_waiting() {
    let f = fixture();
    let projector =
        Projector::<FacilityEvents>::start(Arc::clone(&f.log), ProjectorOptions::default());
    let skipped = f.append("team-x").await;
    projector
        .wait_for(skipped, SOON)
        .await
        .expect("the view passes its own skipped position");
    assert!(projector.read(|view| view.positions.is_empty()).0);
}

#[tokio::test]
async fn waiting_for_a_position_not_reached_in_time_reports_how_far_the_view_is() {
    let f = fixture();
    let head = f.append("facility-a").await;
    let projector =
        Projector::<FacilityEvents>::start(Arc::clone(&f.log), ProjectorOptions::default());
    projector.wait_for(head, SOON).await.unwrap();
    let wanted = Position(head.0 + 5);
    let lagging = projector
        .wait_for(wanted, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert_eq!(
        lagging,
        Lagging {
            wanted,
            reached: head
        }
    );
}

#[tokio::test]
async fn a_restart_resumes_from_the_snapshot_and_applies_nothing_twice() {
    let f = fixture();
    for _ in 0..5 {
        f.append("facility-a").await;
    }
    let first = Projector::<FacilityEvents>::start(Arc::clone(&f.log), f.options());
    first
        .wait_for(f.log.head().await.unwrap(), SOON)
        .await
        .unwrap();
    first.stop().await.unwrap();

    for _ in 0..3 {
        f.append("facility-a").await;
    }
    let second = Projector::<FacilityEvents>::start(Arc::clone(&f.log), f.options());
    let head = f.log.head().await.unwrap();
    second.wait_for(head, SOON).await.unwrap();
    let (view, _) = second.read(Clone::clone);
    assert_eq!(
        view.applied_here, 3,
        "only the events after the snapshot were applied"
    );
    assert_eq!(view.positions, (1..=8).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_damaged_snapshot_is_discarded_and_the_view_rebuilt_from_the_log() {
    let f = fixture();
    for _ in 0..4 {
        f.append("facility-a").await;
    }
    let dir = f.options().snapshot_dir.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("facility-events.snapshot.json"),
        b"{\"projection\": \"facility-ev",
    )
    .unwrap();
    let projector = Projector::<FacilityEvents>::start(Arc::clone(&f.log), f.options());
    projector
        .wait_for(f.log.head().await.unwrap(), SOON)
        .await
        .unwrap();
    assert_eq!(
        projector.read(|view| view.positions.clone()).0,
        [1, 2, 3, 4]
    );
}

#[tokio::test]
async fn a_snapshot_of_another_version_of_the_projection_is_not_trusted() {
    let f = fixture();
    f.append("facility-a").await;
    let dir = f.options().snapshot_dir.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let old =
        r#"{"projection":"facility-events","version":0,"position":1,"state":{"positions":[999]}}"#;
    std::fs::write(dir.join("facility-events.snapshot.json"), old).unwrap();
    let projector = Projector::<FacilityEvents>::start(Arc::clone(&f.log), f.options());
    projector.wait_for(Position(1), SOON).await.unwrap();
    assert_eq!(projector.read(|view| view.positions.clone()).0, [1]);
}

/// A snapshot names the event at its position; over a log that holds another
/// event there (a backup restored over the directory, a drill's directory
/// replaced) the view is rebuilt from the log instead of trusted.
#[tokio::test]
async fn a_snapshot_of_another_log_is_not_trusted() {
    let f = fixture();
    for _ in 0..4 {
        f.append("facility-a").await;
    }
    let first = Projector::<FacilityEvents>::start(Arc::clone(&f.log), f.options());
    first.wait_for(Position(4), SOON).await.unwrap();
    first.stop().await.unwrap();
    // The same log: restored, nothing applied again.
    let again = Projector::<FacilityEvents>::start(Arc::clone(&f.log), f.options());
    again.wait_for(Position(4), SOON).await.unwrap();
    assert_eq!(again.read(|view| view.applied_here).0, 0, "restored");
    drop(again);

    // Another log of as many events, the snapshot copied beside it.
    let other = fixture();
    for _ in 0..4 {
        other.append("facility-a").await;
    }
    let (from, to) = (
        f.options().snapshot_dir.unwrap(),
        other.options().snapshot_dir.unwrap(),
    );
    std::fs::create_dir_all(&to).unwrap();
    let name = "facility-events.snapshot.json";
    std::fs::copy(from.join(name), to.join(name)).unwrap();
    let projector = Projector::<FacilityEvents>::start(Arc::clone(&other.log), other.options());
    projector.wait_for(Position(4), SOON).await.unwrap();
    assert_eq!(
        projector
            .read(|view| (view.positions.clone(), view.applied_here))
            .0,
        (vec![1, 2, 3, 4], 4),
        "rebuilt from this log, not restored from the other's snapshot"
    );
}

/// After `stop_saving`, neither a save asked for nor the one at stop writes,
/// and the directory, once deleted, is not made again.
#[tokio::test]
async fn a_projector_that_stopped_saving_writes_no_snapshot_and_makes_no_directory() {
    let f = fixture();
    f.append("facility-a").await;
    let projector = Projector::<FacilityEvents>::start(Arc::clone(&f.log), f.options());
    projector.wait_for(Position(1), SOON).await.unwrap();
    let dir = f.options().snapshot_dir.unwrap();
    projector.save_snapshot().await.unwrap();
    assert!(
        dir.join("facility-events.snapshot.json").exists(),
        "saved before the stop"
    );

    projector.stop_saving().await;
    std::fs::remove_dir_all(&dir).unwrap();
    f.append("facility-a").await;
    f.append("facility-a").await;
    projector.wait_for(Position(3), SOON).await.unwrap();
    projector.save_snapshot().await.unwrap();
    projector.stop().await.unwrap();
    assert!(
        !dir.exists(),
        "a save after stop_saving made the directory again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_view_equals_a_rebuild_from_the_log_under_concurrent_writers() {
    let f = fixture();
    let projector = Projector::<FacilityEvents>::start(Arc::clone(&f.log), f.options());
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let log = Arc::clone(&f.log);
            tokio::spawn(async move {
                for i in 0..250 {
                    let stream = StreamName::new(if i % 3 == 0 {
                        format!("team-{w}")
                    } else {
                        format!("facility-{w}")
                    });
                    let event =
                        EventData::from_json(uuid::Uuid::new_v4(), "BedsReported", "{}", "{}")
                            .unwrap();
                    log.append(&stream.unwrap(), ExpectedRevision::Any, vec![event])
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let head = f.log.head().await.unwrap();
    projector.wait_for(head, SOON).await.unwrap();
    let live = projector.read(|view| view.positions.clone()).0;
    let rebuilt = rebuild::<FacilityEvents>(&*f.log, head).await.unwrap();
    assert_eq!(live, rebuilt.positions);
    assert_eq!(live.len(), 4 * 166);
}

#[tokio::test]
async fn a_rebuild_as_of_a_position_sees_only_what_came_before_it() {
    let f = fixture();
    let mut positions = Vec::new();
    for _ in 0..5 {
        positions.push(f.append("facility-a").await);
    }
    let as_of = rebuild::<FacilityEvents>(&*f.log, positions[2])
        .await
        .unwrap();
    assert_eq!(as_of.positions, [1, 2, 3]);
}

#[tokio::test]
async fn a_running_view_is_snapshotted_after_a_quiet_interval_not_only_on_stop() {
    let f = fixture();
    let options = ProjectorOptions {
        snapshot_every: 1_000,
        snapshot_interval: Duration::from_millis(200),
        ..f.options()
    };
    let projector = Projector::<FacilityEvents>::start(Arc::clone(&f.log), options);
    let position = f.append("facility-a").await;
    projector.wait_for(position, SOON).await.unwrap();
    let path = f
        .dir
        .path()
        .join("projections")
        .join("facility-events.snapshot.json");
    let deadline = tokio::time::Instant::now() + SOON;
    loop {
        let saved = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|snapshot| snapshot["position"].as_u64());
        if saved == Some(position.0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no snapshot was written while running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(projector);
}

/// A reader is answered while the projector is busy applying an event (here an
/// observer that does not return until the read is done): it gets the view as
/// last published, never a wait for the projector. Had readers and the
/// projector shared the view's lock, the read would wait for the observer and
/// the observer for the read, and the test would time out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_is_answered_while_the_projector_is_inside_an_event() {
    let f = fixture();
    let first = f.append("facility-a").await;
    let (inside_to, inside) = std::sync::mpsc::channel::<u64>();
    let (release_to, release) = std::sync::mpsc::channel::<()>();
    let release = std::sync::Mutex::new(release);
    let observer = Box::new(move |_: &FacilityEvents, event: &RecordedEvent, _: bool| {
        if event.position > first {
            let _ = inside_to.send(event.position.0);
            let _ = release
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(10));
        }
    });
    let projector = Arc::new(Projector::start_observed(
        Arc::clone(&f.log),
        ProjectorOptions::default(),
        Some(observer),
    ));
    projector.wait_for(first, SOON).await.unwrap();
    let second = f.append("facility-b").await;
    let busy_at = tokio::task::spawn_blocking(move || inside.recv_timeout(SOON))
        .await
        .unwrap()
        .expect("the projector reached the second event");
    assert_eq!(busy_at, second.0);

    let reader = Arc::clone(&projector);
    let read = tokio::task::spawn_blocking(move || reader.read(|view| view.positions.clone()));
    let (positions, position) = tokio::time::timeout(SOON, read)
        .await
        .expect("a read never waits for the projector")
        .unwrap();
    assert_eq!((positions, position), (vec![first.0], first));

    release_to.send(()).unwrap();
    projector.wait_for(second, SOON).await.unwrap();
    assert_eq!(
        projector.read(|view| view.positions.clone()).0,
        [first.0, second.0]
    );
}
