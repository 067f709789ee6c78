//! The store the operator chose (`--store`, `ERCS_STORE`): the embedded SQLite log
//! by default, or PostgreSQL or KurrentDB, which several replicas can share.
//!
//! Besides the log, a replica keeps only what it can rebuild from the log: the
//! one-network view's snapshot in its own data directory. Idempotency records
//! are the log's command keys, which live in the store itself.

use std::sync::Arc;

use ercs_eventlog::{EventLog, SqliteEventLog};

use crate::cli::{DataDir, Store};
use crate::startup::StartError;

/// An open log, by backend: export, import and backup need more than the port.
#[derive(Clone)]
pub enum OpenStore {
    Sqlite(SqliteEventLog),
    #[cfg(feature = "postgres")]
    Postgres(ercs_eventlog_postgres::PostgresEventLog),
    #[cfg(feature = "kurrentdb")]
    Kurrent(ercs_eventlog_kurrentdb::KurrentEventLog),
}

impl OpenStore {
    pub fn log(&self) -> Arc<dyn EventLog> {
        match self {
            OpenStore::Sqlite(log) => Arc::new(log.clone()),
            #[cfg(feature = "postgres")]
            OpenStore::Postgres(log) => Arc::new(log.clone()),
            #[cfg(feature = "kurrentdb")]
            OpenStore::Kurrent(log) => Arc::new(log.clone()),
        }
    }
}

impl DataDir {
    /// `sqlite:DIR` names the data directory itself; everything else keeps it.
    pub fn resolved(mut self) -> Self {
        if let Some(Store::Sqlite(dir)) = &self.store {
            self.data_dir = dir.clone();
            self.store = None;
        }
        self
    }

    /// The store's name for logs and messages, without a password.
    pub fn store_name(&self) -> String {
        match &self.store {
            Some(store) => store.to_string(),
            None => Store::Sqlite(self.data_dir.clone()).to_string(),
        }
    }

    /// The backend's name, for `/metrics`.
    pub fn store_kind(&self) -> &'static str {
        match &self.store {
            None | Some(Store::Sqlite(_)) => "sqlite",
            Some(Store::Postgres(_)) => "postgres",
            Some(Store::Kurrent(_)) => "kurrentdb",
        }
    }

    /// Opens (creating if need be) the event log in the chosen store.
    pub async fn open_store(&self) -> Result<OpenStore, StartError> {
        match &self.store {
            None => Ok(OpenStore::Sqlite(self.open_log()?)),
            Some(Store::Sqlite(dir)) => {
                let mut here = self.clone();
                here.data_dir = dir.clone();
                Ok(OpenStore::Sqlite(here.open_log()?))
            }
            Some(Store::Postgres(url)) => open_postgres(url).await,
            Some(Store::Kurrent(url)) => open_kurrent(url).await,
        }
    }
}

#[cfg(feature = "kurrentdb")]
async fn open_kurrent(url: &str) -> Result<OpenStore, StartError> {
    Ok(OpenStore::Kurrent(
        ercs_eventlog_kurrentdb::KurrentEventLog::connect(url).await?,
    ))
}

#[cfg(not(feature = "kurrentdb"))]
async fn open_kurrent(_: &str) -> Result<OpenStore, StartError> {
    Err(StartError::EventLog(ercs_eventlog::Error::Storage(
        "this build of ercs has no KurrentDB backend (feature `kurrentdb`)".into(),
    )))
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<OpenStore, StartError> {
    Ok(OpenStore::Postgres(
        ercs_eventlog_postgres::PostgresEventLog::connect(url).await?,
    ))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(_: &str) -> Result<OpenStore, StartError> {
    Err(StartError::EventLog(ercs_eventlog::Error::Storage(
        "this build of ercs has no PostgreSQL backend (feature `postgres`)".into(),
    )))
}

impl DataDir {
    /// Where `ercs import` writes: the SQLite file must not be open in a service
    /// (its lock says so); a PostgreSQL log may be.
    pub async fn open_import_target(&self) -> Result<crate::moving::ImportTarget, StartError> {
        use crate::moving::ImportTarget;
        match &self.store {
            Some(Store::Postgres(url)) => match open_postgres(url).await? {
                #[cfg(feature = "postgres")]
                OpenStore::Postgres(log) => Ok(ImportTarget::Postgres(log)),
                _ => unreachable!("a PostgreSQL URL opens PostgreSQL"),
            },
            Some(Store::Kurrent(_)) => Err(StartError::EventLog(ercs_eventlog::Error::Storage(
                "ercs import cannot write to KurrentDB yet: it assigns positions itself, so \
                 an export's positions cannot be kept; import into SQLite or PostgreSQL"
                    .into(),
            ))),
            _ => {
                let here = self.clone().resolved();
                here.create()?;
                let path = here.data_dir.join("events.db");
                Ok(ImportTarget::Sqlite(ercs_eventlog::SqliteImport::open(
                    &path,
                    here.access(),
                )?))
            }
        }
    }

    /// The SQLite file `ercs backup` copies; PostgreSQL has its own tools.
    pub fn sqlite_file(&self) -> Result<std::path::PathBuf, String> {
        match &self.store {
            Some(Store::Postgres(_)) => Err(
                "ercs backup copies the SQLite store; back PostgreSQL up with pg_dump or pg_basebackup"
                    .into(),
            ),
            Some(Store::Kurrent(_)) => Err(
                "ercs backup copies the SQLite store; back KurrentDB up with its own tools \
                 (see deploy/kurrentdb.md)"
                    .into(),
            ),
            _ => Ok(self.clone().resolved().data_dir.join("events.db")),
        }
    }
}
