//! The commands the API takes, one realistic example body each.
//!
//! This table is the API's list of actions (an unknown action is a 404 naming
//! these) and the source of the OpenAPI examples. A test sends every example
//! through the domain's own deserializer, so the documentation cannot show a body
//! the service would refuse.

use ercs_projections::one_network::ResourceKind;
use serde_json::{Value, json};

/// One command of a collection.
#[derive(Debug, Clone)]
pub struct Action {
    /// The command's name: the last path segment (`mobilise`), or the create.
    pub name: &'static str,
    /// A bed command, inside the collection's nested enum (`beds`).
    pub nested: bool,
    pub summary: &'static str,
    /// A valid body; `None` for commands without fields.
    pub example: Option<Value>,
}

const TEAM: &str = "5d2c9a0e-3f43-4c35-9a0b-7c1e2f9d4a11";
const INCIDENT: &str = "0f6b7a55-2d1c-4e8a-b3f5-6a9e1d2c3b44";
const DEPOT: &str = "8b1e4c2d-6a5f-4e3b-9c7d-1f2a3b4c5d66";
const FACILITY: &str = "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e77";
const PLAN: &str = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c88";
const TRANSFER: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c99";
const SHIPMENT: &str = "6e7f8091-2b3c-4d4e-9f50-6b7c8d9e0f1a";

fn action(name: &'static str, summary: &'static str, example: Option<Value>) -> Action {
    Action {
        name,
        nested: false,
        summary,
        example,
    }
}

/// Every command of `kind`, the creating one first.
pub fn actions(kind: ResourceKind) -> Vec<Action> {
    match kind {
        ResourceKind::Teams => team_actions(),
        ResourceKind::Facilities => {
            let mut all = vec![action(
                "register",
                "Register a facility (医院, 卫生院, 方舱, 隔离点) in the one network",
                Some(json!({
                    "facility_id": FACILITY, "name": "万州区人民医院", "kind": "hospital",
                    "tier": "district", "area": "500101",
                    "location": {"lon": 108.408, "lat": 30.807}
                })),
            )];
            all.extend(bed_actions());
            all
        }
        ResourceKind::Depots => depot_actions(),
        ResourceKind::Convertibles => {
            let mut all = convertible_actions();
            all.extend(bed_actions());
            all
        }
        ResourceKind::Incidents => incident_actions(),
        ResourceKind::Items => item_actions(),
    }
}

fn team_actions() -> Vec<Action> {
    vec![
        action(
            "register",
            "Register a response team (卫生应急队伍)",
            Some(json!({
                "team_id": TEAM, "name": "万州区紧急医学救援队", "kind": "medical_rescue",
                "tier": "district", "home_area": "500101",
                "base": {"lon": 108.408, "lat": 30.807}, "headcount": 24,
                "capabilities": ["triage", "field_surgery", "patient_transport"]
            })),
        ),
        action(
            "mobilise",
            "调派: commit a standby team to an incident",
            Some(json!({"incident": INCIDENT})),
        ),
        action(
            "deploy",
            "The team has arrived where it was sent",
            Some(json!({"area": "500101", "location": {"lon": 108.38, "lat": 30.81}})),
        ),
        action("demobilise", "Release the team from its incident", None),
        action("arrive_at_base", "The team is back at base", None),
        action(
            "resume_standby",
            "The team is ready for the next call",
            None,
        ),
        action(
            "mark_unavailable",
            "Take the team out of service",
            Some(json!({"reason": "vehicle under repair"})),
        ),
        action("mark_available", "Return the team to service", None),
        action(
            "update_roster",
            "Change the team's headcount and capabilities",
            Some(json!({"headcount": 30, "capabilities": ["triage", "decontamination"]})),
        ),
    ]
}

fn bed_actions() -> Vec<Action> {
    let bed = |name, summary, example| Action {
        nested: true,
        ..action(name, summary, example)
    };
    vec![
        bed(
            "report",
            "Report a bed pool's counts (a fact from the field; never refused)",
            Some(json!({
                "bed_type": "negative_flow_isolation", "class": "designated",
                "counts": {"total": 40, "staffed": 36, "occupied": 21},
                "lead_time_minutes": 0
            })),
        ),
        bed(
            "activate_expansion",
            "Open the rapid-expansion beds of a type (快速扩展)",
            Some(json!({"bed_type": "general_isolation"})),
        ),
        bed(
            "stand_down_expansion",
            "Close the rapid-expansion beds of a type again",
            Some(json!({"bed_type": "general_isolation"})),
        ),
        bed(
            "vacate",
            "Free rapid-vacate beds by discharging or moving routine patients (快速腾空)",
            Some(json!({"bed_type": "medical_surgical", "beds": 20})),
        ),
        bed(
            "admit",
            "Admit patients, under a plan's reservation when `plan` is given",
            Some(json!({
                "bed_type": "negative_flow_isolation", "class": "designated",
                "patients": 2, "plan": null
            })),
        ),
        bed(
            "discharge",
            "Discharge patients; under the plan they were admitted with, for an incident's patients",
            Some(json!({
                "bed_type": "negative_flow_isolation", "class": "designated", "patients": 1,
                "plan": PLAN
            })),
        ),
        bed(
            "reserve",
            "Hold available beds for an approved plan",
            Some(json!({
                "plan": PLAN, "bed_type": "negative_flow_isolation",
                "class": "designated", "beds": 5, "incident": INCIDENT
            })),
        ),
        bed(
            "release",
            "Give back everything a plan holds in a pool",
            Some(
                json!({"plan": PLAN, "bed_type": "negative_flow_isolation", "class": "designated"}),
            ),
        ),
    ]
}

fn depot_actions() -> Vec<Action> {
    vec![
        action(
            "register",
            "Register a depot (物资储备库) at a reserve tier",
            Some(json!({
                "depot_id": DEPOT, "name": "万州区卫生应急物资储备库", "tier": "district",
                "area": "500101", "location": {"lon": 108.39, "lat": 30.79}
            })),
        ),
        action(
            "receive_lot",
            "Stock arrives from a supplier or donor",
            Some(json!({
                "item": "N95", "lot_number": "N95-2026-118", "quantity": 5000,
                "expiry": "2029-06-30T00:00:00Z", "reason": "annual procurement"
            })),
        ),
        action(
            "issue",
            "Stock leaves for use (first expiry, first out); with `delivery`, a consignment \
             in transit to a township, facility or incident site until signed for",
            Some(json!({
                "item": "N95", "quantity": 200, "plan": PLAN, "incident": INCIDENT,
                "reason": "发往高笋塘街道发热门诊",
                "delivery": {
                    "shipment": SHIPMENT, "area": "500101001",
                    "location": {"lon": 108.41, "lat": 30.81},
                    "expected_arrival": "2026-11-23T12:00:00Z"
                }
            })),
        ),
        action(
            "sign_delivery",
            "签收: the destination signed for a consignment in transit",
            Some(
                json!({"shipment": SHIPMENT, "received_by": "高笋塘街道社区卫生服务中心 药房 李敏"}),
            ),
        ),
        action(
            "refuse_delivery",
            "拒收: the destination refused a consignment; it comes back into its lots",
            Some(json!({"shipment": SHIPMENT, "reason": "外包装破损，拒收"})),
        ),
        action(
            "reserve",
            "Hold stock for an approved plan",
            Some(
                json!({"plan": PLAN, "item": "N95", "quantity": 1000, "reason": "surge plan",
                        "incident": INCIDENT}),
            ),
        ),
        action(
            "release",
            "Give back everything a plan holds of an item",
            Some(json!({"plan": PLAN, "item": "N95", "reason": "plan stood down"})),
        ),
        action(
            "dispatch_transfer",
            "Send stock to another depot: received at once, or with `expected_arrival` in \
             transit until the destination signs for it",
            Some(json!({
                "transfer": TRANSFER, "to": "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a00",
                "item": "N95", "quantity": 500, "reason": "rebalance to Kaizhou",
                "expected_arrival": "2026-11-23T14:00:00Z", "incident": INCIDENT
            })),
        ),
        action(
            "sign_transfer",
            "签收, at the destination: a transfer in transit arrived; its lots join this depot",
            Some(json!({
                "transfer": TRANSFER, "from": DEPOT,
                "received_by": "开州区卫生应急物资储备库 库管员 王强"
            })),
        ),
        action(
            "refuse_transfer",
            "拒收, at the destination: a transfer in transit goes back to its source",
            Some(json!({"transfer": TRANSFER, "from": DEPOT, "reason": "批号与随货单不符"})),
        ),
        action(
            "write_off",
            "Remove stock that is expired, damaged, lost or recalled",
            Some(json!({
                "item": "N95", "lot_number": "N95-2023-007", "quantity": 120,
                "cause": "expired", "reason": "past expiry at stocktake"
            })),
        ),
        action(
            "adjust_count",
            "Record the quantity a stocktake found in a lot",
            Some(json!({
                "item": "N95", "lot_number": "N95-2026-118", "counted": 4980,
                "reason": "quarterly stocktake"
            })),
        ),
        action(
            "set_reserve_norm",
            "储备定额: the minimum this depot should hold of an item (0 clears it)",
            Some(json!({"item": "N95", "minimum": 20000, "reason": "2026 reserve plan"})),
        ),
    ]
}

fn convertible_actions() -> Vec<Action> {
    vec![
        action(
            "register",
            "Register a 平急两用 venue with its planned emergency beds",
            Some(json!({
                "facility_id": FACILITY, "name": "万州三峡会展中心", "peacetime_use": "exhibition_hall",
                "area": "500101", "location": {"lon": 108.41, "lat": 30.79},
                "planned_beds": {"general_isolation": 600}, "lead_time_minutes": 2880
            })),
        ),
        action(
            "start_conversion",
            "有序转换: begin converting to emergency use",
            Some(json!({
                "lead_time_minutes": 2880, "target_beds": {"general_isolation": 600},
                "checklist": ["zoning", "oxygen_supply", "staff_rostered"]
            })),
        ),
        action(
            "complete_readiness_item",
            "Tick off a readiness item",
            Some(json!({"item": "zoning"})),
        ),
        action(
            "cancel_conversion",
            "Stop converting and return to peacetime use",
            Some(json!({"reason": "outbreak contained"})),
        ),
        action(
            "activate_emergency_use",
            "Open for patients (early only with a reason)",
            Some(json!({"early": null})),
        ),
        action(
            "start_recovery",
            "安全恢复: begin disinfection (消杀)",
            None,
        ),
        action("complete_recovery", "Back to peacetime use", None),
    ]
}

fn incident_actions() -> Vec<Action> {
    vec![
        action(
            "declare",
            "Declare an incident at a response level (Ⅰ–Ⅳ级响应)",
            Some(json!({
                "incident_id": INCIDENT, "kind": "infectious_disease", "level": "IV",
                "title": "万州区呼吸道传染病聚集性疫情", "affected_areas": ["500101"]
            })),
        ),
        action(
            "raise_level",
            "Raise the response level",
            Some(json!({"level": "III", "reason": "cases in three districts"})),
        ),
        action(
            "lower_level",
            "Lower the response level",
            Some(json!({"level": "IV", "reason": "no new cases for 14 days"})),
        ),
        action(
            "extend_affected_areas",
            "Add affected districts",
            Some(json!({"areas": ["500154", "500234"]})),
        ),
        action(
            "record_bed_demand",
            "Record how many beds of a type a township needs (0 withdraws it)",
            Some(
                json!({"bed_type": "negative_flow_isolation", "township": "500101001", "beds": 60}),
            ),
        ),
        action(
            "record_supply_demand",
            "Record how much of an item a district needs",
            Some(json!({"item": "N95", "area": "500101", "quantity": 20000})),
        ),
        action(
            "record_team_demand",
            "Record how many teams of a kind the incident needs",
            Some(json!({"kind": "acute_infectious_disease", "teams": 3})),
        ),
        action(
            "close",
            "Close the incident",
            Some(json!({"reason": "response ended"})),
        ),
    ]
}

fn item_actions() -> Vec<Action> {
    vec![
        action(
            "catalogue",
            "Add an item to the catalogue (物资目录)",
            Some(json!({
                "item": "N95",
                "details": {
                    "name": "医用防护口罩（N95）", "unit": "只",
                    "category": "protective_equipment", "shelf_life_days": 1095
                }
            })),
        ),
        action(
            "revise",
            "Revise an item's details",
            Some(json!({
                "details": {
                    "name": "医用防护口罩（N95）", "unit": "只",
                    "category": "protective_equipment", "shelf_life_days": 1825
                }
            })),
        ),
        action(
            "retire",
            "No longer stocked",
            Some(json!({"reason": "replaced by KN95-B"})),
        ),
    ]
}
