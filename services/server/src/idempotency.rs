//! `Idempotency-Key`: a retried POST appends nothing new and gets the first
//! response back.
//!
//! Successful responses are kept, by method + path and key, in `api.db` beside the
//! event log, so they outlive a restart. A retry with the same key and the same
//! body is answered from here without touching the log; the same key with another
//! body is refused, since it is a different request. Responses are kept for
//! [`RETAIN`]. Failed requests are not kept: they appended nothing, so a retry
//! simply runs again.
//!
//! A crash between the append and keeping the response is covered by the log
//! itself: the command's event ids derive from the key, so the retry's append is
//! recognised and nothing is written twice.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use rusqlite::{Connection, OptionalExtension, params};

use crate::problem::Problem;

/// How long a response is kept for replay.
pub const RETAIN: chrono::Duration = chrono::Duration::hours(24);

pub struct IdempotencyStore {
    db: Mutex<Connection>,
}

/// What a key has seen before.
pub enum Replay {
    New,
    /// The same request again: here is the first response.
    Response(StoredResponse),
    /// The key was used for a different request.
    Mismatch,
}

/// A response as it was first sent.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl StoredResponse {
    /// The HTTP response; `replayed` marks it `Idempotent-Replayed: true`.
    pub fn into_response(self, replayed: bool) -> HttpResponse {
        let mut response =
            HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK));
        for (name, value) in &self.headers {
            response.insert_header((name.as_str(), value.as_str()));
        }
        if replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        response.content_type("application/json").body(self.body)
    }
}

impl IdempotencyStore {
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let db = Connection::open(path)?;
        db.pragma_update(None, "journal_mode", "wal")?;
        db.pragma_update(None, "synchronous", "normal")?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS responses (
                 scope TEXT NOT NULL,
                 key TEXT NOT NULL,
                 request BLOB NOT NULL,
                 status INTEGER NOT NULL,
                 headers TEXT NOT NULL,
                 body BLOB NOT NULL,
                 created_at INTEGER NOT NULL,
                 PRIMARY KEY (scope, key)
             ) WITHOUT ROWID;",
        )?;
        let store = Self { db: Mutex::new(db) };
        store.forget_old()?;
        Ok(store)
    }

    /// What `key` saw for `scope` before, compared with this request's body.
    pub fn replay(&self, scope: &str, key: &str, request: &[u8]) -> Result<Replay, Problem> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let found = db
            .query_row(
                "SELECT request, status, headers, body FROM responses WHERE scope = ?1 AND key = ?2",
                params![scope, key],
                |row| {
                    Ok((
                        row.get::<_, Vec<u8>>(0)?,
                        row.get::<_, u16>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, Vec<u8>>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(unavailable)?;
        Ok(match found {
            None => Replay::New,
            Some((first, _, _, _)) if first != request => Replay::Mismatch,
            Some((_, status, headers, body)) => Replay::Response(StoredResponse {
                status,
                headers: serde_json::from_str(&headers).unwrap_or_default(),
                body,
            }),
        })
    }

    /// Keeps the first response to `key`. A concurrent twin that got here first
    /// wins; both carried the same events.
    pub fn remember(
        &self,
        scope: &str,
        key: &str,
        request: &[u8],
        response: &StoredResponse,
    ) -> Result<(), Problem> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let headers = serde_json::to_string(&response.headers).unwrap_or_default();
        db.execute(
            "INSERT OR IGNORE INTO responses (scope, key, request, status, headers, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                scope,
                key,
                request,
                response.status,
                headers,
                response.body,
                chrono::Utc::now().timestamp()
            ],
        )
        .map_err(unavailable)?;
        Ok(())
    }

    fn forget_old(&self) -> rusqlite::Result<()> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let cutoff = (chrono::Utc::now() - RETAIN).timestamp();
        db.execute("DELETE FROM responses WHERE created_at < ?1", [cutoff])?;
        Ok(())
    }
}

fn unavailable(error: rusqlite::Error) -> Problem {
    Problem::unavailable(format!("the idempotency store failed: {error}"))
}
