//! ERCS's own resubscribe loop for `subscribe_all`.
//!
//! The client's subscription can retry by itself, but it resumes from the last
//! *event* it saw (never from a checkpoint, so a filtered subscription rescans what
//! it had already skipped), gives up after a fixed count, and has no backoff. ERCS
//! turns that off and keeps the cursor here instead: the last event delivered or
//! checkpoint passed. When the server's stream fails, the loop waits (100 ms, doubling
//! to 5 s; reset by the next item that arrives) and subscribes again after the cursor.
//! Whatever the new subscription sends again at or before the cursor is dropped, so
//! each event is delivered once, in order, whatever the number of reconnections.
//! `CaughtUp` is sent once per subscription, not once per connection. Events the
//! server sends but the subscriber does not get (the part of the filter KurrentDB
//! cannot apply) count as checkpoints, one per [`SKIPPED_PER_CHECKPOINT`] in a row, as
//! the server's own checkpoints do for what it filters out.

use std::sync::Arc;
use std::time::Duration;

use ercs_eventlog::{
    Error, Position, RecordedEvent, SubscribeFrom, Subscription, SubscriptionMessage,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;

/// What one connection of a subscription yields.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// An event for the subscriber.
    Event(RecordedEvent),
    /// An event the subscriber does not get (another program's, or one the filter
    /// drops on this side): passed over, but the cursor moves past it.
    Skipped(Position),
    /// The server looked at everything up to here.
    Checkpoint(Position),
    /// The server says catch-up is over.
    CaughtUp,
}

/// Why a connection stopped. A fatal error (access denied, an event ERCS cannot
/// read) ends the subscription; any other is a dropped connection, and the loop
/// subscribes again.
#[derive(Debug)]
pub struct SourceError {
    pub error: Error,
    pub fatal: bool,
}

/// Where a connection starts: everything, or after a position (exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    Start,
    After(Position),
}

impl Resume {
    /// Everything up to here has been handled.
    pub fn position(self) -> Position {
        match self {
            Resume::Start => Position::START,
            Resume::After(position) => position,
        }
    }
}

/// Subscriptions to the log, one connection at a time.
pub trait Source: Send + Sync + 'static {
    /// One connection: the items after `from`, until it fails or ends.
    fn open(&self, from: Resume) -> BoxStream<'static, Result<Item, SourceError>>;
    /// The position of the last event in the log now (for `SubscribeFrom::End`).
    fn head(&self) -> BoxFuture<'static, Result<Position, SourceError>>;
}

/// How long to wait before the n-th reconnection in a row.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(100),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// `attempt` counts from 1.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
        self.first.saturating_mul(factor).min(self.max)
    }
}

/// After this many events passed over in a row, the subscriber hears a checkpoint.
pub const SKIPPED_PER_CHECKPOINT: usize = 256;

/// The loop's memory: what it has delivered, so a reconnection neither repeats
/// nor skips.
#[derive(Debug)]
pub struct Cursor {
    resume: Resume,
    caught_up_sent: bool,
    skipped: usize,
}

impl Cursor {
    pub fn new(resume: Resume) -> Self {
        Self {
            resume,
            caught_up_sent: false,
            skipped: 0,
        }
    }

    /// Where the next connection starts.
    pub fn resume(&self) -> Resume {
        self.resume
    }

    /// Takes one item of a connection; returns what the subscriber gets, if anything.
    pub fn accept(&mut self, item: Item) -> Option<SubscriptionMessage> {
        let last = self.resume.position();
        match item {
            Item::Event(event) if event.position > last => {
                self.resume = Resume::After(event.position);
                self.skipped = 0;
                Some(SubscriptionMessage::Event(event))
            }
            Item::Skipped(position) if position > last => {
                self.resume = Resume::After(position);
                self.skipped += 1;
                self.skipped
                    .is_multiple_of(SKIPPED_PER_CHECKPOINT)
                    .then_some(SubscriptionMessage::Checkpoint(position))
            }
            Item::Checkpoint(position) if position > last => {
                self.resume = Resume::After(position);
                self.skipped = 0;
                Some(SubscriptionMessage::Checkpoint(position))
            }
            Item::CaughtUp if !self.caught_up_sent => {
                self.caught_up_sent = true;
                Some(SubscriptionMessage::CaughtUp(last))
            }
            // Sent again after a reconnection, or behind the cursor: already handled.
            Item::Event(_) | Item::Skipped(_) | Item::Checkpoint(_) | Item::CaughtUp => None,
        }
    }
}

struct Loop<S> {
    source: Arc<S>,
    from: SubscribeFrom,
    cursor: Option<Cursor>,
    connection: Option<BoxStream<'static, Result<Item, SourceError>>>,
    failures: u32,
    backoff: Backoff,
    done: bool,
}

/// A subscription that survives dropped connections; see the module's text.
pub fn resubscribing<S: Source>(
    source: Arc<S>,
    from: SubscribeFrom,
    backoff: Backoff,
) -> Subscription {
    let state = Loop {
        source,
        from,
        cursor: None,
        connection: None,
        failures: 0,
        backoff,
        done: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if state.done {
                return None;
            }
            if state.failures > 0 {
                tokio::time::sleep(state.backoff.delay(state.failures)).await;
            }
            let cursor = match &mut state.cursor {
                Some(cursor) => cursor,
                None => {
                    let resume = match state.from {
                        SubscribeFrom::Start => Resume::Start,
                        SubscribeFrom::After(position) => Resume::After(position),
                        // "From now": the head, found once, so that a reconnection
                        // resumes there and not at a later "now".
                        SubscribeFrom::End => match state.source.head().await {
                            Ok(head) => Resume::After(head),
                            Err(e) if e.fatal => {
                                state.done = true;
                                return Some((Err(e.error), state));
                            }
                            Err(e) => {
                                state.failures += 1;
                                tracing::warn!(error = %e.error, attempt = state.failures, "KurrentDB: the log's head is unknown; retrying");
                                continue;
                            }
                        },
                    };
                    state.cursor.insert(Cursor::new(resume))
                }
            };
            let connection = state
                .connection
                .get_or_insert_with(|| state.source.open(cursor.resume()));
            match connection.next().await {
                Some(Ok(item)) => {
                    state.failures = 0;
                    if let Some(message) = cursor.accept(item) {
                        return Some((Ok(message), state));
                    }
                }
                Some(Err(e)) if e.fatal => {
                    state.done = true;
                    return Some((Err(e.error), state));
                }
                ended => {
                    state.connection = None;
                    state.failures = state.failures.saturating_add(1);
                    let error = match ended {
                        Some(Err(e)) => e.error.to_string(),
                        _ => "the server ended the subscription".to_owned(),
                    };
                    tracing::warn!(
                        %error,
                        attempt = state.failures,
                        after = %cursor.resume().position(),
                        "KurrentDB subscription dropped; subscribing again after the last position handled"
                    );
                }
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use ercs_eventlog::{EventType, JsonObject, StreamName};

    use super::*;

    fn event(position: u64) -> RecordedEvent {
        RecordedEvent {
            id: uuid::Uuid::new_v4(),
            stream: StreamName::new("team-1").unwrap(),
            revision: position,
            position: Position(position),
            event_type: EventType::new("BedsReported").unwrap(),
            data: JsonObject::empty(),
            metadata: JsonObject::empty(),
            recorded_at: chrono::Utc::now(),
        }
    }

    /// A connection as scripted: its items, then how it stops (`None`: it stays open).
    type Script = (Vec<Item>, Option<SourceError>);

    fn dropped() -> Option<SourceError> {
        Some(SourceError {
            error: Error::Storage("connection reset".into()),
            fatal: false,
        })
    }

    /// Scripted connections, one per `open`, recording where each was asked to start.
    struct Scripted {
        connections: Mutex<VecDeque<Script>>,
        opened_from: Mutex<Vec<Resume>>,
        head: Position,
    }

    impl Scripted {
        fn new(connections: Vec<Script>) -> Arc<Self> {
            Arc::new(Self {
                connections: Mutex::new(connections.into()),
                opened_from: Mutex::new(Vec::new()),
                head: Position(40),
            })
        }
        fn opened_from(&self) -> Vec<Resume> {
            self.opened_from.lock().unwrap().clone()
        }
    }

    impl Source for Scripted {
        fn open(&self, from: Resume) -> BoxStream<'static, Result<Item, SourceError>> {
            self.opened_from.lock().unwrap().push(from);
            let (items, end) = self
                .connections
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or((Vec::new(), None));
            let items = futures::stream::iter(items.into_iter().map(Ok));
            match end {
                Some(error) => items.chain(futures::stream::iter([Err(error)])).boxed(),
                None => items.chain(futures::stream::pending()).boxed(),
            }
        }
        fn head(&self) -> BoxFuture<'static, Result<Position, SourceError>> {
            let head = self.head;
            Box::pin(async move { Ok(head) })
        }
    }

    async fn take(subscription: &mut Subscription, n: usize) -> Vec<SubscriptionMessage> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(
                subscription
                    .next()
                    .await
                    .expect("a message")
                    .expect("no error"),
            );
        }
        out
    }

    fn positions(messages: &[SubscriptionMessage]) -> Vec<(char, u64)> {
        messages
            .iter()
            .map(|m| match m {
                SubscriptionMessage::Event(e) => ('e', e.position.0),
                SubscriptionMessage::Checkpoint(p) => ('c', p.0),
                SubscriptionMessage::CaughtUp(p) => ('u', p.0),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_connection_resumes_after_the_last_event_delivered() {
        let source = Scripted::new(vec![
            (
                vec![Item::Event(event(1)), Item::Event(event(7))],
                dropped(),
            ),
            (vec![Item::Event(event(9)), Item::CaughtUp], None),
        ]);
        let mut subscription =
            resubscribing(source.clone(), SubscribeFrom::Start, Backoff::default());
        let got = take(&mut subscription, 4).await;
        assert_eq!(positions(&got), [('e', 1), ('e', 7), ('e', 9), ('u', 9)]);
        assert_eq!(
            source.opened_from(),
            [Resume::Start, Resume::After(Position(7))]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_checkpoint_past_the_last_event_is_where_the_next_connection_starts() {
        let source = Scripted::new(vec![
            (
                vec![
                    Item::Event(event(3)),
                    Item::Skipped(Position(5)),
                    Item::Checkpoint(Position(12)),
                ],
                dropped(),
            ),
            (vec![Item::Skipped(Position(20))], dropped()),
            (vec![Item::Event(event(25))], None),
        ]);
        let mut subscription = resubscribing(
            source.clone(),
            SubscribeFrom::After(Position(2)),
            Backoff::default(),
        );
        let got = take(&mut subscription, 3).await;
        assert_eq!(positions(&got), [('e', 3), ('c', 12), ('e', 25)]);
        assert_eq!(
            source.opened_from(),
            [
                Resume::After(Position(2)),
                Resume::After(Position(12)),
                Resume::After(Position(20)),
            ],
            "each connection starts after the furthest point handled, events skipped included"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn what_a_new_connection_sends_again_is_not_delivered_twice() {
        let source = Scripted::new(vec![
            (
                vec![Item::Event(event(4)), Item::CaughtUp, Item::Event(event(6))],
                dropped(),
            ),
            // A server that resumes inclusively, or replays: 4 and 6 again, a stale
            // checkpoint, and catch-up again.
            (
                vec![
                    Item::Event(event(4)),
                    Item::Event(event(6)),
                    Item::Checkpoint(Position(5)),
                    Item::CaughtUp,
                    Item::Event(event(8)),
                ],
                None,
            ),
        ]);
        let mut subscription =
            resubscribing(source.clone(), SubscribeFrom::Start, Backoff::default());
        let got = take(&mut subscription, 4).await;
        assert_eq!(positions(&got), [('e', 4), ('u', 4), ('e', 6), ('e', 8)]);
        assert!(
            tokio::time::timeout(Duration::from_secs(60), subscription.next())
                .await
                .is_err(),
            "nothing more: no second CaughtUp"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn from_the_end_means_after_the_head_then_and_reconnects_there() {
        let source = Scripted::new(vec![
            (vec![], dropped()),
            (vec![Item::Event(event(41))], None),
        ]);
        let mut subscription =
            resubscribing(source.clone(), SubscribeFrom::End, Backoff::default());
        let got = take(&mut subscription, 1).await;
        assert_eq!(positions(&got), [('e', 41)]);
        assert_eq!(
            source.opened_from(),
            [Resume::After(Position(40)), Resume::After(Position(40))],
            "a reconnection before any event resumes at the head found first, not at a later end"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn reconnections_back_off_and_a_fatal_error_ends_the_subscription() {
        let source = Scripted::new(vec![
            (vec![], dropped()),
            (vec![], dropped()),
            (vec![], dropped()),
            (
                vec![],
                Some(SourceError {
                    error: Error::Storage("access denied".into()),
                    fatal: true,
                }),
            ),
        ]);
        let start = tokio::time::Instant::now();
        let mut subscription =
            resubscribing(source.clone(), SubscribeFrom::Start, Backoff::default());
        let end = subscription.next().await;
        assert!(matches!(end, Some(Err(Error::Storage(m))) if m == "access denied"));
        assert!(
            subscription.next().await.is_none(),
            "it ends after a fatal error"
        );
        // 100 + 200 + 400 ms before the 2nd, 3rd and 4th connections.
        assert_eq!(start.elapsed(), Duration::from_millis(700));
        assert_eq!(source.opened_from().len(), 4);
    }

    #[test]
    fn a_long_run_of_events_passed_over_is_reported_as_checkpoints() {
        let mut cursor = Cursor::new(Resume::Start);
        let mut heard = Vec::new();
        for p in 1..=(2 * SKIPPED_PER_CHECKPOINT as u64 + 10) {
            heard.extend(cursor.accept(Item::Skipped(Position(p))));
        }
        assert_eq!(
            heard,
            [
                SubscriptionMessage::Checkpoint(Position(SKIPPED_PER_CHECKPOINT as u64)),
                SubscriptionMessage::Checkpoint(Position(2 * SKIPPED_PER_CHECKPOINT as u64)),
            ]
        );
        assert_eq!(
            cursor.resume(),
            Resume::After(Position(2 * SKIPPED_PER_CHECKPOINT as u64 + 10)),
            "the cursor moves past every event passed over, reported or not"
        );
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let backoff = Backoff::default();
        let delays: Vec<u64> = (1..=9)
            .map(|n| backoff.delay(n).as_millis() as u64)
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(5));
    }
}
