//! A subscription for any backend that can read the committed log in windows of
//! positions and publishes the highest position it knows to be committed with no
//! hole below it (its head). Catch-up and live are the same loop — read a window up
//! to the head, then wait for the head to move — so there is no hand-over between
//! them where an event could be lost or delivered twice.

use std::collections::VecDeque;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream;
use tokio::sync::watch;

use crate::Error;
use crate::model::{Direction, Filter, Position, ReadFrom, RecordedEvent, SubscriptionMessage};
use crate::port::Subscription;

/// Events read per window.
pub const WINDOW: usize = 1024;
/// A filtered subscription reports a checkpoint at least this often (in positions)
/// while it skips events, so its consumer can store progress.
pub const CHECKPOINT_EVERY: u64 = 1024;

/// Reads the committed events whose positions lie in `[lowest, highest]` and match
/// `filter`, forwards, at most `limit` of them.
#[async_trait]
pub trait LogWindows: Send + Sync + 'static {
    async fn window(
        &self,
        window: (Position, Position),
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error>;
}

struct State {
    reader: Arc<dyn LogWindows>,
    head: watch::Receiver<Position>,
    filter: Filter,
    /// Every position up to here has been looked at.
    scanned: Position,
    /// The last position reported, as an event or a checkpoint.
    reported: Position,
    caught_up: bool,
    pending: VecDeque<SubscriptionMessage>,
}

/// Every event after `after` that matches `filter`, read through `reader` up to
/// `head`. The head must only ever name a position below which every event is
/// committed: that is what makes "no gap" hold.
pub fn subscribe(
    reader: Arc<dyn LogWindows>,
    head: watch::Receiver<Position>,
    after: Position,
    filter: Filter,
) -> Subscription {
    let state = State {
        reader,
        head,
        filter,
        scanned: after,
        reported: after,
        caught_up: false,
        pending: VecDeque::new(),
    };
    Box::pin(stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        match state.next().await {
            Ok(Some(message)) => Some((Ok(message), Some(state))),
            Ok(None) => None,
            // Report the failure once, then end.
            Err(error) => Some((Err(error), None)),
        }
    }))
}

impl State {
    async fn next(&mut self) -> Result<Option<SubscriptionMessage>, Error> {
        loop {
            if let Some(message) = self.pending.pop_front() {
                return Ok(Some(message));
            }
            let head = *self.head.borrow_and_update();
            if self.scanned < head {
                self.read_window(head).await?;
            } else if !self.caught_up {
                self.caught_up = true;
                self.reported = self.scanned;
                return Ok(Some(SubscriptionMessage::CaughtUp(self.scanned)));
            } else if self.head.changed().await.is_err() {
                // The log closed; everything it committed has been delivered.
                return Ok(None);
            }
        }
    }

    async fn read_window(&mut self, head: Position) -> Result<(), Error> {
        let window = (Position(self.scanned.0 + 1), head);
        let events = self.reader.window(window, &self.filter, WINDOW).await?;
        // A full window may stop short of the head; otherwise all up to it was seen.
        self.scanned = match events.last() {
            Some(last) if events.len() == WINDOW => last.position,
            _ => head,
        };
        if let Some(last) = events.last() {
            self.reported = last.position;
        }
        self.pending
            .extend(events.into_iter().map(SubscriptionMessage::Event));
        if self.scanned.0 - self.reported.0 >= CHECKPOINT_EVERY {
            self.reported = self.scanned;
            self.pending
                .push_back(SubscriptionMessage::Checkpoint(self.scanned));
        }
        Ok(())
    }
}

/// The inclusive range a read covers, for numbering that starts at `first`
/// (revisions at 0, positions at 1); `None` when it covers nothing (forwards from
/// the end). Shared by the backends so that `ReadFrom` means one thing.
pub fn read_range(from: ReadFrom<u64>, direction: Direction, first: u64) -> Option<(u64, u64)> {
    match (direction, from) {
        (Direction::Forwards, ReadFrom::Start) => Some((first, u64::MAX)),
        (Direction::Forwards, ReadFrom::At(at)) => Some((at, u64::MAX)),
        (Direction::Forwards, ReadFrom::End) => None,
        (Direction::Backwards, ReadFrom::End) => Some((first, u64::MAX)),
        (Direction::Backwards, ReadFrom::At(at)) => Some((first, at)),
        (Direction::Backwards, ReadFrom::Start) => Some((first, first)),
    }
}
