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

/// The subscribers: how many, and the `detail` each asks for.
pub struct Feed<'a> {
    pub subscribers: usize,
    pub detail: &'a str,
}

/// Runs `feed.subscribers` feed clients, connected before the writers start, and
/// `writers` dispatchers at `rate` writes a second until `deadline`.
///
/// The subscribers run on threads of their own (a runtime of two, with their
/// own `client`), apart from the writers on the caller's runtime: on one
/// runtime a write's answer waited behind a thousand frames' reads, which
/// timed the acknowledgement late (13 ms at the median where a separate
/// process measured 2 ms) and so every delivery short by as much.
pub async fn run(
    mut shared: Writers,
    client: reqwest::Client,
    feed: &Feed<'_>,
    writers: usize,
    rate: u64,
    deadline: Instant,
) -> Result<Value, String> {
    let subscribers = feed.subscribers;
    let (acked_to, mut acks) = tokio::sync::mpsc::unbounded_channel();
    shared.acked = Some(acked_to);
    let shared = Arc::new(shared);
    let (connected_to, mut connected) = tokio::sync::mpsc::channel(subscribers);
    let listen_until = deadline + Duration::from_secs(3);
    let url = format!("{}/api/v1/feed?detail={}", shared.base, feed.detail);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("subscriber")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let listeners = std::thread::spawn(move || {
        runtime.block_on(async move {
            let listening: Vec<_> = (0..subscribers)
                .map(|_| {
                    let (client, url) = (client.clone(), url.clone());
                    let connected_to = connected_to.clone();
                    tokio::spawn(async move {
                        let response = client.get(url).send().await.ok()?;
                        let _ = connected_to.send(()).await;
                        Some(listen(response, listen_until).await)
                    })
                })
                .collect();
            drop(connected_to);
            let mut received = Vec::with_capacity(listening.len());
            for listener in listening {
                received.push(listener.await.ok().flatten());
            }
            received
        })
    });
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
    let listeners = tokio::task::spawn_blocking(move || listeners.join())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|_| "a subscriber thread panicked")?;
    for listener in listeners {
        let Some(received) = listener else {
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

/// Reads frames until `until`, noting each `id:` and each `resync`. The scan
/// is over bytes, line by line, with one timer for the whole read: a thousand
/// of these share the machine with the server they measure, so each costs as
/// little as a frame's arrival allows.
async fn listen(mut response: reqwest::Response, until: Instant) -> Received {
    let mut received = Received {
        frames: Vec::new(),
        resyncs: 0,
    };
    let mut tail: Vec<u8> = Vec::new();
    let deadline = tokio::time::sleep_until(until.into());
    tokio::pin!(deadline);
    loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk,
            () = &mut deadline => break,
        };
        let Ok(Some(chunk)) = chunk else { break };
        let arrived = Instant::now();
        tail.extend_from_slice(&chunk);
        // Only complete lines count; the unfinished one waits for the next chunk.
        let mut start = 0;
        while let Some(end) = tail[start..].iter().position(|&b| b == b'\n') {
            let line = &tail[start..start + end];
            if let Some(id) = line.strip_prefix(b"id: ") {
                if let Some(id) = std::str::from_utf8(id).ok().and_then(|id| id.parse().ok()) {
                    received.frames.push((id, arrived));
                }
            } else if line == b"event: resync" {
                received.resyncs += 1;
            }
            start += end + 1;
        }
        tail.drain(..start);
    }
    received
}
