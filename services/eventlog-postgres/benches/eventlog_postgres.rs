//! Event log throughput on PostgreSQL, the same benchmarks as SQLite's.
//!
//!     cargo bench -p ercs-eventlog-postgres --bench eventlog_postgres
//!
//! Against a throw-away cluster on this machine's disk with PostgreSQL's durable
//! defaults (`fsync = on`, `synchronous_commit = on`), over loopback TCP; or
//! against the server `ERCS_BENCH_POSTGRES_URL` names (`postgres://user@host:port`).

use std::sync::{Arc, OnceLock};

use criterion::{Criterion, criterion_group, criterion_main};
use ercs_eventlog::EventLog;
use ercs_eventlog::benchmarks::{appends, reads};
use ercs_eventlog_postgres::PostgresEventLog;
use ercs_eventlog_postgres::testing::{Cluster, Durability, start_cluster};
use tokio::runtime::Runtime;

fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| match std::env::var("ERCS_BENCH_POSTGRES_URL") {
        Ok(url) => Cluster::at(&url),
        Err(_) => start_cluster(Durability::Durable),
    })
}

fn open(rt: &Runtime) -> (Box<dyn std::any::Any>, Arc<dyn EventLog>) {
    rt.block_on(async {
        let (url, database) = cluster().fresh_database().await;
        let log = PostgresEventLog::connect(&url).await.expect("a log");
        (
            Box::new(database) as Box<dyn std::any::Any>,
            Arc::new(log) as Arc<dyn EventLog>,
        )
    })
}

fn postgres(c: &mut Criterion) {
    appends(c, &open);
    reads(c, &open);
}

criterion_group!(benches, postgres);
criterion_main!(benches);
