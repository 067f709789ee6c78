//! What every scenario reports: latency quantiles, throughput and outcome
//! counts, printed and written as one JSON summary.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

/// Latencies of one kind of request, in milliseconds.
#[derive(Default)]
pub struct Latencies(Mutex<Vec<f64>>);

impl Latencies {
    pub fn record(&self, took: Duration) {
        self.lock().push(took.as_secs_f64() * 1e3);
    }

    pub fn extend(&self, took: impl IntoIterator<Item = Duration>) {
        self.lock()
            .extend(took.into_iter().map(|d| d.as_secs_f64() * 1e3));
    }

    /// Count, rate over `over`, p50/p95/p99/max.
    pub fn summary(&self, over: Duration) -> Value {
        let mut ms = self.lock().clone();
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| {
            ms.get(((ms.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .map(|v| (v * 100.0).round() / 100.0)
        };
        json!({
            "count": ms.len(),
            "per_second": (ms.len() as f64 / over.as_secs_f64().max(1e-9)).round(),
            "p50_ms": at(0.5),
            "p95_ms": at(0.95),
            "p99_ms": at(0.99),
            "max_ms": ms.last(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<f64>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One line for a summary: `count, per_second/s, p50 … max`.
pub fn line(summary: &Value) -> String {
    let ms = |key: &str| {
        summary[key]
            .as_f64()
            .map_or("-".into(), |v| format!("{v:.1}"))
    };
    format!(
        "{} samples ({}/s), p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        summary["count"],
        summary["per_second"],
        ms("p50_ms"),
        ms("p95_ms"),
        ms("p99_ms"),
        ms("max_ms"),
    )
}

/// Prints every latency summary in `report` and writes it whole to `out`.
pub fn finish(report: &Value, out: Option<&std::path::Path>) -> Result<(), String> {
    if let Value::Object(fields) = report {
        for (name, value) in fields {
            if value.get("p50_ms").is_some() {
                println!("{name}: {}", line(value));
            } else {
                println!("{name}: {value}");
            }
        }
    }
    if let Some(out) = out {
        let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        std::fs::write(out, text).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("summary written to {}", out.display());
    }
    Ok(())
}

/// A small, seedable generator: the scenarios need spread, not cryptography.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n.max(1) as u64) as usize
    }
}

/// GETs `url` and reads its body as JSON.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Result<Value, String> {
    client
        .get(url)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())
}
