//! The writer's memory of recently appended event ids.
//!
//! An index on event ids would make every append dirty a random page of a B-tree
//! (ids are random UUIDs), which halves the log's write throughput. So, as in
//! KurrentDB, a retry is found two ways:
//! - an append that expects `Exact(n)` or `NoStream` is compared with the events at
//!   the revisions it expected to write, whenever the stream is already past them;
//!   this holds for ever, and is what the ERCS server's writes use;
//! - any append is compared with the last [`RECENT_IDS`] events held here, which is
//!   how an `Any` or `StreamExists` retry is recognised.

use std::collections::{HashMap, VecDeque};

use rusqlite::Connection;
use uuid::Uuid;

use super::schema::storage;
use super::writer::{from_sql, to_sql};
use crate::Error;
use crate::model::{Position, Revision, StreamName};

/// How many of the most recent events' ids the writer remembers by default
/// (about 20 MiB).
pub const RECENT_IDS: usize = 200_000;

/// Where an event was written.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Placed {
    pub stream: StreamName,
    pub revision: Revision,
    pub position: Position,
}

pub(super) struct RecentIds {
    by_id: HashMap<Uuid, Placed>,
    order: VecDeque<Uuid>,
    capacity: usize,
}

impl RecentIds {
    /// Remembers the last `capacity` events of the log.
    pub fn load(conn: &Connection, capacity: usize) -> Result<Self, Error> {
        let mut recent = Self {
            by_id: HashMap::with_capacity(capacity),
            order: VecDeque::with_capacity(capacity),
            capacity,
        };
        let mut query = conn
            .prepare("SELECT event_id, stream, revision, position FROM events ORDER BY position DESC LIMIT ?1")
            .map_err(storage)?;
        let rows = query
            .query_map([to_sql(capacity as u64)], |row| {
                let placed = Placed {
                    stream: StreamName::from_stored(row.get(1)?),
                    revision: from_sql(row.get(2)?),
                    position: Position(from_sql(row.get(3)?)),
                };
                Ok((Uuid::from_bytes(row.get(0)?), placed))
            })
            .map_err(storage)?;
        let mut newest_first = rows.collect::<Result<Vec<_>, _>>().map_err(storage)?;
        newest_first.reverse();
        for (id, placed) in newest_first {
            recent.remember(id, placed);
        }
        Ok(recent)
    }

    pub fn get(&self, id: &Uuid) -> Option<&Placed> {
        self.by_id.get(id)
    }

    pub fn remember(&mut self, id: Uuid, placed: Placed) {
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.by_id.remove(&oldest);
        }
        self.order.push_back(id);
        self.by_id.insert(id, placed);
    }

    /// Forgets the `n` most recently remembered ids: their transaction rolled back.
    pub fn forget_newest(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(id) = self.order.pop_back() {
                self.by_id.remove(&id);
            }
        }
    }
}
