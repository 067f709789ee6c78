//! Views of the log's past, kept by position, so a read `as_of` an old point (or a
//! feed resuming from one) folds forward from the nearest kept view instead of
//! refolding the whole log.
//!
//! Views are kept in memory, at most `keep` of them, least recently used first
//! out: one each `every` events as the live projector passes them
//! ([`History::offer`]), one each `every` events a fold passes, and each fold's
//! answer (so the same `as_of` asked again costs nothing). At most `folds` folds
//! run at once; the rest wait their turn, so time travel cannot take every core.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use ercs_eventlog::{EventLog, Position, RecordedEvent};
use tokio::sync::Semaphore;

use crate::Projection;
use crate::projector::{AsOf, fold_forward};

#[derive(Clone, Debug)]
pub struct HistoryOptions {
    /// Keep a view each this many events.
    pub every: u64,
    /// Keep at most this many views.
    pub keep: usize,
    /// Fold at most this many views at once.
    pub folds: usize,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        Self {
            every: 10_000,
            keep: 16,
            folds: 2,
        }
    }
}

pub struct History<P> {
    log: Arc<dyn EventLog>,
    options: HistoryOptions,
    kept: Mutex<Kept<P>>,
    folds: Semaphore,
}

struct Kept<P> {
    views: BTreeMap<u64, Entry<P>>,
    /// Counts uses, for least-recently-used eviction.
    clock: u64,
}

struct Entry<P> {
    view: Arc<P>,
    /// When the log recorded the event at this position.
    at: DateTime<Utc>,
    used: u64,
}

/// A kept view to fold forward from.
struct Base<P> {
    view: Arc<P>,
    position: Position,
}

impl<P: Projection + Clone> History<P> {
    pub fn new(log: Arc<dyn EventLog>, options: HistoryOptions) -> Self {
        Self {
            log,
            folds: Semaphore::new(options.folds.max(1)),
            options,
            kept: Mutex::new(Kept {
                views: BTreeMap::new(),
                clock: 0,
            }),
        }
    }

    /// How many views are kept now.
    pub fn kept(&self) -> usize {
        self.lock().views.len()
    }

    /// Told of each view the live projector reaches (`view` just applied
    /// `event`); keeps a copy when `every` events have passed since the last
    /// one kept.
    pub fn offer(&self, view: &P, event: &RecordedEvent) {
        let mut kept = self.lock();
        let last = kept.views.keys().next_back().copied().unwrap_or(0);
        if event.position.0 >= last.saturating_add(self.options.every) {
            self.insert(
                &mut kept,
                Arc::new(view.clone()),
                event.position.0,
                event.recorded_at,
            );
        }
    }

    /// The view as of a position or a time, with the position it reflects.
    pub async fn at(&self, as_of: AsOf) -> Result<(Arc<P>, Position), ercs_eventlog::Error> {
        let base = self.base_for(as_of);
        if matches!(as_of, AsOf::Position(p) if p == base.position) {
            return Ok((base.view, base.position));
        }
        let _turn = self
            .folds
            .acquire()
            .await
            .map_err(|_| ercs_eventlog::Error::Closed)?;
        let mut since_kept = 0u64;
        let mut last: Option<(u64, DateTime<Utc>)> = None;
        let (view, reached) = fold_forward(
            &*self.log,
            Arc::unwrap_or_clone(base.view.clone()),
            base.position,
            as_of,
            |view, event| {
                since_kept += 1;
                if since_kept >= self.options.every {
                    since_kept = 0;
                    let mut kept = self.lock();
                    self.insert(
                        &mut kept,
                        Arc::new(view.clone()),
                        event.position.0,
                        event.recorded_at,
                    );
                }
                last = Some((event.position.0, event.recorded_at));
            },
        )
        .await?;
        let Some((position, at)) = last else {
            return Ok((base.view, base.position));
        };
        let view = Arc::new(view);
        self.insert(&mut self.lock(), Arc::clone(&view), position, at);
        Ok((view, reached))
    }

    /// The latest kept view at or before `as_of`; the empty view at 0 if none is.
    fn base_for(&self, as_of: AsOf) -> Base<P> {
        let mut kept = self.lock();
        kept.clock += 1;
        let clock = kept.clock;
        let found = match as_of {
            AsOf::Position(p) => kept.views.range_mut(..=p.0).next_back(),
            AsOf::Time(t) => kept.views.iter_mut().rev().find(|(_, e)| e.at <= t),
        };
        match found {
            Some((&position, entry)) => {
                entry.used = clock;
                Base {
                    view: Arc::clone(&entry.view),
                    position: Position(position),
                }
            }
            None => Base {
                view: Arc::new(P::default()),
                position: Position(0),
            },
        }
    }

    fn insert(&self, kept: &mut Kept<P>, view: Arc<P>, position: u64, at: DateTime<Utc>) {
        kept.clock += 1;
        let used = kept.clock;
        kept.views.insert(position, Entry { view, at, used });
        while kept.views.len() > self.options.keep.max(1) {
            let Some(oldest) = kept
                .views
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(p, _)| *p)
            else {
                break;
            };
            kept.views.remove(&oldest);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept<P>> {
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
