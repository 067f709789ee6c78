//! One way to wrap a log: [`Around`] names the log inside and the few things a
//! wrapper adds (time each append, count what reads return, hold back a
//! subscription, hide or pin what the log knows of a stream's tip); [`Wrapped`]
//! implements the whole port with them, so no wrapper forwards the port method
//! by method.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use crate::{
    AppendOnce, AppendResult, CommandKey, Direction, Error, EventData, EventLog, ExpectedRevision,
    Filter, KeyedAppend, Position, ReadFrom, RecordedEvent, Revision, StreamName, StreamTip,
    SubscribeFrom, Subscription,
};

/// How an append ended, for [`Around::appended`].
#[derive(Debug, Clone, Copy)]
pub enum Appended<'a> {
    /// Written now.
    Written,
    /// A keyed command already in the log: nothing written.
    Replayed,
    Failed(&'a Error),
}

/// What a wrapper adds around the log it holds. Every hook does nothing unless
/// overridden.
pub trait Around: Send + Sync + 'static {
    /// The log inside, as of this call.
    fn log(&self) -> Arc<dyn EventLog>;

    /// An append of `events` events, begun at `began`, ended as `outcome`.
    fn appended(&self, _began: Instant, _events: usize, _outcome: Appended<'_>) {}

    /// The events a stream read returned.
    fn read_stream(&self, _events: &[RecordedEvent]) {}

    /// The subscription handed out, from the inner log's.
    fn subscription(&self, subscription: Subscription) -> Subscription {
        subscription
    }

    /// The tip the inner log knows (see [`EventLog::last_known`]).
    fn last_known(&self, stream: &StreamName) -> Option<StreamTip> {
        self.log().last_known(stream)
    }
}

/// The port, implemented by an [`Around`].
pub struct Wrapped<A>(pub A);

impl<A> std::ops::Deref for Wrapped<A> {
    type Target = A;
    fn deref(&self) -> &A {
        &self.0
    }
}

fn ended<'a, T>(outcome: &'a Result<T, Error>, ok: Appended<'static>) -> Appended<'a> {
    match outcome {
        Ok(_) => ok,
        Err(error) => Appended::Failed(error),
    }
}

#[async_trait]
impl<A: Around> EventLog for Wrapped<A> {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
    ) -> Result<AppendResult, Error> {
        let (began, count) = (Instant::now(), events.len());
        let outcome = self.0.log().append(stream, expected, events).await;
        self.0
            .appended(began, count, ended(&outcome, Appended::Written));
        outcome
    }

    async fn append_once(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
        key: &CommandKey,
    ) -> Result<AppendOnce, Error> {
        let (began, count) = (Instant::now(), events.len());
        let outcome = self
            .0
            .log()
            .append_once(stream, expected, events, key)
            .await;
        let ok = match &outcome {
            Ok(AppendOnce::AlreadyApplied(_)) => Appended::Replayed,
            _ => Appended::Written,
        };
        self.0.appended(began, count, ended(&outcome, ok));
        outcome
    }

    async fn find_key(&self, key: &CommandKey) -> Result<Option<KeyedAppend>, Error> {
        self.0.log().find_key(key).await
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from: ReadFrom<Revision>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let events = self
            .0
            .log()
            .read_stream(stream, from, direction, limit)
            .await?;
        self.0.read_stream(&events);
        Ok(events)
    }

    async fn read_all(
        &self,
        from: ReadFrom<Position>,
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.0.log().read_all(from, direction, filter, limit).await
    }

    async fn head(&self) -> Result<Position, Error> {
        self.0.log().head().await
    }

    fn last_known(&self, stream: &StreamName) -> Option<StreamTip> {
        self.0.last_known(stream)
    }

    fn subscribe_all(&self, from: SubscribeFrom, filter: Filter) -> Subscription {
        self.0
            .subscription(self.0.log().subscribe_all(from, filter))
    }
}
