//! `feed`: many dashboards on the live feed while dispatchers write. Each
//! write's acknowledgement is timed, each subscriber times the arrival of every
//! frame; the latency of a delivery is the second minus the first, and a write a
//! subscriber never received is a miss.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::mixed::{Writers, run_writers};
use crate::stats::Latencies;

/// What one subscriber received: each frame's position and when it arrived.
struct Received {
    frames: Vec<(u64, Instant)>,
    resyncs: u64,
}

/// Runs `subscribers` feed clients, connected before the writers start, and
/// `writers` dispatchers at `rate` writes a second until `deadline`.
pub async fn run(
    mut shared: Writers,
    subscribers: usize,
    writers: usize,
    rate: u64,
    deadline: Instant,
) -> Result<Value, String> {
    let (acked_to, mut acks) = tokio::sync::mpsc::unbounded_channel();
    shared.acked = Some(acked_to);
    let shared = Arc::new(shared);
    let (connected_to, mut connected) = tokio::sync::mpsc::channel(subscribers);
    let listen_until = deadline + Duration::from_secs(3);
    let listeners: Vec<_> = (0..subscribers)
        .map(|_| {
            let (client, url) = (
                shared.client.clone(),
                format!("{}/api/v1/feed", shared.base),
            );
            let connected_to = connected_to.clone();
            tokio::spawn(async move {
                let response = client.get(url).send().await.ok()?;
                let _ = connected_to.send(()).await;
                Some(listen(response, listen_until).await)
            })
        })
        .collect();
    drop(connected_to);
    let mut joined = 0;
    while joined < subscribers {
        match tokio::time::timeout(Duration::from_secs(60), connected.recv()).await {
            Ok(Some(())) => joined += 1,
            _ => break,
        }
    }
    println!("{joined} of {subscribers} subscribers connected; writers start");
    let started = Instant::now();
    run_writers(Arc::clone(&shared), writers, rate, u64::MAX, deadline).await;
    let wrote_for = started.elapsed();
    let mut acked: HashMap<u64, Instant> = HashMap::new();
    while let Ok((position, at)) = acks.try_recv() {
        acked.insert(position, at);
    }
    let delivery = Latencies::default();
    let (mut missed, mut resyncs, mut lost) = (0u64, 0u64, 0usize);
    for listener in listeners {
        let Ok(Some(received)) = listener.await else {
            lost += 1;
            continue;
        };
        resyncs += received.resyncs;
        let arrived: HashMap<u64, Instant> = received.frames.into_iter().collect();
        for (position, at) in &acked {
            match arrived.get(position) {
                Some(when) => delivery.record(when.saturating_duration_since(*at)),
                None => missed += 1,
            }
        }
    }
    Ok(json!({
        "subscribers": subscribers,
        "subscribers_connected": joined,
        "subscribers_lost": lost,
        "writes_acknowledged": acked.len(),
        "writes": shared.writes.summary(wrote_for),
        "delivery": delivery.summary(wrote_for),
        "deliveries_missed": missed,
        "resyncs": resyncs,
        "outcomes": shared.outcomes.report(),
    }))
}

/// Reads frames until `until`, noting each `id:` and each `resync`.
async fn listen(mut response: reqwest::Response, until: Instant) -> Received {
    let mut received = Received {
        frames: Vec::new(),
        resyncs: 0,
    };
    let mut tail = Vec::new();
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        let Ok(Ok(Some(chunk))) = tokio::time::timeout(left, response.chunk()).await else {
            break;
        };
        let arrived = Instant::now();
        tail.extend_from_slice(&chunk);
        // Only complete lines count; the unfinished one waits for the next chunk.
        let cut = tail.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let lines: Vec<u8> = tail.drain(..cut).collect();
        for line in String::from_utf8_lossy(&lines).lines() {
            if let Some(id) = line.strip_prefix("id: ").and_then(|id| id.parse().ok()) {
                received.frames.push((id, arrived));
            } else if line == "event: resync" {
                received.resyncs += 1;
            }
        }
    }
    received
}
