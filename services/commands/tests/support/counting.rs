//! The real SQLite log, counting the stream events it hands back: what a
//! command costs in reads. It can also be pointed at another SQLite log, as a
//! log restored from a backup would be, and say of a stream's tip what a log
//! shared with other writers says (nothing) or what it said a moment ago.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use ercs_eventlog::{
    Around, EventLog, RecordedEvent, SqliteEventLog, StreamName, StreamTip, Wrapped,
};

pub struct Counter {
    inner: RwLock<Arc<SqliteEventLog>>,
    read: AtomicUsize,
    tips: Mutex<Tips>,
}

/// What the log says of a stream's tip.
#[derive(Clone, Copy)]
pub enum Tips {
    /// What the SQLite log knows.
    Known,
    /// Nothing, as a shared store says.
    Hidden,
    /// This one, whatever has been appended since.
    Pinned(StreamTip),
}

pub type CountingLog = Wrapped<Counter>;

impl Counter {
    pub fn open(dir: &tempfile::TempDir) -> Arc<CountingLog> {
        Arc::new(Wrapped(Self {
            inner: RwLock::new(sqlite(dir.path())),
            read: AtomicUsize::new(0),
            tips: Mutex::new(Tips::Known),
        }))
    }

    /// From now on, `other`'s log.
    pub fn replace_with(&self, other: &Counter) {
        let log = Arc::clone(&other.inner.read().unwrap());
        *self.inner.write().unwrap() = log;
    }

    /// From now on, says `tips` of every stream's tip.
    pub fn say_tips(&self, tips: Tips) {
        *self.tips.lock().unwrap() = tips;
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

    fn last_known(&self, stream: &StreamName) -> Option<StreamTip> {
        match *self.tips.lock().unwrap() {
            Tips::Known => self.log().last_known(stream),
            Tips::Hidden => None,
            Tips::Pinned(tip) => Some(tip),
        }
    }
}

fn sqlite(dir: &Path) -> Arc<SqliteEventLog> {
    Arc::new(SqliteEventLog::open(dir.join("events.db")).unwrap())
}
