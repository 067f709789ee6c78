//! `/metrics`: what the service counts, in the Prometheus text exposition
//! format (version 0.0.4).
//!
//! A small registry of its own rather than a metrics crate: a handful of
//! counters and histograms, each family a map from its label values to its
//! numbers behind one lock, written out as text when scraped. Label values are
//! bounded by construction: a request is labelled by the route *pattern* it
//! matched (`/api/v1/teams/{id}`), never its raw path, and a path that matches
//! no route is `unmatched`; methods outside the HTTP standard's are `other`.
//!
//! What the registry cannot count as it happens (the view's lag, the feed's
//! subscribers) is read when scraped, in `ercs_server::routes::health`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Seconds: from a fast read (1 ms) to a slow plan (60 s).
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Events in one append.
const EVENTS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];

/// Everything the service counts as it happens.
pub struct Metrics {
    /// Labels: route, method, status.
    pub requests: Histograms,
    /// Labels: outcome (`appended`, `replayed`, `conflict`, `failed`).
    pub append_seconds: Histograms,
    /// Labels: outcome, as above.
    pub append_events: Histograms,
    /// Labels: outcome (`planned`, `refused`).
    pub plan_solve_seconds: Histograms,
    /// Who this replica is: `instance` and `store` (`sqlite`, `postgres`).
    pub instance: String,
    pub store: &'static str,
}

impl Metrics {
    pub fn new(instance: String, store: &'static str) -> Self {
        Self {
            requests: Histograms::new(
                "ercs_http_request_duration_seconds",
                "HTTP requests by route pattern, method and status: time to the response's head",
                &["route", "method", "status"],
                SECONDS,
            ),
            append_seconds: Histograms::new(
                "ercs_eventlog_append_duration_seconds",
                "Appends to the event log (one stream each), by outcome",
                &["outcome"],
                SECONDS,
            ),
            append_events: Histograms::new(
                "ercs_eventlog_append_batch_events",
                "Events in one append to the event log, by outcome",
                &["outcome"],
                EVENTS,
            ),
            plan_solve_seconds: Histograms::new(
                "ercs_plan_solve_duration_seconds",
                "Surge plans solved by the routing core (min-cost flow), by outcome",
                &["outcome"],
                SECONDS,
            ),
            instance,
            store,
        }
    }

    /// The whole registry as text, then `extra` (what is read when scraped).
    pub fn render(&self, extra: &[Gauge]) -> String {
        let mut out = String::new();
        Gauge {
            name: "ercs_replica_info",
            help: "This replica: its instance id, store kind and version (always 1)",
            labels: vec![
                ("instance", self.instance.clone()),
                ("store", self.store.to_owned()),
                ("version", env!("CARGO_PKG_VERSION").to_owned()),
            ],
            value: 1.0,
        }
        .write(&mut out);
        for family in [
            &self.requests,
            &self.append_seconds,
            &self.append_events,
            &self.plan_solve_seconds,
        ] {
            family.write(&mut out);
        }
        for gauge in extra {
            gauge.write(&mut out);
        }
        out
    }
}

/// A value read at scrape time.
pub struct Gauge {
    pub name: &'static str,
    pub help: &'static str,
    pub labels: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Gauge {
    pub fn new(name: &'static str, help: &'static str, value: f64) -> Self {
        Self {
            name,
            help,
            labels: Vec::new(),
            value,
        }
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let kind = if self.name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        let _ = writeln!(out, "# TYPE {} {kind}", self.name);
        let labels: Vec<(&str, &str)> = self.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let _ = writeln!(
            out,
            "{}{} {}",
            self.name,
            label_set(&labels),
            number(self.value)
        );
    }
}

/// A histogram family: one histogram per combination of label values.
pub struct Histograms {
    name: &'static str,
    help: &'static str,
    labels: &'static [&'static str],
    bounds: &'static [f64],
    series: Mutex<BTreeMap<Vec<String>, Series>>,
}

struct Series {
    /// Per bucket, not cumulative; the last is +Inf.
    counts: Vec<u64>,
    sum: f64,
}

impl Histograms {
    fn new(
        name: &'static str,
        help: &'static str,
        labels: &'static [&'static str],
        bounds: &'static [f64],
    ) -> Self {
        Self {
            name,
            help,
            labels,
            bounds,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    /// Counts one observation of `value` under `labels` (in the family's order).
    pub fn observe(&self, labels: &[&str], value: f64) {
        debug_assert_eq!(labels.len(), self.labels.len(), "{}", self.name);
        let bucket = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        let key = labels.iter().map(|l| (*l).to_owned()).collect();
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let series = series.entry(key).or_insert_with(|| Series {
            counts: vec![0; self.bounds.len() + 1],
            sum: 0.0,
        });
        series.counts[bucket] += 1;
        series.sum += value;
    }

    pub fn observe_duration(&self, labels: &[&str], elapsed: Duration) {
        self.observe(labels, elapsed.as_secs_f64());
    }

    fn write(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} histogram", self.name);
        let series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        for (values, series) in series.iter() {
            let labels: Vec<(&str, &str)> = self
                .labels
                .iter()
                .zip(values)
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            let mut cumulative = 0;
            for (index, count) in series.counts.iter().enumerate() {
                cumulative += count;
                let bound = self
                    .bounds
                    .get(index)
                    .map_or("+Inf".to_owned(), |b| number(*b));
                let mut with_bound = labels.clone();
                with_bound.push(("le", &bound));
                let _ = writeln!(
                    out,
                    "{}_bucket{} {cumulative}",
                    self.name,
                    label_set(&with_bound)
                );
            }
            let _ = writeln!(
                out,
                "{}_sum{} {}",
                self.name,
                label_set(&labels),
                number(series.sum)
            );
            let _ = writeln!(
                out,
                "{}_count{} {cumulative}",
                self.name,
                label_set(&labels)
            );
        }
    }
}

fn label_set(labels: &[(&str, &str)]) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", escape(value)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// The text format's escapes for a label value.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_finite() {
        format!("{value}")
    } else if value.is_nan() {
        "NaN".into()
    } else if value > 0.0 {
        "+Inf".into()
    } else {
        "-Inf".into()
    }
}

/// A method's label: the standard ones by name, anything else `other`, so a
/// client cannot mint label values.
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_is_written_with_cumulative_buckets_a_sum_and_a_count() {
        let metrics = Metrics::new("a\"b".into(), "sqlite");
        metrics.requests.observe(&["/healthz", "GET", "200"], 0.002);
        metrics.requests.observe(&["/healthz", "GET", "200"], 100.0);
        let text = metrics.render(&[]);
        assert!(
            text.contains("ercs_replica_info{instance=\"a\\\"b\",store=\"sqlite\""),
            "{text}"
        );
        let bucket = |le: &str| {
            format!(
                "ercs_http_request_duration_seconds_bucket{{route=\"/healthz\",method=\"GET\",status=\"200\",le=\"{le}\"}}"
            )
        };
        assert!(text.contains(&format!("{} 0\n", bucket("0.001"))), "{text}");
        assert!(
            text.contains(&format!("{} 1\n", bucket("0.0025"))),
            "{text}"
        );
        assert!(text.contains(&format!("{} 1\n", bucket("60"))), "{text}");
        assert!(text.contains(&format!("{} 2\n", bucket("+Inf"))), "{text}");
        assert!(text.contains(
            "ercs_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\",status=\"200\"} 2\n"
        ));
    }
}
