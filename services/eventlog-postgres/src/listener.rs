//! Keeps this process's idea of the head up to date with appends made by any
//! process: each commit sends `NOTIFY ercs_log, '<head>'`, and one connection per
//! log listens. The payload is only a wake-up hint — the head is what the committed
//! `ercs.log` row says — so a notification lost while the connection was down costs
//! nothing: on reconnect the head is read afresh.

use std::sync::Arc;
use std::time::Duration;

use ercs_eventlog::{Error, Position};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_postgres::Config;

use crate::pool::connect_listening;
use crate::reader::Reader;
use crate::schema::storage;
use crate::writer::CHANNEL;

/// How long to wait before listening again after the connection drops.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Starts listening (the first `LISTEN` is made before this returns, so no commit
/// after it goes unheard) and keeps listening until aborted.
pub(crate) async fn start(
    config: Config,
    reader: Arc<Reader>,
    head: watch::Sender<Position>,
) -> Result<JoinHandle<()>, Error> {
    let first = listen(&config).await?;
    Ok(tokio::spawn(async move {
        let mut listening = Some(first);
        loop {
            if let Some((client, notices)) = listening.take() {
                follow(&reader, &head, notices).await;
                drop(client);
            }
            tokio::time::sleep(RECONNECT_AFTER).await;
            match listen(&config).await {
                Ok(again) => listening = Some(again),
                Err(error) => tracing::warn!(%error, "the event log cannot listen for appends"),
            }
        }
    }))
}

type Listening = (tokio_postgres::Client, mpsc::UnboundedReceiver<String>);

async fn listen(config: &Config) -> Result<Listening, Error> {
    let (sender, notices) = mpsc::unbounded_channel();
    let client = connect_listening(config, sender).await?;
    client
        .batch_execute(&format!("LISTEN {CHANNEL}"))
        .await
        .map_err(storage)?;
    Ok((client, notices))
}

/// Raises the head on every notice until the connection ends; first reads the head
/// once, for whatever committed before the `LISTEN` took effect.
async fn follow(
    reader: &Reader,
    head: &watch::Sender<Position>,
    mut notices: mpsc::UnboundedReceiver<String>,
) {
    match reader.head().await {
        Ok(position) => raise(head, position),
        Err(error) => tracing::warn!(%error, "the event log cannot read its head"),
    }
    while let Some(payload) = notices.recv().await {
        match payload.parse() {
            Ok(position) => raise(head, Position(position)),
            Err(_) => tracing::warn!(payload, "a notice on {CHANNEL} is not a position"),
        }
    }
}

/// Heads only move forwards, whatever order notices arrive in.
pub(crate) fn raise(head: &watch::Sender<Position>, position: Position) {
    head.send_if_modified(|known| {
        let moved = position > *known;
        *known = (*known).max(position);
        moved
    });
}
