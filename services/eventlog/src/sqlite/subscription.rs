//! Subscriptions read the committed log in windows up to the writer's published head,
//! then wait for the head to move. Catch-up and live are the same loop, so there is
//! no hand-over between them where an event could be lost or delivered twice.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::stream;
use tokio::sync::watch;

use super::reader::{Readers, log_window};
use crate::Error;
use crate::model::{Direction, Filter, Position, SubscriptionMessage};
use crate::port::Subscription;

/// Events read per window.
const WINDOW: usize = 1024;
/// A filtered subscription reports a checkpoint at least this often (in positions)
/// while it skips events, so its consumer can store progress.
const CHECKPOINT_EVERY: u64 = 1024;

struct State {
    readers: Arc<Readers>,
    head: watch::Receiver<Position>,
    filter: Filter,
    /// Every position up to here has been looked at.
    scanned: Position,
    /// The last position reported, as an event or a checkpoint.
    reported: Position,
    caught_up: bool,
    pending: VecDeque<SubscriptionMessage>,
}

pub(super) fn subscribe(
    readers: Arc<Readers>,
    head: watch::Receiver<Position>,
    after: Position,
    filter: Filter,
) -> Subscription {
    let state = State {
        readers,
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
        let filter = self.filter.clone();
        let events = self
            .readers
            .run(move |conn| log_window(conn, window, Direction::Forwards, &filter, WINDOW))
            .await?;
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
