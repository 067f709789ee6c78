//! The shipped drills command only what the Chongqing seed holds: a drill that
//! names a team the seed never registered, or demands an item no depot stocks by
//! that code, would fail in front of the drill director.

use std::collections::{BTreeMap, BTreeSet};

use ercs_seed::chongqing;
use ercs_seed::drill_script::{AggregateKind, DrillScript, Reference, Target};
use ercs_seed::inventory::Commands;
use serde_json::Value;

const DRILLS: [(&str, &str); 2] = [
    (
        "wanzhou",
        include_str!("../../../seeds/drills/wanzhou-respiratory-outbreak.json"),
    ),
    (
        "changshou",
        include_str!("../../../seeds/drills/changshou-chemical-poisoning.json"),
    ),
];

/// Every seeded resource by its key, with the kind of aggregate it is.
fn seeded() -> (BTreeMap<String, AggregateKind>, BTreeSet<String>) {
    let geography = chongqing::geography().expect("the geography loads");
    let plan = chongqing::inventory()
        .expect("the inventory loads")
        .plan(&geography)
        .expect("a plan");
    let mut resources = BTreeMap::new();
    let mut items = BTreeSet::new();
    for planned in plan {
        let kind = match &planned.commands {
            Commands::Item(code, _) => {
                items.insert(code.to_string());
                continue;
            }
            Commands::Team(..) => AggregateKind::Team,
            Commands::Facility(..) => AggregateKind::Facility,
            Commands::Depot(..) => AggregateKind::Depot,
            Commands::Convertible(..) => AggregateKind::Convertible,
        };
        resources.insert(planned.key, kind);
    }
    (resources, items)
}

fn seed_targets(script: &DrillScript) -> Vec<&Target> {
    let steps = script.steps().iter().map(|step| &step.target);
    let injects = script.injects().iter().map(|inject| &inject.target);
    steps
        .chain(injects)
        .filter(|target| matches!(target.reference, Reference::Seed(_)))
        .collect()
}

#[test]
fn every_seeded_resource_a_drill_commands_exists_with_that_kind() {
    let (resources, _) = seeded();
    for (name, text) in DRILLS {
        let script = DrillScript::parse(text).expect("the drill parses");
        let targets = seed_targets(&script);
        assert!(
            !targets.is_empty(),
            "the {name} drill commands no seeded resource"
        );
        for target in targets {
            let Reference::Seed(key) = &target.reference else {
                unreachable!("filtered to seed references")
            };
            assert_eq!(
                resources.get(key),
                Some(&target.kind),
                "the {name} drill names {key:?}, not in the seed as {:?}",
                target.kind
            );
        }
    }
}

#[test]
fn every_supply_item_a_drill_names_is_in_the_catalogue() {
    fn items_in(value: &Value, found: &mut BTreeSet<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("item", Value::String(code)) => {
                            found.insert(code.clone());
                        }
                        // A venue's readiness checklist item, not a supply item.
                        ("complete_readiness_item", _) => {}
                        _ => items_in(value, found),
                    }
                }
            }
            Value::Array(values) => values.iter().for_each(|value| items_in(value, found)),
            _ => {}
        }
    }
    let (_, catalogue) = seeded();
    for (name, text) in DRILLS {
        let mut named = BTreeSet::new();
        items_in(&serde_json::from_str(text).expect("JSON"), &mut named);
        assert!(!named.is_empty(), "the {name} drill names no supply item");
        let missing: Vec<_> = named.difference(&catalogue).collect();
        assert!(
            missing.is_empty(),
            "the {name} drill names items the catalogue lacks: {missing:?}"
        );
    }
}
