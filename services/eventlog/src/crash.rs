//! Crash safety, for any backend: a child process ([`crate::hammer`]) appends from
//! 8 tasks and is SIGKILLed at a random moment, round after round on one log. After
//! each kill the log reopens with every acknowledged append present, no partial
//! append, and positions 1, 2, 3, ... with no hole ([`Positions::Dense`]; a shared
//! store such as KurrentDB, whose positions are offsets, is checked for
//! [`Positions::Increasing`] order in the hammer's streams only).

use std::collections::HashMap;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{Direction, EventLog, Filter, ReadFrom, RecordedEvent};

/// An acknowledged append, as the child printed it.
struct Ack {
    stream: String,
    first_revision: u64,
    last_position: u64,
    ids: Vec<String>,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut words = line.split_whitespace();
    (words.next()? == "ack").then_some(())?;
    Some(Ack {
        stream: words.next()?.to_owned(),
        first_revision: words.next()?.parse().ok()?,
        last_position: words.next()?.parse().ok()?,
        ids: words.map(str::to_owned).collect(),
    })
}

/// A small deterministic generator: the seed is printed, so a failure replays.
struct XorShift(u64);
impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What a backend promises about positions after a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positions {
    /// 1, 2, 3, ... with no hole, over the whole log (the embedded stores).
    Dense,
    /// Strictly increasing in the hammer's streams (a shared log whose positions
    /// are offsets, and which holds other streams too).
    Increasing,
}

/// Runs `rounds` rounds: `hammer()` is the child to start (writing to the log),
/// `reopen()` opens the log afresh after each kill. `ERCS_CRASH_SEED` replays a run.
pub async fn every_acknowledged_append_survives_a_kill<F, Fut>(
    rounds: usize,
    hammer: impl FnMut() -> Command,
    reopen: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    every_acknowledged_append_survives_a_kill_with(rounds, Positions::Dense, hammer, reopen).await
}

/// As [`every_acknowledged_append_survives_a_kill`], checking `positions`.
pub async fn every_acknowledged_append_survives_a_kill_with<F, Fut>(
    rounds: usize,
    positions: Positions,
    mut hammer: impl FnMut() -> Command,
    mut reopen: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn EventLog>>,
{
    let filter = match positions {
        Positions::Dense => Filter::all(),
        Positions::Increasing => Filter::stream_prefix("hammer-"),
    };
    let seed = std::env::var("ERCS_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    println!("ERCS_CRASH_SEED={seed}");
    let mut random = XorShift(seed);
    let mut acked: Vec<Ack> = Vec::new();

    for round in 0..rounds {
        let mut child = hammer()
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the child starts");
        let mut lines = BufReader::new(child.stdout.take().expect("a pipe")).lines();
        // Kill only once it is writing, then at a random moment within 40 ms.
        let first = lines
            .next()
            .expect("the child acknowledges an append")
            .expect("a line");
        std::thread::sleep(Duration::from_micros(random.below(40_000)));
        assert!(
            child.try_wait().expect("a status").is_none(),
            "round {round}: the child stopped by itself"
        );
        child.kill().expect("a kill");
        child.wait().expect("the child's end");
        acked.extend(
            std::iter::once(first)
                .chain(lines.map_while(Result::ok))
                .filter_map(|l| parse_ack(&l)),
        );

        let log = reopen().await;
        let events = log
            .read_all(ReadFrom::Start, Direction::Forwards, &filter, usize::MAX)
            .await
            .unwrap_or_else(|e| panic!("round {round}: the read failed: {e}"));
        check_round(round, positions, &events, &acked);
    }
    assert!(
        acked.len() > rounds,
        "only {} appends were acknowledged in {rounds} rounds",
        acked.len()
    );
}

fn check_round(round: usize, positions: Positions, events: &[RecordedEvent], acked: &[Ack]) {
    match positions {
        Positions::Dense => {
            for (i, event) in events.iter().enumerate() {
                assert_eq!(
                    event.position.0,
                    i as u64 + 1,
                    "round {round}: positions must run 1, 2, 3, ... with no hole"
                );
            }
        }
        Positions::Increasing => assert!(
            events.windows(2).all(|w| w[0].position < w[1].position),
            "round {round}: positions must increase in log order"
        ),
    }
    let by_id: HashMap<String, &RecordedEvent> =
        events.iter().map(|e| (e.id.to_string(), e)).collect();
    for ack in acked {
        for (i, id) in ack.ids.iter().enumerate() {
            let event = by_id
                .get(id)
                .unwrap_or_else(|| panic!("round {round}: acknowledged event {id} is gone"));
            assert_eq!(event.stream.as_str(), ack.stream);
            assert_eq!(event.revision, ack.first_revision + i as u64);
        }
        let last = by_id[ack.ids.last().expect("an id")];
        assert_eq!(last.position.0, ack.last_position);
    }
    // Atomicity: each append wrote `of` events sharing a batch id; all or none are here.
    let mut batches: HashMap<String, (usize, usize)> = HashMap::new();
    for event in events {
        let data: serde_json::Value = event.data.deserialize().expect("hammer data");
        let entry = batches
            .entry(data["batch"].to_string())
            .or_insert((0, data["of"].as_u64().expect("a count") as usize));
        entry.0 += 1;
    }
    for (batch, (found, of)) in batches {
        assert_eq!(
            found, of,
            "round {round}: append {batch} is there only in part"
        );
    }
    // Every stream runs 0, 1, 2, ... in position order.
    let mut next_revision: HashMap<&str, u64> = HashMap::new();
    for event in events {
        let next = next_revision.entry(event.stream.as_str()).or_insert(0);
        assert_eq!(
            event.revision, *next,
            "round {round}: stream {} skips a revision",
            event.stream
        );
        *next += 1;
    }
}
