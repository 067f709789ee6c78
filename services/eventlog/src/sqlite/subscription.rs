//! Subscriptions read the committed log in windows up to the writer's published
//! head (see [`crate::windowed`]); only one writer thread commits, so its head never
//! runs ahead of a hole.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::reader::{Readers, log_window};
use crate::Error;
use crate::model::{Direction, Filter, Position, RecordedEvent};
use crate::port::Subscription;
use crate::windowed::{self, LogWindows};

struct Windows(Arc<Readers>);

#[async_trait]
impl LogWindows for Windows {
    async fn window(
        &self,
        window: (Position, Position),
        filter: &Filter,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, Error> {
        let filter = filter.clone();
        self.0
            .run(move |conn| log_window(conn, window, Direction::Forwards, &filter, limit))
            .await
    }
}

pub(super) fn subscribe(
    readers: Arc<Readers>,
    head: watch::Receiver<Position>,
    after: Position,
    filter: Filter,
) -> Subscription {
    windowed::subscribe(Arc::new(Windows(readers)), head, after, filter)
}
