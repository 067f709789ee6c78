use std::process::ExitCode;

use clap::Parser;
use std::sync::Arc;

use ercs_eventlog::EventLog;
use ercs_server::cli::{Cli, Command, DrillCommand, RouteCommand, SeedArgs, ServeArgs};
use ercs_server::seeding;
use ercs_server::startup::Application;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("ERCS_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Seed(args) => seed(args),
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

fn serve(args: ServeArgs) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let log: Arc<dyn EventLog> = Arc::new(args.data.open_log().map_err(|e| e.to_string())?);
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
        tracing::info!(addr = %app.addr(), data_dir = %args.data.data_dir.display(), "serving");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    exit(result)
}

fn seed(args: SeedArgs) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let log: Arc<dyn EventLog> = Arc::new(args.data.open_log().map_err(|e| e.to_string())?);
        let summary = seeding::load(log, args.seed, &seeding::progress_bar())
            .await
            .map_err(|e| e.to_string())?;
        println!("seeded {}: {summary}", args.seed);
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
