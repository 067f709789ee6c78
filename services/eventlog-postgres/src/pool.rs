//! Connections: opening one, and a small pool of idle ones for reads.

use std::collections::HashMap;
use std::sync::Mutex;

use ercs_eventlog::Error;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, Statement};

use crate::schema::storage;

/// Opens a connection whose protocol is driven on a task of its own.
pub(crate) async fn connect(config: &Config) -> Result<Client, Error> {
    let (client, connection) = config.connect(NoTls).await.map_err(storage)?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(%error, "a PostgreSQL connection of the event log ended");
        }
    });
    Ok(client)
}

/// Opens a connection and forwards its notifications (`LISTEN`) to `notices`; the
/// channel closes when the connection ends.
pub(crate) async fn connect_listening(
    config: &Config,
    notices: mpsc::UnboundedSender<String>,
) -> Result<Client, Error> {
    let (client, mut connection) = config.connect(NoTls).await.map_err(storage)?;
    tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = futures::StreamExt::next(&mut messages).await {
            match message {
                Ok(AsyncMessage::Notification(note)) => {
                    if notices.send(note.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "the event log's PostgreSQL listener ended");
                    break;
                }
            }
        }
    });
    Ok(client)
}

/// A connection and the statements prepared on it: each statement is parsed and
/// planned once per connection, not once per query.
pub(crate) struct Conn {
    pub client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    pub async fn open(config: &Config) -> Result<Self, Error> {
        Ok(Self {
            client: connect(config).await?,
            statements: HashMap::new(),
        })
    }

    pub async fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await.map_err(storage)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// Idle read connections; one is opened whenever none is idle.
pub(crate) struct Pool {
    config: Config,
    idle: Mutex<Vec<Conn>>,
    max_idle: usize,
}

impl Pool {
    pub fn new(config: Config, max_idle: usize) -> Self {
        Self {
            config,
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    pub async fn get(&self) -> Result<Conn, Error> {
        loop {
            let pooled = self.lock().pop();
            match pooled {
                // A connection the server or the network dropped is thrown away.
                Some(conn) if conn.client.is_closed() => continue,
                Some(conn) => return Ok(conn),
                None => return Conn::open(&self.config).await,
            }
        }
    }

    pub fn put(&self, conn: Conn) {
        let mut idle = self.lock();
        if idle.len() < self.max_idle && !conn.client.is_closed() {
            idle.push(conn);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
