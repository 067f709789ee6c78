//! A small runtime of its own for history work — feed catch-ups from the log and
//! `as_of` folds — so that folding the log never runs on the threads that answer
//! requests, and `/healthz` or a write is never queued behind it.

use std::future::Future;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::problem::Problem;

/// Threads of the history runtime: enough for the default catch-up and fold
/// slots to make progress, few enough to leave the request threads a core.
const THREADS: usize = 2;

pub struct Background {
    runtime: Option<Runtime>,
}

impl Background {
    pub fn start() -> std::io::Result<Self> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(THREADS)
            .thread_name("ercs-history")
            .enable_all()
            .build()?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    pub fn handle(&self) -> Option<Handle> {
        self.runtime.as_ref().map(|r| r.handle().clone())
    }

    /// Runs `work` on the history runtime and waits for it.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, Problem> {
        let handle = self
            .handle()
            .ok_or_else(|| Problem::unavailable("the service is stopping"))?;
        handle
            .spawn(work)
            .await
            .map_err(|error| Problem::unavailable(format!("history work failed: {error}")))
    }
}

impl Drop for Background {
    /// Dropped from async code when the service stops, where a blocking shutdown
    /// would panic: tasks still running are abandoned (they only read).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
