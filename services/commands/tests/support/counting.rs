//! The real SQLite log, counting the stream events it hands back: what a
//! command costs in reads. It can also be pointed at another SQLite log, as a
//! log restored from a backup would be.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use ercs_eventlog::{
    AppendOnce, AppendResult, CommandKey, Direction, Error, EventData, EventLog, ExpectedRevision,
    Filter, KeyedAppend, Position, ReadFrom, RecordedEvent, Revision, SqliteEventLog, StreamName,
    SubscribeFrom, Subscription,
};

pub struct CountingLog {
    inner: RwLock<Arc<SqliteEventLog>>,
    read: AtomicUsize,
}

impl CountingLog {
    pub fn open(dir: &tempfile::TempDir) -> Arc<Self> {
        Arc::new(Self {
            inner: RwLock::new(sqlite(dir.path())),
            read: AtomicUsize::new(0),
        })
    }

    /// From now on, `other`'s log.
    pub fn replace_with(&self, other: &CountingLog) {
        *self.inner.write().unwrap() = other.log();
    }

    fn log(&self) -> Arc<SqliteEventLog> {
        Arc::clone(&self.inner.read().unwrap())
    }

    /// Stream events returned since the last call.
    pub fn take_read(&self) -> usize {
        self.read.swap(0, Ordering::SeqCst)
    }
}

#[async_trait]
impl EventLog for CountingLog {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
    ) -> Result<AppendResult, Error> {
        self.log().append(stream, expected, events).await
    }

    async fn append_once(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
        key: &CommandKey,
    ) -> Result<AppendOnce, Error> {
        self.log().append_once(stream, expected, events, key).await
    }

    async fn find_key(&self, key: &CommandKey) -> Result<Option<KeyedAppend>, Error> {
        self.log().find_key(key).await
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from: ReadFrom<Revision>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let events = self
            .log()
            .read_stream(stream, from, direction, limit)
            .await?;
        self.read.fetch_add(events.len(), Ordering::SeqCst);
        Ok(events)
    }

    async fn read_all(
        &self,
        from: ReadFrom<Position>,
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        self.log().read_all(from, direction, filter, limit).await
    }

    async fn head(&self) -> Result<Position, Error> {
        self.log().head().await
    }

    fn subscribe_all(&self, from: SubscribeFrom, filter: Filter) -> Subscription {
        self.log().subscribe_all(from, filter)
    }
}

fn sqlite(dir: &Path) -> Arc<SqliteEventLog> {
    Arc::new(SqliteEventLog::open(dir.join("events.db")).unwrap())
}
