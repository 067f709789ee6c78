//! Dispatcher traffic on the seeded network: bed reports across facilities,
//! stock issues and transfers between depots, team status changes decided on
//! the `ETag` just read (`If-Match`), so writers racing on one team meet 409s;
//! beside them, single-resource reads and a probe of how soon each write can be
//! read back (`min_position`).
//!
//! A 409 is a dispatcher's race, not a failure: counted apart. Any 5xx or
//! broken connection fails the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::stats::{Dice, Latencies};

/// One bed pool as a report names it: `(bed_type, class, total)`.
pub type Pool = (Value, Value, u64);

/// What the writers act on, read from the service before the load starts.
pub struct World {
    /// Each facility's id and its pools.
    pub facilities: Vec<(String, Vec<Pool>)>,
    /// Depots and the items they stock.
    pub depots: Vec<(String, Vec<String>)>,
    pub teams: Vec<String>,
}

impl World {
    pub async fn read(client: &reqwest::Client, base: &str) -> Result<Self, String> {
        let facilities = list(client, base, "facilities")
            .await?
            .iter()
            .filter_map(|f| {
                let pools: Vec<_> = f["state"]["pools"]
                    .as_array()?
                    .iter()
                    .filter_map(|pair| {
                        let (key, pool) = (&pair[0], &pair[1]);
                        let total = pool["counts"]["total"].as_u64()?;
                        Some((key["bed_type"].clone(), key["class"].clone(), total))
                    })
                    .collect();
                (!pools.is_empty())
                    .then(|| (f["id"].as_str().unwrap_or_default().to_owned(), pools))
            })
            .collect();
        let depots = list(client, base, "depots")
            .await?
            .iter()
            .filter_map(|d| {
                let items: Vec<String> = d["state"]["stock"].as_object()?.keys().cloned().collect();
                (!items.is_empty())
                    .then(|| (d["id"].as_str().unwrap_or_default().to_owned(), items))
            })
            .collect();
        let teams = list(client, base, "teams")
            .await?
            .iter()
            .filter(|t| t["status"] == "standby" || t["status"] == "unavailable")
            .filter_map(|t| t["id"].as_str().map(str::to_owned))
            .collect();
        let world = Self {
            facilities,
            depots,
            teams,
        };
        if world.facilities.is_empty() || world.depots.len() < 2 || world.teams.is_empty() {
            return Err("the service holds no seeded network (run `ercs seed` first)".into());
        }
        Ok(world)
    }
}

async fn list(client: &reqwest::Client, base: &str, kind: &str) -> Result<Vec<Value>, String> {
    let page = crate::stats::get_json(client, &format!("{base}/api/v1/{kind}?limit=1000")).await?;
    Ok(page["items"].as_array().cloned().unwrap_or_default())
}

/// Counts of what the service answered.
#[derive(Default)]
pub struct Outcomes {
    pub conflicts: AtomicU64,
    /// 4xx other than 409: a rule the load broke (stock ran out, a pool too small).
    pub refused: AtomicU64,
    /// 5xx or no answer at all: these fail the run.
    pub failed: AtomicU64,
}

impl Outcomes {
    /// Files the answer; gives the log position a successful write reached.
    fn file(&self, answer: Result<reqwest::Response, reqwest::Error>) -> Option<reqwest::Response> {
        match answer {
            Ok(r) if r.status().is_success() => Some(r),
            Ok(r) if r.status() == StatusCode::CONFLICT => {
                self.conflicts.fetch_add(1, Ordering::Relaxed);
                None
            }
            Ok(r) if r.status().is_client_error() => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                None
            }
            failed => {
                // The first few are named, to find them in the server's log.
                if self.failed.fetch_add(1, Ordering::Relaxed) < 10 {
                    match failed {
                        Ok(r) => {
                            let id = r.headers().get("x-request-id").cloned();
                            eprintln!("failed: {} {} (request id {id:?})", r.status(), r.url());
                        }
                        Err(error) => eprintln!("failed: {error}"),
                    }
                }
                None
            }
        }
    }

    pub fn report(&self) -> Value {
        json!({
            "conflicts_409": self.conflicts.load(Ordering::Relaxed),
            "refused_4xx": self.refused.load(Ordering::Relaxed),
            "failed_5xx_or_io": self.failed.load(Ordering::Relaxed),
        })
    }
}

/// The latest write acknowledged: its position and when the answer came.
#[derive(Default)]
pub struct LastWrite(std::sync::Mutex<Option<(u64, Instant)>>);

impl LastWrite {
    fn set(&self, position: u64, at: Instant) {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|(p, _)| p < position) {
            *last = Some((position, at));
        }
    }

    fn get(&self) -> Option<(u64, Instant)> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Everything the writers share.
pub struct Writers {
    pub client: reqwest::Client,
    pub base: String,
    pub world: World,
    pub outcomes: Outcomes,
    pub writes: Latencies,
    pub last: LastWrite,
    /// Told of each acknowledged write's position (the feed scenario listens).
    pub acked: Option<tokio::sync::mpsc::UnboundedSender<(u64, Instant)>>,
}

impl Writers {
    /// One dispatcher's next action, by weight: 70 % bed reports, 15 % team
    /// status changes, 10 % stock issues, 5 % transfers.
    pub async fn act(&self, dice: &mut Dice) {
        match dice.below(100) {
            0..70 => self.report_beds(dice).await,
            70..85 => self.change_team_status(dice).await,
            85..95 => self.issue_stock(dice).await,
            _ => self.transfer_stock(dice).await,
        }
    }

    async fn report_beds(&self, dice: &mut Dice) {
        let (facility, pools) = &self.world.facilities[dice.below(self.world.facilities.len())];
        let (bed_type, class, total) = &pools[dice.below(pools.len())];
        let occupied = dice.below(*total as usize / 2 + 1);
        let body = json!({"bed_type": bed_type, "class": class, "lead_time_minutes": 0,
            "counts": {"total": total, "staffed": total, "occupied": occupied}});
        self.post(
            &format!("/api/v1/facilities/{facility}/report"),
            &body,
            None,
        )
        .await;
    }

    /// Reads the team, then changes its status on the revision it read: two
    /// dispatchers on one team race, and the later gets 409.
    async fn change_team_status(&self, dice: &mut Dice) {
        // A small set of teams, so that races happen as they do in a command centre.
        let team = &self.world.teams[dice.below(self.world.teams.len().min(16))];
        let url = format!("{}/api/v1/teams/{team}", self.base);
        let Some(read) = self.outcomes.file(self.client.get(url).send().await) else {
            return;
        };
        let etag = read
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let Ok(state) = read.json::<Value>().await else {
            self.outcomes.failed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let (action, body) = if state["status"] == "unavailable" {
            ("mark_available", json!({}))
        } else {
            (
                "mark_unavailable",
                json!({"reason": "车辆检修（负载测试）"}),
            )
        };
        self.post(&format!("/api/v1/teams/{team}/{action}"), &body, etag)
            .await;
    }

    async fn issue_stock(&self, dice: &mut Dice) {
        let (depot, items) = &self.world.depots[dice.below(self.world.depots.len())];
        let item = &items[dice.below(items.len())];
        let body = json!({"item": item, "quantity": 1, "reason": "发往发热门诊（负载测试）"});
        self.post(&format!("/api/v1/depots/{depot}/issue"), &body, None)
            .await;
    }

    /// Dispatches one unit to another depot, which signs for it.
    async fn transfer_stock(&self, dice: &mut Dice) {
        let depots = &self.world.depots;
        let (from, items) = &depots[dice.below(depots.len())];
        let to = &depots[dice.below(depots.len())].0;
        if from == to {
            return;
        }
        let transfer = uuid::Uuid::new_v4();
        let item = &items[dice.below(items.len())];
        let dispatch = json!({"transfer": transfer, "to": to, "item": item, "quantity": 1,
            "reason": "库间调剂（负载测试）",
            "expected_arrival": chrono::Utc::now() + chrono::Duration::hours(2)});
        if self
            .post(
                &format!("/api/v1/depots/{from}/dispatch_transfer"),
                &dispatch,
                None,
            )
            .await
        {
            let sign =
                json!({"transfer": transfer, "from": from, "received_by": "库管员（负载测试）"});
            self.post(&format!("/api/v1/depots/{to}/sign_transfer"), &sign, None)
                .await;
        }
    }

    /// Posts one command; true when it was accepted.
    async fn post(&self, path: &str, body: &Value, if_match: Option<String>) -> bool {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(etag) = if_match {
            request = request.header("If-Match", etag);
        }
        let started = Instant::now();
        let Some(answer) = self.outcomes.file(request.send().await) else {
            return false;
        };
        let acked = Instant::now();
        self.writes.record(acked - started);
        let position = answer
            .headers()
            .get("ercs-position")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        let _ = answer.bytes().await;
        if let Some(position) = position {
            self.last.set(position, acked);
            if let Some(acked_to) = &self.acked {
                let _ = acked_to.send((position, acked));
            }
        }
        true
    }
}

/// `writers` dispatchers acting until `deadline` or `budget` writes in all, at
/// most `rate` writes a second between them (0: as fast as they can).
pub async fn run_writers(
    shared: Arc<Writers>,
    writers: usize,
    rate: u64,
    budget: u64,
    deadline: Instant,
) {
    let issued = Arc::new(AtomicU64::new(0));
    let tasks = (0..writers).map(|n| {
        let (shared, issued) = (Arc::clone(&shared), Arc::clone(&issued));
        tokio::spawn(async move {
            let mut dice = Dice::new(n as u64 + 1);
            let mut pace = pace(n, writers, rate);
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < budget {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                shared.act(&mut dice).await;
            }
        })
    });
    futures::future::join_all(tasks).await;
}

/// Client `n` of `tasks`' share of `rate` requests a second between them
/// (`None` for as fast as it goes); a tick missed is skipped, not made up.
/// The clients' ticks are staggered over the period, so that together they
/// send one request every `1 / rate` seconds: started in step, 8 writers at
/// 50 a second wrote in bursts of 8 every 160 ms, and each burst's last
/// write waited for the seven before it (and a feed's fan-out of each).
fn pace(n: usize, tasks: usize, rate: u64) -> Option<tokio::time::Interval> {
    (rate > 0).then(|| {
        let every = Duration::from_secs_f64(tasks as f64 / rate as f64);
        let offset = every.mul_f64(n as f64 / tasks as f64);
        let mut pace = tokio::time::interval_at(tokio::time::Instant::now() + offset, every);
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        pace
    })
}

/// `readers` clients reading single resources (facilities and teams) until
/// `deadline` or `budget` reads in all, at most `rate` a second between them
/// (0: as fast as they can).
pub async fn run_readers(
    shared: Arc<Writers>,
    readers: usize,
    rate: u64,
    budget: u64,
    deadline: Instant,
) -> Latencies {
    let reads = Arc::new(Latencies::default());
    let issued = Arc::new(AtomicU64::new(0));
    let tasks = (0..readers).map(|n| {
        let (shared, reads, issued) =
            (Arc::clone(&shared), Arc::clone(&reads), Arc::clone(&issued));
        tokio::spawn(async move {
            let mut dice = Dice::new(1_000 + n as u64);
            let mut pace = pace(n, readers, rate);
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < budget {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                let world = &shared.world;
                let path = if dice.below(4) == 0 {
                    format!("teams/{}", world.teams[dice.below(world.teams.len())])
                } else {
                    format!(
                        "facilities/{}",
                        world.facilities[dice.below(world.facilities.len())].0
                    )
                };
                let started = Instant::now();
                let answer = shared
                    .client
                    .get(format!("{}/api/v1/{path}", shared.base))
                    .send()
                    .await;
                if let Some(answer) = shared.outcomes.file(answer)
                    && answer.bytes().await.is_ok()
                {
                    reads.record(started.elapsed());
                }
            }
        })
    });
    futures::future::join_all(tasks).await;
    Arc::into_inner(reads).unwrap_or_default()
}

/// Every 20 ms, how long after the latest write was acknowledged it could be
/// read back (a read with `min_position` waits for the view): the view's lag as
/// a dispatcher meets it.
pub async fn probe_lag(shared: Arc<Writers>, deadline: Instant) -> Latencies {
    let lags = Latencies::default();
    let facility = shared.world.facilities[0].0.clone();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut probed = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        let Some((position, acked)) = shared.last.get().filter(|(p, _)| *p > probed) else {
            continue;
        };
        probed = position;
        let url = format!(
            "{}/api/v1/facilities/{facility}?min_position={position}",
            shared.base
        );
        match shared.client.get(url).send().await {
            Ok(r) if r.status().is_success() => lags.record(acked.elapsed()),
            _ => {
                shared.outcomes.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    lags
}
