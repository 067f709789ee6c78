//! Saves of one file that take turns, and end for good once stopped: the
//! view's snapshot and the command path's saved states both need that.

use tokio::sync::{Mutex, MutexGuard};

/// One save at a time, so two never race on the file (the last one started
/// is the one on disk); none once stopped, so the directory can then be
/// replaced or deleted (a drill rewound or deleted) without a late save
/// landing in it.
#[derive(Debug, Default)]
pub struct SaveTurns {
    stopped: Mutex<bool>,
}

/// A save's turn, held until its file is in place.
type Turn<'a> = MutexGuard<'a, bool>;

impl SaveTurns {
    /// This save's turn, after the one under way; `None` once stopped.
    pub async fn take(&self) -> Option<Turn<'_>> {
        let turn = self.stopped.lock().await;
        (!*turn).then_some(turn)
    }

    /// The turn if no save is under way; `None` if one is, or once stopped.
    pub fn try_take(&self) -> Option<Turn<'_>> {
        let turn = self.stopped.try_lock().ok()?;
        (!*turn).then_some(turn)
    }

    /// Waits for the save under way, then lets none start.
    pub async fn stop(&self) {
        *self.stopped.lock().await = true;
    }
}
