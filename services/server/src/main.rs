use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use std::sync::Arc;

use ercs_eventlog::EventLog;
use ercs_server::auth::{Mode, Role, development};
use ercs_server::cli::{
    BackupArgs, Cli, Command, DrillCommand, ExportArgs, ImportArgs, LogFormat, RouteCommand,
    SeedArgs, ServeArgs, TokenCommand,
};
use ercs_server::moving;
use ercs_server::seeding;
use ercs_server::startup::Application;
use tracing_subscriber::EnvFilter;

/// See `Cargo.toml`: measured with `load-tests/run.sh mixed`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Lines go to standard error from a thread of their own, buffered and
    // flushed whenever it has caught up: a request thread formats its line and
    // moves on instead of waiting on the write (the `answered` lines are some
    // 4 MB/s at 12,000 requests a second). Nothing is dropped: a writer 128k
    // lines behind makes loggers wait, as every line did before. The guard
    // flushes what is queued when `main` returns.
    let (stderr, _flushed_on_return) =
        tracing_appender::non_blocking::NonBlockingBuilder::default()
            .lossy(false)
            .buffered_lines_limit(128 * 1024)
            .thread_name("ercs-log")
            .finish(std::io::BufWriter::with_capacity(
                64 * 1024,
                std::io::stderr(),
            ));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("ERCS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        // Colours for a person at a terminal, plain text for a file or a collector.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        // The innermost span (a request's, with its id) on every line.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Seed(args) => seed(args),
        Command::Token(command) => token(command),
        Command::Route(RouteCommand::Solve { file, flows }) => route_solve(&file, flows),
        Command::Drill(DrillCommand::Run {
            script,
            speed,
            data,
        }) => {
            let ran = actix_web::rt::System::new()
                .block_on(ercs_server::drill_cli::run(&script, speed, &data));
            exit(ran)
        }
        Command::Drill(DrillCommand::List { data }) => exit(ercs_server::drill_cli::list(&data)),
        Command::Drill(DrillCommand::Report { id, json, data }) => {
            exit(ercs_server::drill_cli::report(&data, &id, json))
        }
        Command::Drill(DrillCommand::Delete { id, data }) => {
            exit(ercs_server::drill_cli::delete(&data, &id))
        }
        Command::Export(args) => export(args),
        Command::Import(args) => import(args),
        Command::Backup(args) => backup(args),
    }
}

/// `ercs route solve`: reads the file, lets `dimacs::report` decide the text and
/// the exit code, and prints the time taken on standard error.
fn route_solve(file: &std::path::Path, flows: bool) -> ExitCode {
    use ercs_routing::dimacs::{self, Verdict};
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| format!("cannot read standard input: {e}"))
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    };
    let text = match text {
        Ok(text) => text,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(Verdict::BadInput.exit_code());
        }
    };
    let started = std::time::Instant::now();
    let report = dimacs::report(&text, flows);
    let elapsed = started.elapsed();
    if report.verdict == Verdict::BadInput {
        eprint!("{}: {}", file.display(), report.text);
    } else {
        print!("{}", report.text);
    }
    eprintln!(
        "c parsed and solved in {:.3} ms (network simplex, one core)",
        elapsed.as_secs_f64() * 1e3
    );
    ExitCode::from(report.verdict.exit_code())
}

fn serve(mut args: ServeArgs) -> ExitCode {
    args.data = args.data.resolved();
    let result = actix_web::rt::System::new().block_on(async move {
        let log = args.data.open_store().await.map_err(|e| e.to_string())?.log();
        if let Some(seed) = args.seed {
            let hidden = indicatif::ProgressBar::hidden();
            let summary = seeding::load(Arc::clone(&log), seed, &hidden)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(%seed, %summary, "seeded");
        }
        let app = Application::build_on(&args, log).map_err(|e| e.to_string())?;
        // One line on stdout, for operators and scripts: where to reach the service.
        println!("ercs listening on http://{}", app.addr());
        if args.auth.mode == Mode::Development {
            announce_development();
        }
        tracing::info!(addr = %app.addr(), instance = %args.ops.instance(), store = %args.data.store_name(), data_dir = %args.data.data_dir.display(), "serving");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    exit(result)
}

/// Development mode says so, loudly, and hands out a token per role.
fn announce_development() {
    tracing::warn!(
        "DEVELOPMENT MODE (开发模式): tokens signed with a public key are accepted; loopback only. \
         Use --mode production for real use."
    );
    // On standard error: standard output's one line is the address, for scripts.
    eprintln!("development mode (开发模式): a token for each role (Authorization: Bearer <token>)");
    for role in Role::ALL {
        eprintln!("  {:<20} {}", role.as_str(), development::token(role));
    }
}

/// `ercs token create|list|revoke`.
fn token(command: TokenCommand) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        use ercs_server::auth::tokens::ApiTokens;
        let data = match &command {
            TokenCommand::Create { data, .. }
            | TokenCommand::List { data }
            | TokenCommand::Revoke { data, .. } => data,
        };
        // Tokens live in the log, so replicas on a shared store see the same ones.
        let log: Arc<dyn EventLog> = data
            .clone()
            .resolved()
            .open_store()
            .await
            .map_err(|e| match e {
                ercs_server::startup::StartError::EventLog(ercs_eventlog::Error::Locked { .. }) => {
                    format!(
                        "{e}\nThe running service holds this log. While it runs, an admin creates and \
                         revokes tokens through it: POST /api/v1/tokens {{\"subject\", \"name\", \"role\", \
                         \"jurisdiction\"}} and POST /api/v1/tokens/<id>/revoke (see README, Access control)."
                    )
                }
                e => e.to_string(),
            })?
            .log();
        let tokens = ApiTokens::new(log);
        match command {
            TokenCommand::Create {
                subject,
                name,
                role,
                jurisdiction,
                ..
            } => {
                let principal =
                    ercs_server::auth::tokens::principal(&subject, &name, &role, &jurisdiction)
                        .map_err(|(field, detail)| format!("--{field}: {detail}"))?;
                let (plaintext, record) =
                    tokens.create(principal, None).await.map_err(|e| e.to_string())?;
                eprintln!(
                    "created API token {} (shown once; only its digest is kept)",
                    record.token_id
                );
                println!("{plaintext}");
            }
            TokenCommand::List { .. } => {
                for record in tokens.list().await.map_err(|e| e.to_string())? {
                    println!("{}", ercs_server::auth::tokens::describe(&record));
                }
            }
            TokenCommand::Revoke { id, .. } => {
                let record = tokens.revoke(id, None).await.map_err(|e| e.to_string())?;
                println!("revoked {}", ercs_server::auth::tokens::describe(&record));
            }
        }
        Ok(())
    });
    exit(result)
}

fn seed(mut args: SeedArgs) -> ExitCode {
    args.data = args.data.resolved();
    let result = actix_web::rt::System::new().block_on(async move {
        let log = args
            .data
            .open_store()
            .await
            .map_err(|e| e.to_string())?
            .log();
        let summary = seeding::load(log, args.seed, &seeding::progress_bar())
            .await
            .map_err(|e| e.to_string())?;
        println!("seeded {}: {summary}", args.seed);
        Ok(())
    });
    exit(result)
}

/// `ercs export`: the log to a file, or to standard output with `--to -`.
fn export(args: ExportArgs) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let store = args.data.open_store().await.map_err(|e| e.to_string())?;
        let bar = moving::progress_bar("exporting");
        let events = if args.to.as_os_str() == "-" {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            moving::export(&store, &mut out, &bar).await
        } else {
            let file = std::fs::File::create_new(&args.to)
                .map_err(|e| format!("{}: {e}", args.to.display()))?;
            let mut out = std::io::BufWriter::new(file);
            let events = moving::export(&store, &mut out, &bar).await;
            out.into_inner()
                .map_err(|e| e.to_string())?
                .sync_all()
                .map_err(|e| e.to_string())?;
            events
        }
        .map_err(|e| e.to_string())?;
        eprintln!("exported {events} events from {}", args.data.store_name());
        Ok(())
    });
    exit(result)
}

/// `ercs import`: an export into an empty store.
fn import(args: ImportArgs) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let mut target = args
            .data
            .open_import_target()
            .await
            .map_err(|e| e.to_string())?;
        let bar = moving::progress_bar("importing");
        let events = if args.from.as_os_str() == "-" {
            moving::import(&mut target, std::io::stdin().lock(), &bar).await
        } else {
            let file = std::fs::File::open(&args.from)
                .map_err(|e| format!("{}: {e}", args.from.display()))?;
            moving::import(&mut target, std::io::BufReader::new(file), &bar).await
        }
        .map_err(|e| e.to_string())?;
        eprintln!("imported {events} events into {}", args.data.store_name());
        Ok(())
    });
    exit(result)
}

/// `ercs backup`: the SQLite log, copied while it is in use.
fn backup(args: BackupArgs) -> ExitCode {
    let result = args.data.sqlite_file().and_then(|source| {
        let events = ercs_eventlog::sqlite::backup(&source, &args.to, args.data.access())
            .map_err(|e| e.to_string())?;
        eprintln!("backed up {events} events to {}", args.to.display());
        Ok(())
    });
    exit(result)
}

fn exit(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ercs: {error}");
            ExitCode::FAILURE
        }
    }
}
