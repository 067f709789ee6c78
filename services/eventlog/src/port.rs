use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::Error;
use crate::model::{
    AppendOnce, AppendResult, CommandKey, Direction, EventData, ExpectedRevision, Filter,
    KeyedAppend, Position, ReadFrom, RecordedEvent, Revision, StreamName, StreamTip, SubscribeFrom,
    SubscriptionMessage,
};

/// A live subscription: catch-up, then live. It ends only when the log closes, with
/// an error, or when dropped.
pub type Subscription = BoxStream<'static, Result<SubscriptionMessage, Error>>;

/// The event log: the only source of truth. Semantics follow KurrentDB so that the
/// embedded SQLite backend and a KurrentDB cluster fit the same trait.
///
/// - Streams are named, one per aggregate; each has revisions 0, 1, 2, ...
/// - The whole log has one order: positions 1, 2, 3, ..., visible strictly in order.
/// - An append is atomic (all its events or none), durable when acknowledged,
///   checked against an [`ExpectedRevision`], and idempotent by event id.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends `events` to `stream` if it is at `expected`.
    ///
    /// When every event id is already in the stream, as one earlier append, this is
    /// a retry: nothing is written and that append's result comes back. When only
    /// some are, it fails with [`Error::IdempotencyConflict`].
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
    ) -> Result<AppendResult, Error>;

    /// Appends `events` to `stream` as the one effect of the command named `key`.
    ///
    /// The key is checked before the expected revision, in the same transaction as
    /// the append: if any earlier append carried `key`, nothing is written and
    /// [`AppendOnce::AlreadyApplied`] says where that append landed, whatever
    /// revision the stream is at now. So a command retried after a crash, or sent
    /// by many clients at once, takes effect at most once, even when the retry is
    /// decided on newer state. Keys are kept as long as the log.
    async fn append_once(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
        key: &CommandKey,
    ) -> Result<AppendOnce, Error>;

    /// Where the append that carried `key` landed, if one did.
    async fn find_key(&self, key: &CommandKey) -> Result<Option<KeyedAppend>, Error>;

    /// Reads up to `limit` events of one stream. `From::At(r)` includes revision `r`.
    /// A stream that does not exist reads as empty.
    async fn read_stream(
        &self,
        stream: &StreamName,
        from: ReadFrom<Revision>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error>;

    /// Reads up to `limit` events of the whole log that match `filter`, in position
    /// order (or its reverse). `From::At(p)` includes position `p`.
    async fn read_all(
        &self,
        from: ReadFrom<Position>,
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error>;

    /// The stream's last event, when this log knows it for certain without
    /// reading: a log whose only writer is in this process knows the streams it
    /// wrote since it opened. `None` means "read to find out" — always, for a log
    /// that shares its store with other writers. Known before the append that
    /// made it is acknowledged, so a caller that saw an append acknowledged never
    /// gets an older tip; one racing an append may, and an append decided on it
    /// fails its expected-revision check.
    fn last_known(&self, _stream: &StreamName) -> Option<StreamTip> {
        None
    }

    /// The position of the last committed event ([`Position::START`] when empty).
    async fn head(&self) -> Result<Position, Error>;

    /// Every matching event after `from`, in position order, each exactly once:
    /// first those already in the log, then, without a gap, those appended later.
    fn subscribe_all(&self, from: SubscribeFrom, filter: Filter) -> Subscription;
}
