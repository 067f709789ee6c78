//! The event log as the service uses it, with every append timed and its batch
//! counted for `/metrics`: the port wrapped, so every backend is measured the
//! same way and from the service's side (what a command waits for).

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use ercs_eventlog::{
    AppendOnce, AppendResult, CommandKey, Direction, Error, EventData, EventLog, ExpectedRevision,
    Filter, KeyedAppend, Position, ReadFrom, RecordedEvent, Revision, StreamName, SubscribeFrom,
    Subscription,
};

use crate::metrics::Metrics;

pub struct Metered {
    log: Arc<dyn EventLog>,
    metrics: Arc<Metrics>,
}

impl Metered {
    pub fn new(log: Arc<dyn EventLog>, metrics: Arc<Metrics>) -> Self {
        Self { log, metrics }
    }

    fn record<T>(&self, began: Instant, events: usize, outcome: &Result<T, Error>, ok: &str) {
        let label = match outcome {
            Ok(_) => ok,
            Err(Error::WrongExpectedRevision { .. }) => "conflict",
            Err(_) => "failed",
        };
        self.metrics
            .append_seconds
            .observe_duration(&[label], began.elapsed());
        self.metrics.append_events.observe(&[label], events as f64);
    }
}

#[async_trait]
impl EventLog for Metered {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
    ) -> Result<AppendResult, Error> {
        let (began, count) = (Instant::now(), events.len());
        let outcome = self.log.append(stream, expected, events).await;
        self.record(began, count, &outcome, "appended");
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
        let outcome = self.log.append_once(stream, expected, events, key).await;
        let ok = match &outcome {
            Ok(AppendOnce::AlreadyApplied(_)) => "replayed",
            _ => "appended",
        };
        self.record(began, count, &outcome, ok);
        outcome
    }

    async fn find_key(&self, key: &CommandKey) -> Result<Option<KeyedAppend>, Error> {
        self.log.find_key(key).await
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from: ReadFrom<Revision>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.log.read_stream(stream, from, direction, limit).await
    }

    async fn read_all(
        &self,
        from: ReadFrom<Position>,
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.log.read_all(from, direction, filter, limit).await
    }

    async fn head(&self) -> Result<Position, Error> {
        self.log.head().await
    }

    fn subscribe_all(&self, from: SubscribeFrom, filter: Filter) -> Subscription {
        self.log.subscribe_all(from, filter)
    }
}
