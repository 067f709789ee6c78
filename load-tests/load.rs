//! Load scenarios against a running `ercs serve`, on loopback only, bounded in
//! clients and in time. Each measures `/healthz` latency (a probe every 20 ms)
//! while the load runs, and the server's resident memory if given its pid.
//!
//! - `feed-resume`: N clients resume the feed with `Last-Event-ID: 0` at once and
//!   read until they reach the head the service had when they started.
//! - `as-of`: N clients read `/api/v1/network?as_of=<position>` in a loop, at
//!   positions spread over the whole log.
//! - `surge`: one incident over every township of a region (渝东北 by default):
//!   isolation beds and N95 demanded in each, teams at the site; then the plan
//!   (whole request, and the server's own build / solve / record split from its
//!   `Server-Timing`), the record's size plain and gzipped, and the approval.
//!
//! - `mixed`: dispatcher writes (bed reports, stock issues and transfers, team
//!   status races on `If-Match`) beside single-resource reads, with the view's
//!   lag as read-your-writes meets it (see `mixed.rs`).
//! - `dashboard`: `/network` rollups, filtered resource lists and GIS items in
//!   a bounding box, read by `--clients` dashboards.
//! - `feed`: `--clients` live feed subscribers while dispatchers write, timing
//!   each write's delivery to each subscriber (see `subscribers.rs`).
//!
//! Every scenario prints its figures and, with `--out FILE`, writes them as JSON.
//!
//! cargo run --release -p ercs-server --example load -- feed-resume --base http://127.0.0.1:8181 --clients 200 --pid PID

mod mixed;
mod stats;
mod subscribers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    scenario: Scenario,
    /// The service, on loopback.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8181")]
    base: String,
    /// Concurrent clients (at most 1,000).
    #[arg(long, global = true, default_value_t = 200)]
    clients: usize,
    /// Give up after this many seconds (at most 600).
    #[arg(long, global = true, default_value_t = 300)]
    seconds: u64,
    /// The server's process id, to sample its resident memory.
    #[arg(long, global = true)]
    pid: Option<u32>,
    /// Write the run's figures here as JSON.
    #[arg(long, global = true)]
    out: Option<std::path::PathBuf>,
}

#[derive(Subcommand, Clone)]
enum Scenario {
    FeedResume,
    AsOf,
    /// Plan and approve one incident over every township of a region.
    Surge {
        /// The region's slug in seeds/chongqing/regions.json.
        #[arg(long, default_value = "yudongbei")]
        region: String,
    },
    /// Dispatcher writes and single reads together (`--clients` readers).
    Mixed {
        #[arg(long, default_value_t = 32)]
        writers: usize,
        /// Writes a second between all writers; 0 for as fast as they go.
        #[arg(long, default_value_t = 0)]
        rate: u64,
        /// Reads a second between all readers; 0 for as fast as they go.
        #[arg(long, default_value_t = 0)]
        read_rate: u64,
        /// Stop after this many writes, or reads.
        #[arg(long, default_value_t = 2_000_000)]
        requests: u64,
    },
    /// Dashboard reads: rollups, filtered lists, GIS items in a box.
    Dashboard {
        #[arg(long, default_value_t = 2_000_000)]
        requests: u64,
    },
    /// `--clients` live feed subscribers while dispatchers write.
    Feed {
        #[arg(long, default_value_t = 8)]
        writers: usize,
        #[arg(long, default_value_t = 50)]
        rate: u64,
        /// What each subscriber asks for: `full` (each resource's whole state,
        /// the feed's default) or `summary` (without it, as a map would).
        #[arg(long, default_value = "full", value_parser = ["full", "summary"])]
        detail: String,
    },
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    if !(args.base.starts_with("http://127.0.0.1:") || args.base.starts_with("http://localhost:")) {
        return Err("loopback only: --base must be http://127.0.0.1:PORT".into());
    }
    if args.clients == 0 || args.clients > 1000 || args.seconds > 600 {
        return Err("--clients must be 1..=1000 and --seconds at most 600".into());
    }
    // The service in development mode (loopback only) takes the development
    // admin's token; see README "Access control".
    let client = admin_client()?;
    let head = head(&client, &args.base).await?;
    println!("service ready at log position {head}");
    let done = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn(probe_healthz(
        client.clone(),
        args.base.clone(),
        done.clone(),
    ));
    let memory = tokio::spawn(sample_rss(args.pid, done.clone()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let mut report = match &args.scenario {
        Scenario::FeedResume => timed(feed_resumes(&client, &args, head, deadline).await),
        Scenario::AsOf => timed(as_of_reads(&client, &args, head, deadline).await),
        Scenario::Surge { region } => timed(surge(&client, &args.base, region).await?),
        Scenario::Mixed {
            writers,
            rate,
            read_rate,
            requests,
        } => {
            mixed(
                &client,
                &args,
                (*writers, *rate, *read_rate, *requests),
                deadline,
            )
            .await?
        }
        Scenario::Dashboard { requests } => dashboard(&client, &args, *requests, deadline).await?,
        Scenario::Feed {
            writers,
            rate,
            detail,
        } => {
            let shared = writers_of(&client, &args.base).await?;
            let subscribing = admin_client()?;
            let feed = subscribers::Feed {
                subscribers: args.clients,
                detail,
            };
            let mut report =
                subscribers::run(shared, subscribing, &feed, *writers, *rate, deadline).await?;
            report["detail"] = serde_json::json!(detail);
            report
        }
    };
    done.store(true, Ordering::Release);
    let took = started.elapsed();
    let healthz = probe.await.map_err(|e| e.to_string())?;
    let peak = memory.await.map_err(|e| e.to_string())?;
    report["seconds"] = serde_json::json!(took.as_secs_f64());
    report["log_position_at_start"] = serde_json::json!(head);
    report["healthz"] = healthz.summary(took);
    report["server_rss_peak_mib"] = serde_json::json!(peak.map(|kib| kib / 1024));
    stats::finish(&report, args.out.as_deref())
}

/// A client with the development admin's token (the service in development
/// mode, loopback only; see README "Access control").
fn admin_client() -> Result<reqwest::Client, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    let bearer = format!(
        "Bearer {}",
        ercs_server::auth::development::token(ercs_server::auth::Role::Admin)
    );
    headers.insert(
        reqwest::header::AUTHORIZATION,
        bearer.parse().map_err(|_| "a header value")?,
    );
    reqwest::Client::builder()
        .default_headers(headers)
        // Every connection kept for reuse (the tasks bound how many there are):
        // a cap below the readers and writers together made those beyond it
        // open a fresh connection for each request.
        .build()
        .map_err(|e| e.to_string())
}

/// A scenario's own timings as its report.
fn timed(timings: Vec<Duration>) -> serde_json::Value {
    let latencies = stats::Latencies::default();
    let took: Duration = timings.iter().sum();
    latencies.extend(timings);
    serde_json::json!({ "load": latencies.summary(took) })
}

async fn writers_of(client: &reqwest::Client, base: &str) -> Result<mixed::Writers, String> {
    Ok(mixed::Writers {
        client: client.clone(),
        base: base.to_owned(),
        world: mixed::World::read(client, base).await?,
        outcomes: Default::default(),
        writes: Default::default(),
        last: Default::default(),
        acked: None,
    })
}

/// Writers and `--clients` readers at once, with the lag probe beside them.
async fn mixed(
    client: &reqwest::Client,
    args: &Args,
    (writers, rate, read_rate, requests): (usize, u64, u64, u64),
    deadline: Instant,
) -> Result<serde_json::Value, String> {
    let shared = Arc::new(writers_of(client, &args.base).await?);
    let started = Instant::now();
    let (_, reads, lag) = tokio::join!(
        mixed::run_writers(Arc::clone(&shared), writers, rate, requests, deadline),
        mixed::run_readers(
            Arc::clone(&shared),
            args.clients,
            read_rate,
            requests,
            deadline
        ),
        mixed::probe_lag(Arc::clone(&shared), deadline),
    );
    let took = started.elapsed();
    let failed = shared.outcomes.failed.load(Ordering::Relaxed);
    let report = serde_json::json!({
        "writers": writers, "readers": args.clients, "target_writes_per_second": rate,
        "target_reads_per_second": read_rate,
        "writes": shared.writes.summary(took),
        "reads": reads.summary(took),
        "view_lag": lag.summary(took),
        "outcomes": shared.outcomes.report(),
    });
    if failed > 0 {
        stats::finish(&report, args.out.as_deref())?;
        return Err(format!("{failed} requests failed with a 5xx or no answer"));
    }
    Ok(report)
}

/// `--clients` dashboards reading rollups, filtered lists and GIS items in a
/// box around one district's seat, in turn.
async fn dashboard(
    client: &reqwest::Client,
    args: &Args,
    requests: u64,
    deadline: Instant,
) -> Result<serde_json::Value, String> {
    const READS: [&str; 5] = [
        "/api/v1/network",
        "/api/v1/network?group_by=tier,status&area_level=district",
        "/api/v1/facilities?area=500101&limit=50",
        "/api/v1/teams?status=standby&limit=100",
        "/api/v1/gis/collections/facilities/items?bbox=106.4,29.4,106.7,29.7&limit=100",
    ];
    let kinds: Vec<Arc<stats::Latencies>> = READS.iter().map(|_| Default::default()).collect();
    let failed = Arc::new(AtomicU64::new(0));
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks = (0..args.clients).map(|n| {
        let (client, base, kinds) = (client.clone(), args.base.clone(), kinds.clone());
        let (failed, issued) = (failed.clone(), issued.clone());
        tokio::spawn(async move {
            let mut turn = n;
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < requests {
                turn += 1;
                let which = turn % READS.len();
                let began = Instant::now();
                let answered = match client.get(format!("{base}{}", READS[which])).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if answered {
                    kinds[which].record(began.elapsed());
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    });
    futures::future::join_all(tasks).await;
    let took = started.elapsed();
    let mut report =
        serde_json::json!({ "clients": args.clients, "failed": failed.load(Ordering::Relaxed) });
    for (path, latencies) in READS.iter().zip(&kinds) {
        report[*path] = latencies.summary(took);
    }
    Ok(report)
}

async fn head(client: &reqwest::Client, base: &str) -> Result<u64, String> {
    let ready = stats::get_json(client, &format!("{base}/readyz")).await?;
    ready["log_position"]
        .as_u64()
        .ok_or_else(|| format!("the service is not ready: {ready}"))
}

/// Each client's time to read the feed from the start up to `head`.
async fn feed_resumes(
    client: &reqwest::Client,
    args: &Args,
    head: u64,
    deadline: Instant,
) -> Vec<Duration> {
    let resumes = (0..args.clients).map(|_| {
        let (client, url) = (client.clone(), format!("{}/api/v1/feed", args.base));
        tokio::spawn(async move {
            let started = Instant::now();
            let response = client
                .get(url)
                .header("Last-Event-ID", "0")
                .send()
                .await
                .ok()?;
            read_until(response, head, deadline).await?;
            Some(started.elapsed())
        })
    });
    let mut timings = Vec::new();
    for resume in futures::future::join_all(resumes).await {
        if let Ok(Some(took)) = resume {
            timings.push(took);
        }
    }
    println!(
        "feed resumes reaching the head: {} of {}",
        timings.len(),
        args.clients
    );
    timings
}

/// Reads SSE frames until one with `id: head` (or beyond) arrives.
async fn read_until(mut response: reqwest::Response, head: u64, deadline: Instant) -> Option<()> {
    let mut tail = Vec::new();
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .ok()?
            .ok()??;
        tail.extend_from_slice(&chunk);
        // Only complete lines matter; keep the unfinished one for the next chunk.
        let cut = tail.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let lines: Vec<u8> = tail.drain(..cut).collect();
        let reached = String::from_utf8_lossy(&lines)
            .lines()
            .filter_map(|line| line.strip_prefix("id: ")?.parse::<u64>().ok())
            .any(|id| id >= head);
        if reached {
            return Some(());
        }
    }
}

/// Each `as_of` read's latency, clients reading in a loop until the deadline or
/// 20 reads each.
async fn as_of_reads(
    client: &reqwest::Client,
    args: &Args,
    head: u64,
    deadline: Instant,
) -> Vec<Duration> {
    const READS: u64 = 20;
    let failures = Arc::new(AtomicU64::new(0));
    let readers = (0..args.clients as u64).map(|reader| {
        let (client, base, failures) = (client.clone(), args.base.clone(), failures.clone());
        tokio::spawn(async move {
            let mut timings = Vec::new();
            for read in 0..READS {
                if Instant::now() > deadline {
                    break;
                }
                // Spread over the log, different for every reader and read.
                let position = 1 + (reader * READS + read) * 7919 % head.max(1);
                let started = Instant::now();
                let url = format!("{base}/api/v1/network?as_of={position}");
                let answered = match client.get(url).send().await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
                if answered {
                    timings.push(started.elapsed());
                } else {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
            timings
        })
    });
    let mut timings = Vec::new();
    for reader in futures::future::join_all(readers).await {
        timings.extend(reader.unwrap_or_default());
    }
    println!("as_of reads failed: {}", failures.load(Ordering::Relaxed));
    timings
}

async fn probe_healthz(
    client: reqwest::Client,
    base: String,
    done: Arc<AtomicBool>,
) -> stats::Latencies {
    let timings = stats::Latencies::default();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    while !done.load(Ordering::Acquire) {
        tick.tick().await;
        let started = Instant::now();
        let answered = client
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        timings.record(if answered {
            started.elapsed()
        } else {
            Duration::from_secs(30)
        });
    }
    timings
}

/// The peak of the server's resident set (KiB), sampled every 100 ms.
async fn sample_rss(pid: Option<u32>, done: Arc<AtomicBool>) -> Option<u64> {
    let pid = pid?;
    let mut peak = 0;
    while !done.load(Ordering::Acquire) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())?;
        peak = peak.max(rss);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(peak)
}

/// The seeded townships of `region`, from the seed files the service loaded.
fn townships_of(region: &str) -> Result<Vec<String>, String> {
    let regions: serde_json::Value =
        serde_json::from_str(include_str!("../seeds/chongqing/regions.json"))
            .map_err(|e| e.to_string())?;
    let districts: Vec<String> = regions["regions"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["slug"] == region))
        .and_then(|r| r["districts"].as_array())
        .ok_or_else(|| format!("no region `{region}` in seeds/chongqing/regions.json"))?
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    Ok(include_str!("../seeds/chongqing/townships.csv")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            let (code, _, county) = (fields.next()?, fields.next()?, fields.next()?);
            districts
                .iter()
                .any(|d| d == county)
                .then(|| code.to_owned())
        })
        .collect())
}

/// One surge: declare, demand in every township of the region, plan, approve.
/// Returns the plan's and the approval's whole-request times.
async fn surge(
    client: &reqwest::Client,
    base: &str,
    region: &str,
) -> Result<Vec<Duration>, String> {
    let townships = townships_of(region)?;
    let incident = uuid::Uuid::new_v4().to_string();
    let districts: Vec<String> = {
        let mut d: Vec<String> = townships.iter().map(|t| t[..6].to_owned()).collect();
        d.dedup();
        d
    };
    let post = |path: String, body: serde_json::Value| {
        let request = client.post(format!("{base}{path}")).json(&body);
        async move {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let timing = response
                .headers()
                .get("server-timing")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Err(format!(
                    "{path}: {status} {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            Ok::<_, String>((body, timing))
        }
    };
    post(
        "/api/v1/incidents".into(),
        serde_json::json!({"incident_id": incident, "kind": "infectious_disease", "level": "II",
            "title": "区域呼吸道传染病疫情（负载测试）", "affected_areas": districts}),
    )
    .await?;
    let demand = Instant::now();
    for township in &townships {
        post(
            format!("/api/v1/incidents/{incident}/record_bed_demand"),
            serde_json::json!({"bed_type": "general_isolation", "township": township, "beds": 20}),
        )
        .await?;
        post(
            format!("/api/v1/incidents/{incident}/record_supply_demand"),
            serde_json::json!({"item": "N95", "area": township, "quantity": 500}),
        )
        .await?;
    }
    post(
        format!("/api/v1/incidents/{incident}/record_team_demand"),
        serde_json::json!({"kind": "medical_rescue", "teams": 10}),
    )
    .await?;
    println!(
        "{} townships in {} districts; demand recorded in {:.1} s",
        townships.len(),
        districts.len(),
        demand.elapsed().as_secs_f64()
    );
    let head = head(client, base).await?;
    let started = Instant::now();
    let (proposed, timing) = post(
        format!("/api/v1/plans?min_position={head}"),
        serde_json::json!({"incident": incident}),
    )
    .await?;
    let planned = started.elapsed();
    let answer: serde_json::Value = serde_json::from_slice(&proposed).map_err(|e| e.to_string())?;
    let plan = answer["id"].as_str().unwrap_or_default().to_owned();
    println!(
        "plan: {:.0} ms whole request; server {}; {} assignments, {} shortfalls, {} actions",
        planned.as_secs_f64() * 1e3,
        timing.unwrap_or_default(),
        answer["record"]["plan"]["assignments"]
            .as_array()
            .map_or(0, Vec::len),
        answer["record"]["plan"]["shortfalls"]
            .as_array()
            .map_or(0, Vec::len),
        answer["record"]["actions"].as_array().map_or(0, Vec::len),
    );
    let record = client
        .get(format!("{base}/api/v1/plans/{plan}"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .bytes()
        .await
        .map_err(|e| e.to_string())?;
    let gzipped = client
        .get(format!("{base}/api/v1/plans/{plan}"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .map_err(|e| e.to_string())?
        .bytes()
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "record: {} kB as JSON, {} kB gzipped",
        record.len() / 1024,
        gzipped.len() / 1024
    );
    let started = Instant::now();
    post(
        format!("/api/v1/plans/{plan}/approve"),
        serde_json::json!({"partial": true}),
    )
    .await?;
    let approved = started.elapsed();
    println!("approve: {:.0} ms", approved.as_secs_f64() * 1e3);
    Ok(vec![planned, approved])
}
