//! Reading the whole log forwards a page at a time: what an export, a copy
//! into a sandbox or a judge of a drill's record all do.

use crate::{Direction, Error, EventLog, Filter, Position, ReadFrom, RecordedEvent};

/// The events after a position, through another, a page at a time.
pub struct Pages<'a> {
    log: &'a dyn EventLog,
    next: Position,
    through: Position,
    page: usize,
}

impl<'a> Pages<'a> {
    /// The events of `log` after `after` through `through` (`Position(u64::MAX)`:
    /// to the end), `page` at a time.
    pub fn new(log: &'a dyn EventLog, after: Position, through: Position, page: usize) -> Self {
        Pages {
            log,
            next: Position(after.0.saturating_add(1)),
            through,
            page: page.max(1),
        }
    }

    /// The next page, `None` once past `through` or the log's end. A page
    /// may be shorter than asked when it reaches `through`.
    pub async fn next(&mut self) -> Result<Option<Vec<RecordedEvent>>, Error> {
        if self.next > self.through {
            return Ok(None);
        }
        let page = self
            .log
            .read_all(
                ReadFrom::At(self.next),
                Direction::Forwards,
                &Filter::all(),
                self.page,
            )
            .await?;
        let Some(last) = page.last() else {
            self.next = Position(u64::MAX);
            return Ok(None);
        };
        self.next = Position(last.position.0.saturating_add(1));
        let kept: Vec<RecordedEvent> = page
            .into_iter()
            .take_while(|e| e.position <= self.through)
            .collect();
        if kept.is_empty() {
            return Ok(None);
        }
        Ok(Some(kept))
    }

    /// Every remaining event, in order (for a log known to be small, such as
    /// a drill's sandbox).
    pub async fn all(mut self) -> Result<Vec<RecordedEvent>, Error> {
        let mut all = Vec::new();
        while let Some(page) = self.next().await? {
            all.extend(page);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EventData, EventType, ExpectedRevision, JsonObject, SqliteEventLog, StreamName};

    #[tokio::test]
    async fn pages_cover_exactly_the_range_asked_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = SqliteEventLog::open(dir.path().join("events.db")).unwrap();
        let stream = StreamName::new("page-1").unwrap();
        for n in 0..10 {
            let data = JsonObject::from_serialize(&serde_json::json!({"n": n})).unwrap();
            let event =
                EventData::new(uuid::Uuid::new_v4(), EventType::new("Paged").unwrap(), data)
                    .unwrap();
            log.append(&stream, ExpectedRevision::Any, vec![event])
                .await
                .unwrap();
        }
        let mut pages = Pages::new(&log, Position(2), Position(7), 3);
        let mut seen = Vec::new();
        while let Some(page) = pages.next().await.unwrap() {
            assert!(page.len() <= 3);
            seen.push(page.iter().map(|e| e.position.0).collect::<Vec<_>>());
        }
        assert_eq!(seen, vec![vec![3, 4, 5], vec![6, 7]]);
        let all = Pages::new(&log, Position(8), Position(u64::MAX), 4)
            .all()
            .await
            .unwrap();
        assert_eq!(
            all.iter().map(|e| e.position.0).collect::<Vec<_>>(),
            [9, 10]
        );
        assert!(
            Pages::new(&log, Position(10), Position(u64::MAX), 4)
                .all()
                .await
                .unwrap()
                .is_empty()
        );
    }
}
