//! `GET /api/v1/network`: the one-network view (卫生应急资源“一张网”) rolled up —
//! teams by status and kind, beds by type and ladder class, supplies by item with
//! expiry buckets and shortfall against norms, 平急两用 venues by phase and their
//! beds, open incidents by level, and stale bed reports.
//!
//! `group_by` keeps only the named key fields (`tier`, `area`, `kind`, ...) and
//! sums the rest, so `group_by=tier` answers "what does each tier have";
//! `area_level=district` counts townships and institutions in their district.
//! `commitments` are what each tier and area hold for each incident (`held`),
//! have on the way for it (`in_transit`) or have in use (`in_use`), in teams,
//! beds and units: `group_by=tier,status` answers "what is each tier committing".

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, Utc};
use ercs_domain::area::AreaCode;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::problem::Problem;
use crate::query::{Params, bad};
use crate::routes::resources::POSITION_HEADER;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config.route("/api/v1/network", web::get().to(network));
}

/// Ten years: far beyond any reporting cycle, far within chrono's range.
const MAX_STALE_MINUTES: u64 = 10 * 366 * 24 * 60;

/// Key fields a rollup row may be grouped by.
const KEYS: [&str; 8] = [
    "tier", "area", "kind", "status", "bed_type", "class", "item", "incident",
];

async fn network(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, Problem> {
    let mut params = Params::of(&request)?;
    let options = params.read_options()?;
    let group_by: Option<Vec<String>> = match params.take_raw("group_by") {
        None => None,
        Some(raw) => Some(
            raw.split(',')
                .map(|k| k.trim().to_owned())
                .map(|k| {
                    if KEYS.contains(&k.as_str()) {
                        Ok(k)
                    } else {
                        Err(bad(
                            "group_by",
                            &format!("must list fields among {}", KEYS.join(", ")),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    let to_district = match params.take_raw("area_level").as_deref() {
        None | Some("own") => false,
        Some("district") => true,
        Some(_) => return Err(bad("area_level", "must be `own` or `district`")),
    };
    let stale_minutes = params
        .take_within("stale_after_minutes", 1..=MAX_STALE_MINUTES, "minutes")?
        .map_or(state.stale_after.num_minutes(), |minutes| minutes as i64);
    params.finish()?;
    let now = Utc::now();
    let view = state.view(options).await?;
    // Owned, for a view of the past is read on the history runtime.
    let shared = state.clone();
    let (body, position) = state.read_view(&view, move |view| {
        let rows = |rollup: Vec<Value>| regroup(rollup, group_by.as_deref(), to_district, &shared);
        json!({
            "at": now,
            "teams": rows(view.teams_by_status_and_kind().iter().map(|(k, v)| row(k, v)).collect()),
            "beds": rows(view.beds_by_type_and_class(now).iter().map(|(k, v)| row(k, v)).collect()),
            "supplies": rows(view.supplies_by_item(now).iter().map(|(k, v)| row(k, v)).collect()),
            "convertibles": rows(view.convertibles_by_phase().iter().map(|((area, phase), n)| {
                json!({"area": area, "status": phase, "facilities": n})
            }).collect()),
            "convertible_beds": rows(view.convertible_capacity(now).iter().map(|((area, bed_type), c)| {
                let mut row = json!({"area": area, "bed_type": bed_type});
                merge(&mut row, c);
                row
            }).collect()),
            "commitments": rows(view.commitments().iter().map(|c| json!(c)).collect()),
            "incidents": view.incidents_by_level().iter().map(|(level, n)| {
                json!({"level": level, "open": n})
            }).collect::<Vec<_>>(),
            "stale_reports": view.stale_reports(now, Duration::minutes(stale_minutes)).iter().map(|s| json!({
                "facility": s.facility, "name": s.name, "bed_type": s.bed_type, "class": s.class,
                "reported_at": s.reported_at, "age_minutes": s.age.num_minutes(),
            })).collect::<Vec<_>>(),
            "skipped_events": view.skipped,
        })
    })
    .await?;
    let mut body = body;
    body["position"] = json!(position.0);
    Ok(HttpResponse::Ok()
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .json(body))
}

/// A rollup entry as one flat JSON object: its key fields and its counts.
fn row<K: Serialize, V: Serialize>(key: &K, value: &V) -> Value {
    let mut row = serde_json::to_value(key).unwrap_or(Value::Null);
    merge(&mut row, value);
    row
}

fn merge<V: Serialize>(row: &mut Value, value: &V) {
    if let (Value::Object(row), Ok(Value::Object(counts))) = (row, serde_json::to_value(value)) {
        row.extend(counts);
    }
}

/// Keeps the `group_by` key fields and sums the counts of rows that then share a
/// key. Lead times roll up as the longest.
fn regroup(
    rows: Vec<Value>,
    group_by: Option<&[String]>,
    to_district: bool,
    state: &AppState,
) -> Vec<Value> {
    let district = |area: &Value| -> Value {
        let Some(code) = area.as_str().and_then(|a| AreaCode::parse(a).ok()) else {
            return area.clone();
        };
        match state.areas.district_of(&code) {
            Some(record) => json!(record.code),
            None => area.clone(),
        }
    };
    if group_by.is_none() && !to_district {
        return rows;
    }
    let mut groups: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for row in rows {
        let Value::Object(row) = row else { continue };
        let mut key = Map::new();
        let mut counts = Map::new();
        for (name, value) in row {
            if KEYS.contains(&name.as_str()) {
                let keep = group_by.is_none_or(|g| g.contains(&name));
                if keep {
                    let value = if name == "area" && to_district {
                        district(&value)
                    } else {
                        value
                    };
                    key.insert(name, value);
                }
            } else {
                counts.insert(name, value);
            }
        }
        let id = Value::Object(key.clone()).to_string();
        let group = groups.entry(id).or_insert(key);
        for (name, value) in counts {
            let add = value.as_u64().unwrap_or(0);
            let entry = group.entry(name.clone()).or_insert(json!(0));
            let current = entry.as_u64().unwrap_or(0);
            *entry = json!(if name.ends_with("lead_time_minutes") {
                current.max(add)
            } else {
                current.saturating_add(add)
            });
        }
    }
    groups.into_values().map(Value::Object).collect()
}
