//! The real SQLite log, counting the stream events it hands back: what a
//! command costs in reads. It can also be pointed at another SQLite log, as a
//! log restored from a backup would be.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use ercs_eventlog::{Around, EventLog, RecordedEvent, SqliteEventLog, Wrapped};

pub struct Counter {
    inner: RwLock<Arc<SqliteEventLog>>,
    read: AtomicUsize,
}

pub type CountingLog = Wrapped<Counter>;

impl Counter {
    pub fn open(dir: &tempfile::TempDir) -> Arc<CountingLog> {
        Arc::new(Wrapped(Self {
            inner: RwLock::new(sqlite(dir.path())),
            read: AtomicUsize::new(0),
        }))
    }

    /// From now on, `other`'s log.
    pub fn replace_with(&self, other: &Counter) {
        let log = Arc::clone(&other.inner.read().unwrap());
        *self.inner.write().unwrap() = log;
    }

    /// Stream events returned since the last call.
    pub fn take_read(&self) -> usize {
        self.read.swap(0, Ordering::SeqCst)
    }
}

impl Around for Counter {
    fn log(&self) -> Arc<dyn EventLog> {
        Arc::clone(&self.inner.read().unwrap()) as Arc<dyn EventLog>
    }

    fn read_stream(&self, events: &[RecordedEvent]) {
        self.read.fetch_add(events.len(), Ordering::SeqCst);
    }
}

fn sqlite(dir: &Path) -> Arc<SqliteEventLog> {
    Arc::new(SqliteEventLog::open(dir.join("events.db")).unwrap())
}
