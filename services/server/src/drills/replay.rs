//! Replaying a recorded range of the live log into a drill (回放): the events
//! of the range go into the sandbox as they happened, each at its recorded
//! time as drill time, on the drill's clock. The sandbox starts as a copy of
//! the live network just before the range.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ercs_drill::Session;
use ercs_eventlog::{
    Direction, EventData, EventLog, ExpectedRevision, Filter, JsonObject, Position, ReadFrom,
    RecordedEvent,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Events read from the live log at a time.
const PAGE: usize = 256;

/// Where a replay stands, as the drill's record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The live network the drill started from: the log as of this position.
    pub from: u64,
    /// The last live position replayed.
    pub to: u64,
    /// The next live position to replay.
    pub next: u64,
}

/// The range being replayed from the live log.
pub struct Replay {
    source: Arc<dyn EventLog>,
    pub cursor: Cursor,
    buffer: VecDeque<RecordedEvent>,
}

/// Whether an event belongs to the network (API tokens and feed tickets are
/// the service's own, and stay behind).
pub fn of_the_network(event: &RecordedEvent) -> bool {
    let stream = event.stream.as_str();
    !stream.starts_with("token-") && !stream.starts_with("feedticket-")
}

impl Replay {
    pub fn new(source: Arc<dyn EventLog>, cursor: Cursor) -> Replay {
        Replay {
            source,
            cursor,
            buffer: VecDeque::new(),
        }
    }

    /// The next event to replay, read ahead a page at a time.
    async fn peek(&mut self) -> Result<Option<&RecordedEvent>, ercs_eventlog::Error> {
        while self.buffer.is_empty() && self.cursor.next <= self.cursor.to {
            let page = self
                .source
                .read_all(
                    ReadFrom::At(Position(self.cursor.next)),
                    Direction::Forwards,
                    &Filter::all(),
                    PAGE,
                )
                .await?;
            let Some(last) = page.last() else {
                self.cursor.next = self.cursor.to + 1;
                break;
            };
            let after = last.position.0 + 1;
            self.buffer.extend(
                page.into_iter()
                    .filter(|e| e.position.0 <= self.cursor.to && of_the_network(e)),
            );
            if self.buffer.is_empty() {
                self.cursor.next = after;
            }
        }
        Ok(self.buffer.front())
    }

    /// The drill time of the next event: when it was recorded.
    pub async fn next_at(&mut self) -> Result<Option<DateTime<Utc>>, ercs_eventlog::Error> {
        Ok(self.peek().await?.map(|e| e.recorded_at))
    }

    /// Appends the next event to `sandbox` as it was recorded (same stream,
    /// type, data and id, so a retry appends nothing), its metadata naming the
    /// drill and the live position it replays.
    pub async fn apply(
        &mut self,
        sandbox: &dyn EventLog,
        drill: &str,
    ) -> Result<bool, ercs_eventlog::Error> {
        let Some(event) = self.peek().await?.cloned() else {
            return Ok(false);
        };
        let mut metadata: Value = serde_json::from_str(event.metadata.as_str()).unwrap_or_default();
        if let Value::Object(fields) = &mut metadata {
            fields.insert("drill_id".into(), Value::from(drill));
            fields.insert("replayed_from".into(), Value::from(event.position.0));
        }
        let metadata = JsonObject::parse(metadata.to_string())
            .map_err(|e| ercs_eventlog::Error::Storage(format!("replayed metadata: {e}")))?;
        let data = EventData::with_metadata(
            event.id,
            event.event_type.clone(),
            event.data.clone(),
            metadata,
        )?;
        sandbox
            .append(&event.stream, ExpectedRevision::Any, vec![data])
            .await?;
        self.buffer.pop_front();
        self.cursor.next = event.position.0 + 1;
        Ok(true)
    }

    /// Back to the first event of the range recorded after `to` (a rewind).
    pub async fn rewind_to(&mut self, to: DateTime<Utc>) -> Result<(), ercs_eventlog::Error> {
        self.buffer.clear();
        self.cursor.next = first_after(
            self.source.as_ref(),
            to,
            (self.cursor.from + 1, self.cursor.to),
        )
        .await?;
        Ok(())
    }
}

/// The first position in `range` (inclusive) recorded after `time`, by binary
/// search (positions are recorded in time order); `range.1 + 1` if none.
pub async fn first_after(
    log: &dyn EventLog,
    time: DateTime<Utc>,
    (mut low, high): (u64, u64),
) -> Result<u64, ercs_eventlog::Error> {
    let mut high = high + 1;
    while low < high {
        let middle = low + (high - low) / 2;
        let page = log
            .read_all(
                ReadFrom::At(Position(middle)),
                Direction::Forwards,
                &Filter::all(),
                1,
            )
            .await?;
        match page.first() {
            Some(event) if event.recorded_at <= time => low = event.position.0.max(middle) + 1,
            _ => high = middle,
        }
    }
    Ok(low)
}

/// A drill's script and, for a replay, the range it replays: what runs next
/// is whichever of them is due first.
pub struct Engine {
    pub session: Session,
    pub replay: Option<Replay>,
    /// The drill's id and its sandbox, where replayed events go.
    pub drill: String,
    pub sandbox: Arc<dyn EventLog>,
}

impl std::ops::Deref for Engine {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

impl Engine {
    /// When the next step or replayed event is due, `None` once both are done.
    pub async fn next_at(&mut self) -> Result<Option<DateTime<Utc>>, ercs_eventlog::Error> {
        let step = self.session.next_at();
        let replayed = match &mut self.replay {
            Some(replay) => replay.next_at().await?,
            None => None,
        };
        Ok(match (step, replayed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }

    /// Runs what is due first: the script's next step (ties go to the
    /// script) or the next replayed event. `false` when nothing is left.
    pub async fn step(&mut self) -> Result<bool, String> {
        let step = self.session.next_at();
        let replayed = match &mut self.replay {
            Some(replay) => replay.next_at().await.map_err(|e| e.to_string())?,
            None => None,
        };
        match (step, replayed, &mut self.replay) {
            (Some(step), Some(replayed), Some(replay)) if replayed < step => replay
                .apply(self.sandbox.as_ref(), &self.drill)
                .await
                .map_err(|e| e.to_string()),
            (None, Some(_), Some(replay)) => replay
                .apply(self.sandbox.as_ref(), &self.drill)
                .await
                .map_err(|e| e.to_string()),
            _ => self.session.step().await.map_err(|e| e.to_string()),
        }
    }

    pub fn cursor(&self) -> Option<Cursor> {
        self.replay.as_ref().map(|r| r.cursor.clone())
    }
}
