//! Views of the past against the real SQLite log: an `as_of` read equals a
//! rebuild from the start, yet folds forward from the nearest kept view, and no
//! more views are kept than allowed.

use std::cell::Cell;
use std::sync::Arc;

use ercs_eventlog::{
    Direction, EventData, EventLog, ExpectedRevision, Filter, Position, ReadFrom, RecordedEvent,
    SqliteEventLog, StreamName,
};
use ercs_projections::{AsOf, History, HistoryOptions, Projection, rebuild_as_of};
use serde::{Deserialize, Serialize};

thread_local! {
    /// Events applied on this test's thread (each `#[tokio::test]` runs on its own).
    static APPLIED: Cell<usize> = const { Cell::new(0) };
}

fn applied() -> usize {
    APPLIED.with(Cell::get)
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Positions(Vec<u64>);

impl Projection for Positions {
    const NAME: &'static str = "positions";
    const VERSION: u32 = 1;

    fn filter() -> Filter {
        Filter::all()
    }

    fn apply(&mut self, event: &RecordedEvent) {
        APPLIED.with(|n| n.set(n.get() + 1));
        self.0.push(event.position.0);
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    log: Arc<dyn EventLog>,
}

async fn log_of(events: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let log: Arc<dyn EventLog> =
        Arc::new(SqliteEventLog::open(dir.path().join("events.db")).unwrap());
    let stream = StreamName::new("facility-a").unwrap();
    for _ in 0..events {
        let event = EventData::from_json(uuid::Uuid::new_v4(), "BedsReported", "{}", "{}").unwrap();
        log.append(&stream, ExpectedRevision::Any, vec![event])
            .await
            .unwrap();
    }
    Fixture { _dir: dir, log }
}

async fn all_events(log: &Arc<dyn EventLog>) -> Vec<RecordedEvent> {
    log.read_all(ReadFrom::Start, Direction::Forwards, &Filter::all(), 100)
        .await
        .unwrap()
}

fn history(log: &Arc<dyn EventLog>, every: u64, keep: usize) -> History<Positions> {
    History::new(
        Arc::clone(log),
        HistoryOptions {
            every,
            keep,
            folds: 1,
        },
    )
}

#[tokio::test]
async fn a_view_as_of_a_position_equals_a_rebuild_from_the_start() {
    let f = log_of(10).await;
    let history = history(&f.log, 3, 8);
    for p in [0, 1, 4, 9, 10, 99] {
        let (view, reached) = history.at(AsOf::Position(Position(p))).await.unwrap();
        let (rebuilt, rebuilt_at) =
            rebuild_as_of::<Positions>(&*f.log, AsOf::Position(Position(p)))
                .await
                .unwrap();
        assert_eq!((&*view, reached), (&rebuilt, rebuilt_at), "as of {p}");
    }
}

#[tokio::test]
async fn a_view_as_of_a_time_equals_a_rebuild_from_the_start() {
    let f = log_of(6).await;
    let history = history(&f.log, 2, 8);
    let events = all_events(&f.log).await;
    history.at(AsOf::Position(Position(6))).await.unwrap();
    for event in &events {
        let as_of = AsOf::Time(event.recorded_at);
        let (view, _) = history.at(as_of).await.unwrap();
        let (rebuilt, _) = rebuild_as_of::<Positions>(&*f.log, as_of).await.unwrap();
        assert_eq!(*view, rebuilt);
    }
}

#[tokio::test]
async fn an_as_of_read_folds_forward_from_the_nearest_kept_view() {
    let f = log_of(20).await;
    let history = history(&f.log, 5, 8);
    history.at(AsOf::Position(Position(20))).await.unwrap();

    let before = applied();
    let (view, _) = history.at(AsOf::Position(Position(13))).await.unwrap();
    assert_eq!(view.0, (1..=13).collect::<Vec<_>>());
    assert_eq!(applied() - before, 3, "folded from the view kept at 10");

    let before = applied();
    history.at(AsOf::Position(Position(13))).await.unwrap();
    assert_eq!(
        applied() - before,
        0,
        "the same read again is answered from memory"
    );
}

#[tokio::test]
async fn the_views_the_live_projector_offers_are_kept_each_so_many_events() {
    let f = log_of(12).await;
    let history = history(&f.log, 4, 8);
    let events = all_events(&f.log).await;
    let mut live = Positions::default();
    for event in &events {
        live.apply(event);
        history.offer(&live, event);
    }
    assert_eq!(history.kept(), 3, "views at 4, 8 and 12");
    let before = applied();
    history.at(AsOf::Position(Position(9))).await.unwrap();
    assert_eq!(applied() - before, 1, "folded from the view offered at 8");
}

#[tokio::test]
async fn no_more_views_are_kept_than_allowed() {
    let f = log_of(40).await;
    let history = history(&f.log, 2, 5);
    for p in (1..=40).rev() {
        history.at(AsOf::Position(Position(p))).await.unwrap();
        assert!(history.kept() <= 5, "{} views kept", history.kept());
    }
}
