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
use ercs_domain::area::DivisionCode;
use ercs_domain::beds::{BedClass, BedType};
use ercs_domain::ids::FacilityId;
use ercs_domain::incident::ResponseLevel;
use ercs_domain::values::Name;
use ercs_projections::OneNetwork;
use ercs_projections::one_network::{
    BedAvailability, BedKey, Commitment, ConvertibleCapacity, ConvertiblePhase, SupplyKey,
    SupplyRollup, TeamCount, TeamKey,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::problem::Problem;
use crate::query::{Params, bad};
use crate::routes::resources::POSITION_HEADER;
use crate::state::{AppState, Net};

pub fn configure(config: &mut web::ServiceConfig, base: &str) {
    config.route(&format!("{base}/network"), web::get().to(network));
}

/// Ten years: far beyond any reporting cycle, far within chrono's range.
const MAX_STALE_MINUTES: u64 = 10 * 366 * 24 * 60;

/// Key fields a rollup row may be grouped by.
const KEYS: [&str; 8] = [
    "tier", "area", "kind", "status", "bed_type", "class", "item", "incident",
];

async fn network(state: Net, request: HttpRequest) -> Result<HttpResponse, Problem> {
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
    let now = state.now();
    let view = state.view(options).await?;
    let stale_after = Duration::minutes(stale_minutes);
    // Owned, for a view of the past is read on the history runtime.
    let shared = state.clone();
    let (body, position) = state
        .read_view(&view, move |view| {
            let rollups = Rollups::of(view, now, stale_after);
            match (&group_by, to_district) {
                // Serialized straight from the rollups: no JSON tree is built.
                (None, false) => serde_json::to_vec(&rollups).map_err(|e| e.to_string()),
                _ => {
                    let mut body = serde_json::to_value(&rollups).map_err(|e| e.to_string())?;
                    for section in GROUPED {
                        if let Some(Value::Array(rows)) = body.get_mut(section) {
                            *rows = regroup(
                                std::mem::take(rows),
                                group_by.as_deref(),
                                to_district,
                                &shared,
                            );
                        }
                    }
                    serde_json::to_vec(&body).map_err(|e| e.to_string())
                }
            }
        })
        .await?;
    // The rollups are plain maps and numbers: serializing them cannot fail.
    let mut body = body.map_err(|error| {
        Problem::of_status(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, error)
    })?;
    // The position goes last, once known: `…}` becomes `…,"position":N}`.
    body.pop();
    body.extend_from_slice(format!(",\"position\":{}}}", position.0).as_bytes());
    Ok(HttpResponse::Ok()
        .insert_header((POSITION_HEADER, position.0.to_string()))
        .content_type("application/json")
        .body(body))
}

/// The sections whose rows `group_by` and `area_level` regroup.
const GROUPED: [&str; 6] = [
    "teams",
    "beds",
    "supplies",
    "convertibles",
    "convertible_beds",
    "commitments",
];

/// The answer, borrowed from the rollups: each row its key fields and counts.
#[derive(Serialize)]
struct Rollups {
    at: chrono::DateTime<Utc>,
    teams: Vec<Row<TeamKey, TeamCount>>,
    beds: Vec<Row<BedKey, BedAvailability>>,
    supplies: Vec<Row<SupplyKey, SupplyRollup>>,
    convertibles: Vec<Phase>,
    convertible_beds: Vec<Row<CapacityAt, ConvertibleCapacity>>,
    commitments: Vec<Commitment>,
    incidents: Vec<Open>,
    stale_reports: Vec<Stale>,
    skipped_events: u64,
}

#[derive(Serialize)]
struct Row<K, V> {
    #[serde(flatten)]
    key: K,
    #[serde(flatten)]
    counts: V,
}

impl<K, V> Row<K, V> {
    fn all(rollup: BTreeMap<K, V>) -> Vec<Self> {
        rollup
            .into_iter()
            .map(|(key, counts)| Row { key, counts })
            .collect()
    }
}

#[derive(Serialize)]
struct Phase {
    area: DivisionCode,
    status: ConvertiblePhase,
    facilities: u32,
}

#[derive(Serialize)]
struct CapacityAt {
    area: DivisionCode,
    bed_type: BedType,
}

#[derive(Serialize)]
struct Open {
    level: ResponseLevel,
    open: u32,
}

#[derive(Serialize)]
struct Stale {
    facility: FacilityId,
    name: Name,
    bed_type: BedType,
    class: BedClass,
    reported_at: chrono::DateTime<Utc>,
    age_minutes: i64,
}

impl Rollups {
    fn of(view: &OneNetwork, now: chrono::DateTime<Utc>, stale_after: Duration) -> Self {
        let stale = view.stale_reports(now, stale_after);
        Self {
            at: now,
            teams: Row::all(view.teams_by_status_and_kind()),
            beds: Row::all(view.beds_by_type_and_class(now)),
            supplies: Row::all(view.supplies_by_item(now)),
            convertibles: view
                .convertibles_by_phase()
                .into_iter()
                .map(|((area, status), facilities)| Phase {
                    area,
                    status,
                    facilities,
                })
                .collect(),
            convertible_beds: view
                .convertible_capacity(now)
                .into_iter()
                .map(|((area, bed_type), counts)| Row {
                    key: CapacityAt { area, bed_type },
                    counts,
                })
                .collect(),
            commitments: view.commitments(),
            incidents: view
                .incidents_by_level()
                .into_iter()
                .map(|(level, open)| Open { level, open })
                .collect(),
            stale_reports: stale
                .into_iter()
                .map(|s| Stale {
                    age_minutes: s.age.num_minutes(),
                    facility: s.facility,
                    name: s.name,
                    bed_type: s.bed_type,
                    class: s.class,
                    reported_at: s.reported_at,
                })
                .collect(),
            skipped_events: view.skipped,
        }
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
