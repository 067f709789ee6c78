//! The embedded backend: one SQLite file in WAL mode, what `ercs serve` uses out of
//! the box.
//!
//! - One writer thread owns the writing connection and group-commits every append
//!   waiting at that moment ([`writer`]); throughput rises with concurrency because
//!   many appends share one sync.
//! - Reads run on a pool of read-only connections and never block the writer.
//! - WAL checkpoints run on a thread of their own ([`checkpoint`]), not inside
//!   the writer's commits.
//! - A `<file>.lock` beside the database keeps a second process from writing it.
//! - A new database and its lock are created with [`SqliteOptions::access`]'s
//!   mode before SQLite opens them; SQLite gives the `-wal` and `-shm` files the
//!   database's own mode.

mod checkpoint;
mod reader;
mod recent;
mod schema;
mod subscription;
mod transfer;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use async_trait::async_trait;
use tokio::sync::{oneshot, watch};

use self::reader::{Readers, log_window, stream_window};
pub use self::transfer::{SqliteImport, backup};
use self::writer::{AppendRequest, Tips, Writer};
use crate::Error;
use crate::files::FileAccess;
use crate::model::{
    AppendOnce, AppendResult, CommandKey, Direction, EventData, ExpectedRevision, Filter,
    KeyedAppend, Position, ReadFrom, RecordedEvent, Revision, StreamName, StreamTip, SubscribeFrom,
    check_append,
};
use crate::port::{EventLog, Subscription};
use crate::windowed::read_range as window;

/// Tuning for [`SqliteEventLog::open_with`]; the defaults suit a service.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Most appends committed in one transaction.
    pub max_batch: usize,
    /// Read connections: at most this many are open; a read beyond them waits.
    pub readers: usize,
    /// How many recent event ids the writer remembers to recognise `Any` retries
    /// (see [`recent`](self::recent) for why there is no index on ids).
    pub recent_ids: usize,
    /// Who may read the files the log creates (default: its owner only).
    pub access: FileAccess,
    /// The time appends are recorded at (default: the system clock).
    pub clock: RecordClock,
}

/// What time an SQLite log records its appends at: the system clock, or
/// another (a drill's sandbox records drill time, so two runs of one drill
/// record the same times).
#[derive(Clone, Default)]
pub struct RecordClock(Option<Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>>);

impl RecordClock {
    pub fn of(now: impl Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync + 'static) -> Self {
        RecordClock(Some(Arc::new(now)))
    }

    /// Now, in microseconds since 1970.
    pub(crate) fn micros(&self) -> Option<i64> {
        self.0.as_ref().map(|now| now().timestamp_micros())
    }
}

impl std::fmt::Debug for RecordClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "RecordClock(given)"
        } else {
            "RecordClock(system)"
        })
    }
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            max_batch: 1024,
            readers: 8,
            recent_ids: recent::RECENT_IDS,
            access: FileAccess::default(),
            clock: RecordClock::default(),
        }
    }
}

/// The SQLite event log. Cheap to clone; every clone is the same log. The writer
/// thread stops, and the file is released, when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteEventLog {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    requests: Option<mpsc::Sender<AppendRequest>>,
    writer: Option<JoinHandle<()>>,
    readers: Arc<Readers>,
    head: watch::Receiver<Position>,
    tips: Arc<Tips>,
    _lock: File,
}

impl SqliteEventLog {
    /// Opens the log at `path`, creating it if it does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens the log with non-default tuning.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, Error> {
        let path = path.as_ref().to_owned();
        let lock = lock(&path, options.access)?;
        // Before SQLite creates it world-readable (0644 less the umask).
        options
            .access
            .create_file(&path)
            .map_err(|e| Error::Storage(format!("{}: {e}", path.display())))?;
        let mut conn = schema::open_writer(&path)?;
        let checkpointer = checkpoint::start(&mut conn, &path)?;
        let (head_tx, head) = watch::channel(Position::START);
        let tips = Arc::new(Tips::default());
        let writer = Writer::new(
            conn,
            checkpointer,
            head_tx,
            Arc::clone(&tips),
            options.max_batch.max(1),
            options.recent_ids.max(1),
            options.clock.clone(),
        )?;
        let (requests, inbox) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("ercs-eventlog-writer".into())
            .spawn(move || writer.run(inbox))
            .map_err(|e| Error::Storage(format!("could not start the writer thread: {e}")))?;
        let readers = Arc::new(Readers::new(path.clone(), options.readers));
        let inner = Inner {
            path,
            requests: Some(requests),
            writer: Some(writer),
            readers,
            head,
            tips,
            _lock: lock,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Hands an append to the writer thread and waits for its outcome.
    async fn send(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
        key: Option<CommandKey>,
    ) -> Result<AppendOnce, Error> {
        check_append(&events)?;
        let (reply, answer) = oneshot::channel();
        let request = AppendRequest {
            stream: stream.clone(),
            expected,
            events,
            key,
            reply,
        };
        let requests = self.inner.requests.as_ref().ok_or(Error::Closed)?;
        requests.send(request).map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

/// Takes the lock beside the database: one writing process per file.
pub(crate) fn lock(path: &Path, access: FileAccess) -> Result<File, Error> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = access
        .open_writable(Path::new(&lock_path))
        .map_err(|e| Error::Storage(format!("{}: {e}", PathBuf::from(&lock_path).display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked {
            path: path.to_owned(),
        }),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Error::Storage(format!("{}: {e}", path.display())))
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel lets the writer finish its batch and stop; wait for it
        // so the file is released only when nothing writes to it any more.
        drop(self.requests.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

#[async_trait]
impl EventLog for SqliteEventLog {
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
    ) -> Result<AppendResult, Error> {
        match self.send(stream, expected, events, None).await? {
            AppendOnce::Appended(result) => Ok(result),
            AppendOnce::AlreadyApplied(_) => unreachable!("an append without a key"),
        }
    }

    async fn append_once(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
        key: &CommandKey,
    ) -> Result<AppendOnce, Error> {
        self.send(stream, expected, events, Some(key.clone())).await
    }

    async fn find_key(&self, key: &CommandKey) -> Result<Option<KeyedAppend>, Error> {
        let key = key.clone();
        self.inner
            .readers
            .run(move |conn| writer::find_key(conn, &key))
            .await
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from: ReadFrom<Revision>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let Some(window) = window(from, direction, 0) else {
            return Ok(Vec::new());
        };
        let stream = stream.clone();
        self.inner
            .readers
            .run(move |conn| stream_window(conn, &stream, window, direction, limit))
            .await
    }

    async fn read_all(
        &self,
        from: ReadFrom<Position>,
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let from = match from {
            ReadFrom::At(position) => ReadFrom::At(position.0),
            ReadFrom::Start => ReadFrom::Start,
            ReadFrom::End => ReadFrom::End,
        };
        let Some((lowest, highest)) = window(from, direction, 1) else {
            return Ok(Vec::new());
        };
        let window = (Position(lowest), Position(highest));
        let filter = filter.clone();
        self.inner
            .readers
            .run(move |conn| log_window(conn, window, direction, &filter, limit))
            .await
    }

    async fn head(&self) -> Result<Position, Error> {
        Ok(*self.inner.head.borrow())
    }

    /// Known for every stream this process wrote since it opened the file (up
    /// to the writer's limit): the lock keeps any other process from writing it.
    fn last_known(&self, stream: &StreamName) -> Option<StreamTip> {
        self.inner.tips.get(stream)
    }

    fn subscribe_all(&self, from: SubscribeFrom, filter: Filter) -> Subscription {
        let after = match from {
            SubscribeFrom::Start => Position::START,
            SubscribeFrom::End => *self.inner.head.borrow(),
            SubscribeFrom::After(position) => position,
        };
        subscription::subscribe(
            Arc::clone(&self.inner.readers),
            self.inner.head.clone(),
            after,
            filter,
        )
    }
}
