//! One at a time per key: commands on one stream, or runs of one process.
//!
//! Within one process, commands on the same stream are decided one after the
//! other, so a command decided on the latest state never loses a race to its
//! neighbour and never needs to be decided again (40 bed reports at once are 40
//! reports, not 40 conflicts). Across processes the log's expected revision still
//! decides, and a loser is decided again on the new state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// How many keys the map holds before idle ones are swept out.
const SWEEP_AT: usize = 1024;

/// A lock per key, created on first use and forgotten when nobody holds or
/// awaits it, so the map stays as small as the work in flight.
#[derive(Default)]
pub struct Turns {
    locks: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// The turn of one key; the next waiter's turn starts when it is dropped.
pub struct Turn<'a> {
    turns: &'a Turns,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Turns {
    /// Waits until nobody else holds `key`'s turn, then holds it.
    pub async fn take(&self, key: &str) -> Turn<'_> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            // A waiter whose future was dropped before its turn leaves its entry
            // behind; sweeping now and then keeps the map as small as the work.
            if locks.len() >= SWEEP_AT {
                locks.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            Arc::clone(locks.entry(key.to_owned()).or_default())
        };
        let guard = lock.lock_owned().await;
        Turn {
            turns: self,
            key: key.to_owned(),
            guard: Some(guard),
        }
    }

    /// How many keys are held or awaited now.
    pub fn in_use(&self) -> usize {
        self.locks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut locks = self.turns.locks.lock().unwrap_or_else(|p| p.into_inner());
        drop(self.guard.take());
        // Waiters clone the lock under the map's mutex, so a count of one (the
        // map's own) means nobody can be waiting for it.
        if locks
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn one_key_is_held_by_one_task_at_a_time_and_then_forgotten() {
        let turns = Arc::new(Turns::default());
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (turns, inside) = (Arc::clone(&turns), Arc::clone(&inside));
                tokio::spawn(async move {
                    let _turn = turns.take("facility-1").await;
                    let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    assert_eq!(now, 0, "two tasks held one key's turn");
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(turns.in_use(), 0);
    }

    #[tokio::test]
    async fn other_keys_do_not_wait() {
        let turns = Turns::default();
        let _a = turns.take("a").await;
        let b = tokio::time::timeout(std::time::Duration::from_secs(1), turns.take("b")).await;
        assert!(b.is_ok(), "another key waited");
    }
}
