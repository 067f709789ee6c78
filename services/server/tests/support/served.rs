//! The real `ercs` binary, as a user runs it, for tests that kill it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `ercs serve`; killed when dropped.
pub struct Served {
    pub child: Child,
    pub base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    pub fn send_sigterm(&self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// SIGTERM, and the exit it must lead to: a clean one.
    pub fn terminate(&mut self) {
        self.send_sigterm();
        assert!(self.child.wait().unwrap().success());
    }

    /// `kill -9`: no chance to finish a request, flush or snapshot.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits until `/readyz` says ready (the view has replayed the log), and
    /// returns the log position it reports.
    pub async fn ready(&self) -> u64 {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            if let Ok(response) = reqwest::get(self.url("/readyz")).await
                && response.status() == 200
            {
                let body: serde_json::Value = response.json().await.expect("a JSON body");
                return body["log_position"].as_u64().expect("a position");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not ready within 120 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}

/// A client acting as an administrator, giving up on an answer after 20 s.
pub fn admin_client() -> reqwest::Client {
    reqwest::Client::builder()
        .default_headers(super::bearer(ercs_server::auth::Role::Admin))
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// The `ercs` binary, with no setting inherited from the environment.
pub fn ercs() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ercs"));
    command
        .env_remove("ERCS_LISTEN")
        .env_remove("ERCS_DATA_DIR")
        .env_remove("ERCS_SEED")
        .env_remove("ERCS_STORE")
        .env_remove("ERCS_MODE")
        .env_remove("ERCS_LOG_FORMAT")
        .env_remove("ERCS_MAX_LAG")
        .env_remove("ERCS_INSTANCE");
    command
}

/// Starts `command` and waits for the address it prints.
pub fn serve(command: Command) -> Served {
    serve_logging_to(command, Stdio::null())
}

/// [`serve`], its standard error (the log) going to `stderr`.
pub fn serve_logging_to(mut command: Command, stderr: Stdio) -> Served {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("ercs starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let base = line
        .trim()
        .strip_prefix("ercs listening on ")
        .unwrap_or_else(|| panic!("unexpected: {line:?}"));
    Served {
        base: base.to_owned(),
        child,
    }
}

/// `ercs serve` on a free port over `data_dir`, with `extra` arguments.
pub fn serve_on(data_dir: &Path, extra: &[&str]) -> Served {
    let mut command = ercs();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra);
    serve(command)
}
