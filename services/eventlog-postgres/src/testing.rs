//! A throw-away PostgreSQL for tests: one cluster per test process, a fresh
//! database per test.
//!
//! When `ERCS_TEST_POSTGRES_URL` names a server (`postgres://user@host:port`),
//! databases are made there. Otherwise the server binaries installed on this
//! machine (Debian's `postgresql` package, `/usr/lib/postgresql/<n>/bin`, or
//! `ERCS_POSTGRES_BIN`) start a cluster in a temporary directory on a free loopback
//! port. `initdb` refuses to run as root, so as root the cluster runs as the
//! `postgres` system user (or `nobody`). The cluster stops, and its directory
//! goes, when the test process exits, however it exits: a shell beside the server
//! waits for the test process's end of a pipe to close.
//!
//! A test that needs PostgreSQL fails, with the reason, when none can be had: CI
//! must prove the backend, not skip it.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ercs_eventlog::conformance::TestLog;
use uuid::Uuid;

use crate::PostgresEventLog;

/// A server that tests can make databases on.
pub struct Cluster {
    /// Where to connect, without a database name: `postgres://user@host:port`.
    base_url: String,
    /// Held open for the life of the process (see the module's doc).
    _lifeline: Option<Mutex<(Child, ChildStdin)>>,
}

impl Cluster {
    /// A server someone else runs: `postgres://user@host:port`.
    pub fn at(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            _lifeline: None,
        }
    }

    /// The URL of a database on this server.
    pub fn url(&self, database: &str) -> String {
        format!("{}/{database}", self.base_url)
    }

    /// Creates an empty database and returns its URL, and a guard that drops the
    /// database when it goes.
    pub async fn fresh_database(&self) -> (String, Database) {
        let name = format!("ercs_test_{}", Uuid::new_v4().simple());
        admin(self, &format!("CREATE DATABASE {name}")).await;
        let database = Database {
            admin_url: self.url("postgres"),
            name: name.clone(),
        };
        (self.url(&name), database)
    }
}

/// A test's database; dropping it drops the database (and its connections).
pub struct Database {
    admin_url: String,
    name: String,
}

impl Drop for Database {
    fn drop(&mut self) {
        let (url, sql) = (
            self.admin_url.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        // Drop may run on an async thread: do the blocking part on a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(connection);
                    let _ = client.batch_execute(&sql).await;
                }
            });
            Ok::<_, std::io::Error>(())
        })
        .join();
    }
}

async fn admin(cluster: &Cluster, sql: &str) {
    let url = cluster.url("postgres");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL at {url}: {e}"));
    tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The process's cluster, started on first use. Panics, saying why, when there is
/// no PostgreSQL to be had.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    let started = CLUSTER.get_or_init(|| match std::env::var("ERCS_TEST_POSTGRES_URL") {
        Ok(url) => Ok(Cluster::at(&url)),
        Err(_) => start(Durability::Relaxed),
    });
    match started {
        Ok(cluster) => cluster,
        Err(reason) => panic!(
            "PostgreSQL is needed for this test and could not be started: {reason}\n\
             Install it (apt-get install -y postgresql; `.ci/run` does) or set \
             ERCS_TEST_POSTGRES_URL=postgres://user@host:port"
        ),
    }
}

/// A fresh PostgreSQL log for the conformance suite.
pub async fn conformance_log() -> Option<TestLog> {
    let (url, database) = cluster().fresh_database().await;
    let log = PostgresEventLog::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("the log on {url} does not open: {e}"));
    Some(TestLog {
        log: Arc::new(log),
        _guard: Box::new(database),
    })
}

/// Whether the server syncs its WAL. Tests relax it (the crash test kills clients,
/// not the server); benchmarks keep PostgreSQL's durable defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    Relaxed,
    Durable,
}

/// Starts a cluster of its own (not the process's shared one): for benchmarks.
pub fn start_cluster(durability: Durability) -> Cluster {
    start(durability).unwrap_or_else(|reason| panic!("PostgreSQL could not be started: {reason}"))
}

fn start(durability: Durability) -> Result<Cluster, String> {
    let bin = server_binaries()?;
    let user = unprivileged_user()?;
    let dir = tempfile::Builder::new()
        .prefix("ercs-postgres-")
        .tempdir()
        .map_err(|e| format!("no temporary directory: {e}"))?
        .keep();
    if let Some((uid, gid)) = user.as_ref().map(|u| u.ids) {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("cannot give {} to the server's user: {e}", dir.display()))?;
    }
    let data = dir.join("data");
    let initdb = as_user(&user, &bin.join("initdb"))
        .args([
            "--no-sync",
            "--auth=trust",
            "--username=ercs",
            "--encoding=UTF8",
            "--no-locale",
            "-D",
        ])
        .arg(&data)
        .output()
        .map_err(|e| format!("cannot run initdb: {e}"))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    let port = free_port()?;
    let lifeline = serve(&user, &bin, &dir, port, durability)?;
    wait_until_ready(&bin, &dir, port)?;
    Ok(Cluster {
        base_url: format!("postgres://ercs@127.0.0.1:{port}"),
        _lifeline: Some(Mutex::new(lifeline)),
    })
}

/// The server, and a shell that stops it and removes its directory once the pipe
/// on its standard input closes (when this process ends, in whatever way).
fn serve(
    user: &Option<User>,
    bin: &Path,
    dir: &Path,
    port: u16,
    durability: Durability,
) -> Result<(Child, ChildStdin), String> {
    let relaxed = match durability {
        Durability::Relaxed => "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        Durability::Durable => "",
    };
    let script = format!(
        r#""$0/postgres" -D "$1/data" -p "$2" -k "$1" -c listen_addresses=127.0.0.1 -c max_connections=200 {relaxed} >"$1/server.log" 2>&1 &
pid=$!
cat >/dev/null
kill -INT "$pid"; wait "$pid"; rm -rf "$1""#
    );
    let mut child = as_user(user, Path::new("/bin/sh"))
        .arg("-c")
        .arg(script)
        .arg(bin)
        .arg(dir)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let stdin = child.stdin.take().ok_or("the server's pipe is missing")?;
    Ok((child, stdin))
}

fn wait_until_ready(bin: &Path, dir: &Path, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .map_err(|e| format!("cannot run pg_isready: {e}"))?;
        if ready.success() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut log = String::new();
    let _ =
        std::fs::File::open(dir.join("server.log")).and_then(|mut f| f.read_to_string(&mut log));
    Err(format!(
        "the server did not accept connections within 60 s:\n{log}"
    ))
}

/// Where `initdb`, `postgres` and `pg_isready` are: `ERCS_POSTGRES_BIN`, else the
/// newest version under Debian's `/usr/lib/postgresql`.
fn server_binaries() -> Result<PathBuf, String> {
    if let Ok(bin) = std::env::var("ERCS_POSTGRES_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no /usr/lib/postgresql ({e})"))?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max();
    newest
        .map(|(_, bin)| bin)
        .ok_or_else(|| "no server binaries under /usr/lib/postgresql/<version>/bin".into())
}

/// The user a root process runs the server as.
struct User {
    name: String,
    ids: (u32, u32),
}

fn unprivileged_user() -> Result<Option<User>, String> {
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let (Ok(uid), Ok(gid)) = (id(&["-u", name]), id(&["-g", name])) {
            return Ok(Some(User {
                name: name.to_owned(),
                ids: (uid, gid),
            }));
        }
    }
    Err("running as root, and there is no postgres or nobody user to run the server as".into())
}

fn id(args: &[&str]) -> Result<u32, String> {
    let output = Command::new("id")
        .args(args)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("id {} failed", args.join(" ")))
}

fn as_user(user: &Option<User>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut command = Command::new("runuser");
            command.args(["-u", &user.name, "--"]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}
