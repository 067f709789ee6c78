//! The command line. Every flag has an environment variable, for systemd units and
//! containers.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use ercs_eventlog::FileAccess;

pub use ercs_network::ViewArgs;

use crate::seeding::SeedName;

/// ERCS — the emergency resource command service behind Chongqing's health-emergency
/// "one network" (卫生应急资源“一张网”): teams, supplies, isolation beds and
/// convertible facilities across the city → region → district → township tiers.
#[derive(Debug, Parser)]
#[command(name = "ercs", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// `text` or `json` (one object a line, with the request id while serving one).
    #[arg(long, global = true, env = "ERCS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text,
          value_name = "FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service on the embedded event log (one SQLite file in the data
    /// directory). Stop it with Ctrl-C or SIGTERM; it finishes requests in flight.
    Serve(Box<ServeArgs>),
    /// Load a seed into the event log through the domain's commands, then exit.
    /// Running it again adds nothing: every event has a deterministic id and an
    /// expected revision, and resources already in the log are left as they are.
    Seed(SeedArgs),
    /// API tokens for machines: created (the token is printed once), listed and
    /// revoked in the event log, so every replica sees them.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The routing core on its own.
    #[command(subcommand)]
    Route(RouteCommand),
    /// Drills (演练) on sandbox logs of their own; the live log is never opened.
    #[command(subcommand)]
    Drill(DrillCommand),
    /// Write the whole event log (every event as recorded, in order, and the
    /// command keys) to a file, one JSON object a line, with a progress bar. The
    /// service may keep running: the export stops at the head it found on start.
    Export(ExportArgs),
    /// Load an export into an empty store (another backend, a new machine):
    /// positions, ids, metadata, recorded times and command keys as they were.
    Import(ImportArgs),
    /// Copy the SQLite event log to a file with SQLite's online backup, while
    /// `ercs serve` keeps writing: the copy is the log as of one instant.
    Backup(BackupArgs),
}

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Run a scripted drill headless (no trainees: the script's own steps) on a
    /// fresh sandbox under DIR/drills/, seeded as the script asks, each command
    /// stamped with its drill time. Prints the expected actions met, late or
    /// missed, and writes the whole report as report.json beside the sandbox's
    /// events.db.
    Run {
        /// The drill script, e.g. seeds/drills/wanzhou-respiratory-outbreak.json.
        #[arg(value_name = "FILE")]
        script: PathBuf,
        /// Drill seconds per wall second (60: an hour a minute), or `max` for as
        /// fast as possible.
        #[arg(long, default_value = "max", value_parser = parse_speed)]
        speed: ercs_drill::Speed,
        #[command(flatten)]
        data: DataDir,
    },
    /// List the drill runs under DIR/drills/, newest first: id, drill, when it
    /// ran and how its expected actions came out.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Print the report of one drill run (its id as `list` shows it); `--json`
    /// prints the whole report.json.
    Report {
        #[arg(value_name = "ID")]
        id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataDir,
    },
    /// Delete one drill run: its sandbox log and its report.
    Delete {
        #[arg(value_name = "ID")]
        id: String,
        #[command(flatten)]
        data: DataDir,
    },
}

fn parse_speed(raw: &str) -> Result<ercs_drill::Speed, String> {
    match raw {
        "max" => Ok(ercs_drill::Speed::AsFastAsPossible),
        number => {
            let factor: f64 = number
                .parse()
                .map_err(|_| format!("{number:?} is not a number or `max`"))?;
            ercs_drill::Speed::factor(factor)
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// The file to write (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// The export to read (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub data: DataDir,
    /// The file to write; it must not exist yet.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Solve a minimum-cost flow problem in the DIMACS format (`p min`, `n`, `a`
    /// lines) with the routing core's network simplex, to compare with other
    /// solvers on standard instances. Every i64 LOW, CAP and COST is taken
    /// exactly; CAP -1 means no bound. Prints the optimal cost (or the flows
    /// with --flows) and, on standard error, the time taken.
    ///
    /// Exit codes: 0 optimal; 1 bad input (the line at fault is named);
    /// 2 infeasible (the unbalanced totals, or the nodes that cannot send or
    /// receive enough); 3 unbounded (a negative cycle of arcs with CAP -1).
    Solve {
        /// The DIMACS file; `-` reads standard input.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print the solution in the DIMACS format: `s COST`, then
        /// `f FROM TO FLOW` for every arc in file order.
        #[arg(long)]
        flows: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token naming an account, a role and a jurisdiction; prints the
    /// token once (only its SHA-256 digest is kept).
    Create {
        /// The account's stable id, e.g. `wanzhou-his`.
        #[arg(long)]
        subject: String,
        /// The name the audit trail shows, e.g. 万州区卫健委值班员.
        #[arg(long)]
        name: String,
        /// city_commander, district_dispatcher, township_operator, viewer,
        /// drill_director, drill_player or admin.
        #[arg(long)]
        role: String,
        /// A division code (500101) or region slug: the area it answers for.
        #[arg(long)]
        jurisdiction: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List every token: id, account, role, jurisdiction, created, revoked.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Revoke a token by id; it is refused from the next request on.
    Revoke {
        /// The token's id, as `list` shows it.
        id: uuid::Uuid,
        #[command(flatten)]
        data: DataDir,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Which seed to load.
    #[arg(value_enum)]
    pub seed: SeedName,

    #[command(flatten)]
    pub data: DataDir,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on. Port 0 picks a free port; the address in use
    /// is printed on start.
    #[arg(
        long,
        env = "ERCS_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub data: DataDir,

    /// Load this seed before listening. On a log that already holds it nothing is
    /// added, so it is safe to leave set (e.g. `--seed chongqing`).
    #[arg(long, env = "ERCS_SEED", value_enum, value_name = "SEED")]
    pub seed: Option<SeedName>,

    #[command(flatten)]
    pub view: ViewArgs,

    #[command(flatten)]
    pub auth: crate::auth::AuthArgs,

    #[command(flatten)]
    pub ops: OpsArgs,
}

/// What operators and their orchestrators see of a replica.
#[derive(Debug, Clone, clap::Args)]
pub struct OpsArgs {
    /// `/readyz` answers 503 while the oldest event the one-network view has not
    /// applied was recorded more than this many seconds ago (the replica's clock
    /// against the store's recorded time: keep clocks synchronised).
    #[arg(long, env = "ERCS_MAX_LAG", default_value_t = OpsArgs::DEFAULT_MAX_LAG,
          value_parser = clap::value_parser!(u64).range(1..), value_name = "SECONDS")]
    pub max_lag: u64,

    /// This replica's name in `/metrics` (`ercs_replica_info{instance=…}`).
    /// Default: the host name (a Kubernetes pod's name).
    #[arg(long, env = "ERCS_INSTANCE", value_name = "NAME")]
    pub instance: Option<String>,

    /// Drills (演练) this replica hosts at once. Each is a network of its own
    /// beside the live one (some 50 MiB on the Chongqing seed); a start beyond
    /// it is `409 too-many-drills` until one is deleted.
    #[arg(long, env = "ERCS_MAX_DRILLS", default_value_t = OpsArgs::DEFAULT_MAX_DRILLS,
          value_name = "DRILLS")]
    pub max_drills: u16,
}

impl OpsArgs {
    pub const DEFAULT_MAX_LAG: u64 = 30;
    pub const DEFAULT_MAX_DRILLS: u16 = 8;

    /// The instance id: as given, else the host name, else `ercs`.
    pub fn instance(&self) -> String {
        self.instance
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "ercs".to_owned())
    }
}

impl Default for OpsArgs {
    fn default() -> Self {
        Self {
            max_lag: Self::DEFAULT_MAX_LAG,
            instance: None,
            max_drills: Self::DEFAULT_MAX_DRILLS,
        }
    }
}

/// How log lines are written (standard error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line each.
    #[default]
    Text,
    /// One JSON object a line, the request's span (`span.request_id`) in each
    /// line written while serving a request: for Loki, Elasticsearch, 日志平台.
    Json,
}

/// Where the event log lives; shared by every command that opens it.
#[derive(Debug, Clone, clap::Args)]
pub struct DataDir {
    /// The event log: `sqlite:DIR` (the embedded log, `DIR/events.db`; the same
    /// as `--data-dir DIR`), `postgres://user:password@host:port/database` or
    /// `kurrentdb://user:password@node1:2113,node2:2113,node3:2113?tls=true`
    /// (`kurrentdb+discover://…` for a cluster found by DNS; `?tls=false` for a node
    /// started with --insecure): a log that replicas share. Default: SQLite in the
    /// data directory.
    #[arg(long, env = "ERCS_STORE", value_name = "STORE", value_parser = StoreParser)]
    pub store: Option<Store>,

    /// Directory for the event log (`events.db`) and the service's other files;
    /// created if missing.
    #[arg(
        long,
        env = "ERCS_DATA_DIR",
        default_value = "data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,

    /// Let the service's group read the files it creates (0640, directories
    /// 0750), e.g. for a backup agent. By default they are the service user's
    /// alone (0600 and 0700). Files that already exist keep their mode.
    #[arg(
        long,
        env = "ERCS_GROUP_READABLE",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub group_readable: bool,
}

/// Which store holds the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// The embedded log, `events.db` in this directory.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its connection URL.
    Postgres(String),
    /// A KurrentDB node or cluster, by its connection string.
    Kurrent(String),
}

impl std::str::FromStr for Store {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if let Some(dir) = text.strip_prefix("sqlite:") {
            if dir.is_empty() {
                return Err("sqlite: needs a directory, e.g. sqlite:/var/lib/ercs".into());
            }
            return Ok(Store::Sqlite(PathBuf::from(dir)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Store::Postgres(text.to_owned()));
        }
        if [
            "kurrentdb://",
            "kurrentdb+discover://",
            "esdb://",
            "esdb+discover://",
        ]
        .iter()
        .any(|scheme| text.starts_with(scheme))
        {
            return kurrent_store(text);
        }
        Err(
            "must be sqlite:DIR, postgres://user@host:port/database or kurrentdb://host:port"
                .into(),
        )
    }
}

/// Parses `--store` without quoting the value back: clap's own message would
/// repeat a connection string's password.
#[derive(Clone)]
struct StoreParser;

impl clap::builder::TypedValueParser for StoreParser {
    type Value = Store;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Store, clap::Error> {
        let refuse = |reason: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid --store (ERCS_STORE): {reason}\n"),
            )
            .with_cmd(cmd)
        };
        value
            .to_str()
            .ok_or_else(|| refuse("must be UTF-8".into()))?
            .parse()
            .map_err(refuse)
    }
}

/// A KurrentDB connection string, checked as the backend will read it.
#[cfg(feature = "kurrentdb")]
fn kurrent_store(text: &str) -> Result<Store, String> {
    ercs_eventlog_kurrentdb::KurrentUrl::parse(text)
        .map(|_| Store::Kurrent(text.to_owned()))
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "kurrentdb"))]
fn kurrent_store(_: &str) -> Result<Store, String> {
    Err("this build of ercs has no KurrentDB backend (feature `kurrentdb`)".into())
}

/// A KurrentDB connection string without its password.
#[cfg(feature = "kurrentdb")]
fn kurrent_shown(url: &str) -> String {
    ercs_eventlog_kurrentdb::url::redact(url)
}

#[cfg(not(feature = "kurrentdb"))]
fn kurrent_shown(_: &str) -> String {
    "kurrentdb://…".into()
}

impl std::fmt::Display for Store {
    /// Names the store without its password, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::Sqlite(dir) => write!(f, "sqlite:{}", dir.display()),
            Store::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    write!(f, "{}://…{}", &url[..scheme], &url[at..])
                }
                _ => f.write_str(url),
            },
            Store::Kurrent(url) => f.write_str(&kurrent_shown(url)),
        }
    }
}

impl DataDir {
    /// `dir`, with the default (owner-only) file modes.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self {
            store: None,
            data_dir: dir.into(),
            group_readable: false,
        }
    }

    /// Who may read the files created in it.
    pub fn access(&self) -> FileAccess {
        if self.group_readable {
            FileAccess::Group
        } else {
            FileAccess::Owner
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_dir(args: &[&str]) -> DataDir {
        let cli = Cli::try_parse_from(["ercs", "seed", "chongqing"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Seed(seed) => seed.data,
            _ => unreachable!("a seed command"),
        }
    }

    #[test]
    fn a_store_is_sqlite_in_a_directory_or_a_postgres_url() {
        assert_eq!(
            data_dir(&["--store", "sqlite:/var/lib/ercs"]).store,
            Some(Store::Sqlite("/var/lib/ercs".into()))
        );
        let url = "postgres://ercs:secret@db.example:5432/ercs";
        let store = data_dir(&["--store", url]).store.expect("a store");
        assert_eq!(store, Store::Postgres(url.into()));
        assert_eq!(store.to_string(), "postgres://…@db.example:5432/ercs");
        assert_eq!(data_dir(&[]).store, None, "SQLite in the data directory");
        for bad in [
            "sqlite:",
            "mysql://x",
            "kurrentdb://node:2113?tsl=false",
            "kurrentdb+discover://a:2113,b:2113",
            "/var/lib/ercs",
        ] {
            let refused = Cli::try_parse_from(["ercs", "seed", "chongqing", "--store", bad]);
            assert!(refused.is_err(), "{bad} was accepted");
        }
    }

    #[cfg(feature = "kurrentdb")]
    #[test]
    fn a_store_is_a_kurrentdb_node_or_cluster_shown_without_its_password() {
        for url in [
            "kurrentdb://localhost:2113?tls=false",
            "kurrentdb://admin:changeit@node1:2113,node2:2113,node3:2113?tls=true",
            "kurrentdb+discover://admin:changeit@cluster.example:2113",
            "esdb://localhost:2113?tls=false",
        ] {
            let store = data_dir(&["--store", url]).store.expect("a store");
            assert_eq!(store, Store::Kurrent(url.into()));
            assert!(!store.to_string().contains("changeit"), "{store}");
        }
        let store = data_dir(&["--store", "kurrentdb://admin:changeit@node1:2113?tls=true"])
            .store
            .expect("a store");
        assert_eq!(store.to_string(), "kurrentdb://admin:…@node1:2113?tls=true");
        let refused = Cli::try_parse_from([
            "ercs",
            "seed",
            "chongqing",
            "--store",
            "kurrentdb://admin:changeit@node1:2113?tls=perhaps",
        ])
        .unwrap_err()
        .to_string();
        assert!(refused.contains("tls must be true or false"), "{refused}");
        assert!(!refused.contains("changeit"), "{refused}");
    }

    #[test]
    fn data_files_are_the_owners_alone_unless_the_group_is_let_in() {
        assert_eq!(data_dir(&[]).access(), FileAccess::Owner);
        assert_eq!(data_dir(&["--group-readable"]).access(), FileAccess::Group);
    }
}
