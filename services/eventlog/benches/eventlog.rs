//! Event log throughput on the SQLite backend.
//!
//!     cargo bench -p ercs-eventlog --bench eventlog
//!
//! The log lives in a temporary directory on the machine's disk; every append is
//! synced (`synchronous = FULL`), as in production.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use ercs_eventlog::SqliteEventLog;
use ercs_eventlog::benchmarks::{appends, reads};

fn open(_: &tokio::runtime::Runtime) -> (Box<dyn std::any::Any>, Arc<dyn ercs_eventlog::EventLog>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = SqliteEventLog::open(dir.path().join("events.db")).expect("a log");
    (Box::new(dir), Arc::new(log))
}

fn sqlite(c: &mut Criterion) {
    appends(c, &open);
    reads(c, &open);
}

criterion_group!(benches, sqlite);
criterion_main!(benches);
