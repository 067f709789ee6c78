use std::process::ExitCode;

use clap::Parser;
use ercs_server::cli::{Cli, Command};
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
    }
}

fn serve(args: ercs_server::cli::ServeArgs) -> ExitCode {
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(&args).map_err(|e| e.to_string())?;
        // One line on stdout, for operators and scripts: where to reach the service.
        println!("ercs listening on http://{}", app.addr());
        tracing::info!(addr = %app.addr(), data_dir = %args.data_dir.display(), "serving");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ercs: {error}");
            ExitCode::FAILURE
        }
    }
}
