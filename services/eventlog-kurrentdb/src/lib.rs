//! The ERCS event log on KurrentDB, through the official `kurrentdb` client.
//!
//! The port was written with KurrentDB's semantics, so most of it maps one to one:
//! streams and revisions, expected states, `$all`, filtered subscriptions with
//! checkpoints. What does not, and what this crate does about it:
//!
//! - **Positions** are sparse offsets, not 1, 2, 3 (see [`mapping`]).
//! - **Idempotency by event id.** KurrentDB recognises a retry exactly only when it
//!   carries the same expected revision as the original; with `Any` it consults a
//!   bounded in-memory cache and may write the events twice once they have left it.
//!   So ERCS checks ids itself (see [`KurrentEventLog::append`]), and never sends
//!   `Any`.
//! - **Command keys** have no transaction to share with the append: they live in
//!   streams of their own, claimed before the append (see [`keys`]).
//! - **Subscriptions** resubscribe through ERCS's own loop (see [`resubscribe`]).

pub mod keys;
pub mod mapping;
pub mod resubscribe;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod url;

use std::sync::Arc;

use async_trait::async_trait;
use ercs_eventlog::{
    AppendOnce, AppendResult, CommandKey, Direction, Error, EventData, EventLog, ExpectedRevision,
    Filter, KeyedAppend, Position, ReadFrom, RecordedEvent, Revision, StreamName, SubscribeFrom,
    Subscription, check_append,
};
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use kurrentdb::{
    AppendToStreamOptions, Client, CurrentRevision, ReadAllOptions, ReadStreamOptions,
    StreamPosition, StreamState, SubscribeToAllOptions, SubscriptionEvent, SubscriptionFilter,
    WriteResult,
};
use uuid::Uuid;

use crate::mapping::{
    checkpoint_to_port, from_port, stream_state, to_client_event, to_port, to_port_event,
    wrong_expected,
};
use crate::resubscribe::{Backoff, Item, Resume, Source, SourceError};
pub use crate::url::{KurrentUrl, UrlError};

/// How far back in a stream ERCS looks for an append's event ids when the append
/// does not name an exact revision (`Any`, `StreamExists`): a retry whose original
/// is among the stream's last this-many events is recognised.
pub const ID_SCAN_WINDOW: usize = 4096;

/// How many events one read asks the server for.
const PAGE: usize = 4096;

/// An event log in a KurrentDB node or cluster. Cheap to clone: clones share the
/// client and its connections.
#[derive(Clone)]
pub struct KurrentEventLog {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    url: KurrentUrl,
}

/// Whether an append got past KurrentDB's expected-state check.
enum Sent {
    Written(WriteResult),
    Conflict(CurrentRevision),
}

/// Where an append's event ids are in a stream, if anywhere.
#[derive(Debug, PartialEq)]
enum Found {
    /// None of them; the stream's last revision.
    Nowhere { last: Option<Revision> },
    /// All of them, in order and consecutively: an earlier append, and its result.
    Whole(AppendResult),
    /// Some of them: the first of the append's ids that is there.
    Partial(Uuid),
}

impl KurrentEventLog {
    /// Connects to the node or cluster `url` names, and checks that it answers.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let url = KurrentUrl::parse(url).map_err(|e| Error::Storage(e.to_string()))?;
        Self::connect_to(url).await
    }

    pub async fn connect_to(url: KurrentUrl) -> Result<Self, Error> {
        let client = Client::new(url.settings().clone())
            .map_err(|e| Error::Storage(format!("KurrentDB {url}: {e}")))?;
        let log = Self {
            inner: Arc::new(Inner { client, url }),
        };
        // The client connects lazily; one read says now whether the store is there.
        log.read_raw_stream("~ercs-ping", StreamPosition::End, Direction::Backwards, 1)
            .await
            .map_err(|e| {
                let reason = match e {
                    Error::Storage(reason) => reason,
                    other => other.to_string(),
                };
                Error::Storage(format!("{} does not answer: {reason}", log.inner.url))
            })?;
        Ok(log)
    }

    /// The connection string, without its password.
    pub fn url(&self) -> &KurrentUrl {
        &self.inner.url
    }

    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Reads raw events of one stream (any name, ERCS's own key streams too), a
    /// page at a time (the server takes a count as a signed number).
    pub(crate) async fn read_raw_stream(
        &self,
        stream: &str,
        mut from: StreamPosition<u64>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<kurrentdb::RecordedEvent>, Error> {
        let mut events = Vec::new();
        while events.len() < limit {
            let want = (limit - events.len()).min(PAGE);
            let page = self.read_stream_page(stream, from, direction, want).await?;
            let (count, last) = (page.len(), page.last().map(|e| e.revision));
            events.extend(page);
            let next = match (last, direction) {
                (Some(last), Direction::Forwards) => last.checked_add(1),
                (Some(last), Direction::Backwards) => last.checked_sub(1),
                (None, _) => None,
            };
            match next {
                Some(next) if count == want => from = StreamPosition::Position(next),
                _ => break,
            }
        }
        Ok(events)
    }

    async fn read_stream_page(
        &self,
        stream: &str,
        from: StreamPosition<u64>,
        direction: Direction,
        count: usize,
    ) -> Result<Vec<kurrentdb::RecordedEvent>, Error> {
        let options = ReadStreamOptions::default().position(from).max_count(count);
        let options = match direction {
            Direction::Forwards => options.forwards(),
            Direction::Backwards => options.backwards(),
        };
        let mut read = match self.client().read_stream(stream, &options).await {
            Ok(read) => read,
            Err(kurrentdb::Error::ResourceNotFound) => return Ok(Vec::new()),
            Err(e) => return Err(storage(e)),
        };
        let mut events = Vec::new();
        loop {
            match read.next().await {
                Ok(Some(resolved)) => events.extend(resolved.event),
                Ok(None) => return Ok(events),
                Err(kurrentdb::Error::ResourceNotFound) => return Ok(Vec::new()),
                Err(e) => return Err(storage(e)),
            }
        }
    }

    /// One page of `$all`, raw, with the server-side filter.
    async fn read_raw_all(
        &self,
        from: StreamPosition<kurrentdb::Position>,
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<kurrentdb::RecordedEvent>, Error> {
        let options = ReadAllOptions::default()
            .position(from)
            .max_count(limit)
            .filter(server_filter(filter));
        let options = match direction {
            Direction::Forwards => options.forwards(),
            Direction::Backwards => options.backwards(),
        };
        let mut read = self.client().read_all(&options).await.map_err(storage)?;
        let mut events = Vec::new();
        while let Some(resolved) = read.next().await.map_err(storage)? {
            events.extend(resolved.event);
        }
        Ok(events)
    }

    /// Sends an append with KurrentDB's own check of the expected state.
    async fn send(
        &self,
        stream: &StreamName,
        state: StreamState,
        events: &[EventData],
    ) -> Result<Sent, Error> {
        let events = events
            .iter()
            .map(to_client_event)
            .collect::<Result<Vec<_>, _>>()?;
        let options = AppendToStreamOptions::default().stream_state(state);
        match self
            .client()
            .append_to_stream(stream.as_str(), &options, events)
            .await
        {
            Ok(written) => Ok(Sent::Written(written)),
            Err(kurrentdb::Error::WrongExpectedVersion { current, .. }) => {
                Ok(Sent::Conflict(current))
            }
            Err(e) => Err(storage(e)),
        }
    }

    /// Where `events`' ids are among the last [`ID_SCAN_WINDOW`] events of `stream`.
    async fn find_ids(&self, stream: &StreamName, events: &[EventData]) -> Result<Found, Error> {
        let tail = self
            .read_raw_stream(
                stream.as_str(),
                StreamPosition::End,
                Direction::Backwards,
                ID_SCAN_WINDOW,
            )
            .await?;
        let last = tail.first().map(|e| e.revision);
        let ids: Vec<Uuid> = events.iter().map(EventData::id).collect();
        let mut hits: Vec<&kurrentdb::RecordedEvent> =
            tail.iter().filter(|e| ids.contains(&e.id)).collect();
        if hits.is_empty() {
            return Ok(Found::Nowhere { last });
        }
        hits.sort_by_key(|e| e.revision);
        let whole = hits.len() == ids.len()
            && hits.iter().zip(&ids).all(|(hit, id)| hit.id == *id)
            && hits.windows(2).all(|w| w[1].revision == w[0].revision + 1);
        if whole {
            let last_hit = hits[hits.len() - 1];
            return Ok(Found::Whole(AppendResult {
                next_expected_revision: last_hit.revision,
                position: to_port(last_hit.position)?,
            }));
        }
        let first = ids
            .iter()
            .find(|id| hits.iter().any(|hit| hit.id == **id))
            .copied()
            .unwrap_or(hits[0].id);
        Ok(Found::Partial(first))
    }

    /// The result of an append KurrentDB acknowledged, read back: the events at the
    /// revisions it names must be ours (KurrentDB answers a retry it recognised with
    /// the original's revisions), and their position is only known from a read.
    async fn confirm(
        &self,
        stream: &StreamName,
        events: &[EventData],
        written: WriteResult,
    ) -> Result<AppendResult, Error> {
        let last = written.next_expected_version;
        let count = events.len() as u64;
        if let Some(first) = (last + 1).checked_sub(count) {
            let read = self
                .read_raw_stream(
                    stream.as_str(),
                    StreamPosition::Position(first),
                    Direction::Forwards,
                    events.len(),
                )
                .await?;
            let ours =
                read.len() == events.len() && read.iter().zip(events).all(|(r, e)| r.id == e.id());
            if ours {
                return Ok(AppendResult {
                    next_expected_revision: last,
                    position: to_port(read[read.len() - 1].position)?,
                });
            }
        }
        match self.find_ids(stream, events).await? {
            Found::Whole(result) => Ok(result),
            Found::Partial(id) => Err(Error::IdempotencyConflict {
                stream: stream.clone(),
                id,
            }),
            Found::Nowhere { .. } => Err(Error::Storage(format!(
                "KurrentDB acknowledged an append to {stream} at revision {last}, but its events \
                 are not there"
            ))),
        }
    }

    /// `Any` and `StreamExists`: look for the ids first, then append at the revision
    /// seen, so that the look and the append are one step (another writer in
    /// between makes KurrentDB refuse, and ERCS looks again).
    async fn append_looking_first(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: &[EventData],
    ) -> Result<AppendResult, Error> {
        const ATTEMPTS: usize = 64;
        for _ in 0..ATTEMPTS {
            let last = match self.find_ids(stream, events).await? {
                Found::Whole(result) => return Ok(result),
                Found::Partial(id) => {
                    return Err(Error::IdempotencyConflict {
                        stream: stream.clone(),
                        id,
                    });
                }
                Found::Nowhere { last } => last,
            };
            if expected == ExpectedRevision::StreamExists && last.is_none() {
                return Err(Error::WrongExpectedRevision {
                    stream: stream.clone(),
                    expected,
                    actual: None,
                });
            }
            let state = last.map_or(StreamState::NoStream, StreamState::StreamRevision);
            match self.send(stream, state, events).await? {
                Sent::Written(written) => return self.confirm(stream, events, written).await,
                Sent::Conflict(_) => continue,
            }
        }
        Err(Error::Storage(format!(
            "stream {stream} changed under each of {ATTEMPTS} attempts to append to it"
        )))
    }

    /// The stream's last revision, `None` when it does not exist.
    async fn last_revision(&self, stream: &StreamName) -> Result<Option<Revision>, Error> {
        let last = self
            .read_raw_stream(
                stream.as_str(),
                StreamPosition::End,
                Direction::Backwards,
                1,
            )
            .await?;
        Ok(last.first().map(|e| e.revision))
    }
}

#[async_trait]
impl EventLog for KurrentEventLog {
    /// `Exact` and `NoStream` go to KurrentDB as they are: its check is exact, and
    /// it recognises a retry at the original's expected revision. When it refuses,
    /// ERCS looks for the ids (a retry decided on an older revision, or a partial
    /// reuse) before answering with the conflict. `Any` and `StreamExists` look
    /// first (see `append_looking_first`), within [`ID_SCAN_WINDOW`].
    async fn append(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
    ) -> Result<AppendResult, Error> {
        check_append(&events)?;
        let Some(state) = stream_state(expected) else {
            return Err(Error::WrongExpectedRevision {
                stream: stream.clone(),
                expected,
                actual: self.last_revision(stream).await?,
            });
        };
        if matches!(
            expected,
            ExpectedRevision::Any | ExpectedRevision::StreamExists
        ) {
            return self.append_looking_first(stream, expected, &events).await;
        }
        match self.send(stream, state, &events).await? {
            Sent::Written(written) => self.confirm(stream, &events, written).await,
            Sent::Conflict(current) => match self.find_ids(stream, &events).await? {
                Found::Whole(result) => Ok(result),
                Found::Partial(id) => Err(Error::IdempotencyConflict {
                    stream: stream.clone(),
                    id,
                }),
                Found::Nowhere { .. } => Err(wrong_expected(stream, expected, current)),
            },
        }
    }

    async fn append_once(
        &self,
        stream: &StreamName,
        expected: ExpectedRevision,
        events: Vec<EventData>,
        key: &CommandKey,
    ) -> Result<AppendOnce, Error> {
        keys::append_once(self, stream, expected, events, key).await
    }

    async fn find_key(&self, key: &CommandKey) -> Result<Option<KeyedAppend>, Error> {
        keys::find_key(self, key).await
    }

    async fn read_stream(
        &self,
        stream: &StreamName,
        from: ReadFrom<Revision>,
        direction: Direction,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let from = match from {
            ReadFrom::Start => StreamPosition::Start,
            ReadFrom::End => StreamPosition::End,
            ReadFrom::At(revision) => StreamPosition::Position(revision),
        };
        let raw = self
            .read_raw_stream(stream.as_str(), from, direction, limit)
            .await?;
        let mut events = Vec::with_capacity(raw.len());
        for event in &raw {
            events.extend(to_port_event(event)?);
        }
        Ok(events)
    }

    /// Pages through `$all` with the server-side filter (a stream prefix, or event
    /// types, and always: no `$` system streams, no `~ercs-` key streams), applying
    /// the rest of the filter here, until `limit` events match or the log ends.
    async fn read_all(
        &self,
        from: ReadFrom<Position>,
        direction: Direction,
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let mut start = match from {
            ReadFrom::Start => StreamPosition::Start,
            ReadFrom::End => StreamPosition::End,
            ReadFrom::At(position) if position == Position::START => StreamPosition::Start,
            ReadFrom::At(position) => StreamPosition::Position(from_port(position)),
        };
        // A backward read from a position may or may not include the event there;
        // take that one from a forward read, and drop it from the backward one.
        let mut bound: Option<kurrentdb::Position> = None;
        if let (ReadFrom::At(position), Direction::Backwards) = (from, direction)
            && position > Position::START
        {
            let at = from_port(position);
            let first = self
                .read_raw_all(StreamPosition::Position(at), Direction::Forwards, filter, 1)
                .await?;
            for event in first.iter().filter(|e| e.position == at) {
                if let Some(event) = to_port_event(event)?
                    && filter.matches(event.stream.as_str(), event.event_type.as_str())
                {
                    out.push(event);
                }
            }
            bound = Some(at);
        }
        while out.len() < limit {
            // One more than needed when the page may start with the bound itself.
            let want = (limit - out.len()).min(PAGE) + usize::from(bound.is_some());
            let page = self.read_raw_all(start, direction, filter, want).await?;
            let full = page.len() == want;
            let mut last_seen = None;
            for event in &page {
                last_seen = Some(event.position);
                // Pages overlap by the event a page starts at.
                let behind = bound.is_some_and(|b| match direction {
                    Direction::Forwards => event.position <= b,
                    Direction::Backwards => event.position >= b,
                });
                if behind {
                    continue;
                }
                let Some(event) = to_port_event(event)? else {
                    continue;
                };
                if filter.matches(event.stream.as_str(), event.event_type.as_str()) {
                    out.push(event);
                    if out.len() == limit {
                        break;
                    }
                }
            }
            match last_seen {
                Some(last) if full => {
                    start = StreamPosition::Position(last);
                    bound = Some(last);
                }
                _ => break,
            }
        }
        Ok(out)
    }

    async fn head(&self) -> Result<Position, Error> {
        let last = self
            .read_all(ReadFrom::End, Direction::Backwards, &Filter::all(), 1)
            .await?;
        Ok(last.first().map_or(Position::START, |e| e.position))
    }

    fn subscribe_all(&self, from: SubscribeFrom, filter: Filter) -> Subscription {
        let source = Arc::new(KurrentSource {
            log: self.clone(),
            server_filter: server_filter(&filter),
            filter,
        });
        resubscribe::resubscribing(source, from, Backoff::default())
    }
}

/// KurrentDB filters on one thing, the stream name or the event type: the stream
/// prefix when there is one, else the event types, else only the system and key
/// streams away. What it cannot filter, ERCS does on its side.
pub fn server_filter(filter: &Filter) -> SubscriptionFilter {
    if let Some(prefix) = &filter.stream_prefix {
        SubscriptionFilter::on_stream_name().regex(format!("^{}", regex_escape(prefix)))
    } else if !filter.event_types.is_empty() {
        let types: Vec<String> = filter
            .event_types
            .iter()
            .map(|t| regex_escape(t.as_str()))
            .collect();
        SubscriptionFilter::on_event_type().regex(format!("^(?:{})$", types.join("|")))
    } else {
        SubscriptionFilter::on_stream_name().regex("^[^$~]")
    }
}

/// Escapes every ASCII character but letters and digits (a backslash before any
/// other ASCII punctuation is that character, literally, in .NET's regexes).
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_alphanumeric() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn storage(error: kurrentdb::Error) -> Error {
    match error {
        kurrentdb::Error::AccessDenied => Error::Storage(
            "KurrentDB refused access: check the user and password in the connection string".into(),
        ),
        other => Error::Storage(format!("KurrentDB: {other}")),
    }
}

/// Whether a subscription that failed with `error` can only fail again.
fn is_fatal(error: &kurrentdb::Error) -> bool {
    matches!(
        error,
        kurrentdb::Error::AccessDenied
            | kurrentdb::Error::InitializationError(_)
            | kurrentdb::Error::UnsupportedFeature
    )
}

/// One connection of `subscribe_all` at a time, for the resubscribe loop.
struct KurrentSource {
    log: KurrentEventLog,
    filter: Filter,
    server_filter: SubscriptionFilter,
}

impl Source for KurrentSource {
    fn open(&self, from: Resume) -> BoxStream<'static, Result<Item, SourceError>> {
        let position = match from {
            Resume::After(position) if position > Position::START => {
                StreamPosition::Position(from_port(position))
            }
            _ => StreamPosition::Start,
        };
        // No retry options: the client's own resubscription stays off.
        let options = SubscribeToAllOptions::default()
            .position(position)
            .filter(self.server_filter.clone());
        let client = self.log.client().clone();
        let filter = self.filter.clone();
        futures::stream::once(async move { client.subscribe_to_all(&options).await })
            .flat_map(move |subscription| {
                let filter = filter.clone();
                futures::stream::unfold(Some(subscription), move |subscription| {
                    let filter = filter.clone();
                    async move {
                        let mut subscription = subscription?;
                        loop {
                            let item = match subscription.next_subscription_event().await {
                                Err(error) => {
                                    let fatal = is_fatal(&error);
                                    return Some((
                                        Err(SourceError {
                                            error: storage(error),
                                            fatal,
                                        }),
                                        None,
                                    ));
                                }
                                Ok(event) => to_item(event, &filter),
                            };
                            match item {
                                Some(Err(error)) => {
                                    return Some((Err(SourceError { error, fatal: true }), None));
                                }
                                Some(Ok(item)) => return Some((Ok(item), Some(subscription))),
                                None => continue,
                            }
                        }
                    }
                })
            })
            .boxed()
    }

    fn head(&self) -> BoxFuture<'static, Result<Position, SourceError>> {
        let log = self.log.clone();
        Box::pin(async move {
            log.head().await.map_err(|error| SourceError {
                error,
                fatal: false,
            })
        })
    }
}

/// What one message of the client's subscription is to the loop (`None`: nothing).
fn to_item(event: SubscriptionEvent, filter: &Filter) -> Option<Result<Item, Error>> {
    match event {
        SubscriptionEvent::EventAppeared(resolved) => {
            let raw = resolved.event?;
            match to_port_event(&raw) {
                Ok(Some(event)) => {
                    if filter.matches(event.stream.as_str(), event.event_type.as_str()) {
                        Some(Ok(Item::Event(event)))
                    } else {
                        Some(Ok(Item::Skipped(event.position)))
                    }
                }
                // Not an ERCS stream: pass over it where its position is one number.
                Ok(None) => (raw.position.commit == raw.position.prepare)
                    .then(|| Ok(Item::Skipped(checkpoint_to_port(raw.position)))),
                Err(error) => Some(Err(error)),
            }
        }
        SubscriptionEvent::Checkpoint(position) => {
            Some(Ok(Item::Checkpoint(checkpoint_to_port(position))))
        }
        SubscriptionEvent::CaughtUp(_) => Some(Ok(Item::CaughtUp)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use ercs_eventlog::EventType;

    use super::*;

    fn shown(filter: SubscriptionFilter) -> String {
        format!("{filter:?}")
    }

    #[test]
    fn the_server_filters_on_the_prefix_or_the_types_and_never_shows_system_streams() {
        let all = shown(server_filter(&Filter::all()));
        assert!(all.contains(r#"regex: Some("^[^$~]")"#), "{all}");
        assert!(all.contains("based_on_stream: true"), "{all}");

        let prefix = shown(server_filter(&Filter::stream_prefix("drill:wanzhou-1.")));
        assert!(
            prefix.contains(r#"regex: Some("^drill\\:wanzhou\\-1\\.")"#),
            "{prefix}"
        );

        let types = Filter::event_types([
            EventType::new("BedsReported").unwrap(),
            EventType::new("ercs.LotReceived-v2").unwrap(),
        ]);
        let types = shown(server_filter(&types));
        assert!(types.contains("based_on_stream: false"), "{types}");
        assert!(
            types.contains(r#"regex: Some("^(?:BedsReported|ercs\\.LotReceived\\-v2)$")"#),
            "{types}"
        );
    }

    #[test]
    fn punctuation_is_taken_literally_by_the_server_regex() {
        assert_eq!(regex_escape("a.b*c"), r"a\.b\*c");
        assert_eq!(regex_escape("队伍-1"), r"队伍\-1");
    }
}
