//! Two runs of one script side by side: the same expectations, the same
//! scripted demands, answered by different trainees (or the same ones again).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{AfterAction, Kind};
use crate::evaluate::Status;

/// Run `a` against run `b`, figure by figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub a: String,
    pub b: String,
    pub expectations: Vec<ExpectationPair>,
    pub demands: Vec<DemandPair>,
    /// Unmet demand at the end of each run, by kind.
    pub unmet_at_end: Vec<KindPair<u64>>,
    /// Share within the service standard, by kind.
    pub within_standard: Vec<KindPair<Option<f64>>>,
}

/// One expectation's status in each run (`None`: the run does not have it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationPair {
    pub name: String,
    pub label: String,
    pub a: Option<Status>,
    pub b: Option<Status>,
}

/// One demand (its commodity and place, and which time it was recorded in
/// the run: the script records some more than once) in each run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandPair {
    pub demand: String,
    pub occurrence: usize,
    pub a: Option<f64>,
    pub b: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindPair<T> {
    pub kind: Kind,
    pub a: T,
    pub b: T,
}

/// Two runs of the same script side by side.
pub fn compare(a: &AfterAction, b: &AfterAction) -> Comparison {
    let mut expectations: Vec<ExpectationPair> = (a.expectations.iter())
        .map(|o| ExpectationPair {
            name: o.name.clone(),
            label: o.label.clone(),
            a: Some(o.status),
            b: b.expectations
                .iter()
                .find(|p| p.name == o.name)
                .map(|p| p.status),
        })
        .collect();
    expectations.extend(
        (b.expectations.iter())
            .filter(|o| !a.expectations.iter().any(|p| p.name == o.name))
            .map(|o| ExpectationPair {
                name: o.name.clone(),
                label: o.label.clone(),
                a: None,
                b: Some(o.status),
            }),
    );
    let (in_a, in_b) = (approvals(a), approvals(b));
    let mut keys: Vec<&(String, usize)> = in_a.keys().collect();
    keys.extend(in_b.keys().filter(|k| !in_a.contains_key(*k)));
    let demands = keys
        .into_iter()
        .map(|key| DemandPair {
            demand: key.0.clone(),
            occurrence: key.1,
            a: in_a.get(key).copied().flatten(),
            b: in_b.get(key).copied().flatten(),
        })
        .collect();
    let end = |r: &AfterAction, kind| r.unmet.last().map_or(0, |p| p.of(kind).unmet);
    let share = |r: &AfterAction, kind| {
        (r.within_standard.iter())
            .find(|w| w.kind == kind)
            .and_then(|w| w.share)
    };
    Comparison {
        a: a.drill.clone(),
        b: b.drill.clone(),
        expectations,
        demands,
        unmet_at_end: (Kind::ALL.iter())
            .map(|&kind| KindPair {
                kind,
                a: end(a, kind),
                b: end(b, kind),
            })
            .collect(),
        within_standard: (Kind::ALL.iter())
            .map(|&kind| KindPair {
                kind,
                a: share(a, kind),
                b: share(b, kind),
            })
            .collect(),
    }
}

/// Minutes to approval by demand and which time it was recorded.
fn approvals(report: &AfterAction) -> BTreeMap<(String, usize), Option<f64>> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    report
        .demands
        .iter()
        .map(|d| {
            let key = d.key();
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            ((key, *n), d.minutes_to_approval)
        })
        .collect()
}
