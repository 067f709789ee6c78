//! The Chongqing resource inventory: what the seed plans require, checked on the files.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_domain::beds::{BedClass, BedType, FacilityKind};
use ercs_domain::supply::depot::ReserveTier;
use ercs_domain::team::TeamKind;
use ercs_seed::chongqing::{geography, inventory};
use ercs_seed::inventory::{Commands, Inventory};
use geo::{Contains, Point};

fn loaded() -> Inventory {
    inventory().expect("the inventory files load")
}

#[test]
fn the_five_lead_hospitals_hold_1250_fixed_and_3850_temporary_beds() {
    let inventory = loaded();
    let lead: Vec<_> = inventory.facilities.iter().filter(|f| f.lead).collect();
    assert_eq!(lead.len(), 5);
    let beds = |class| -> u32 {
        let pools = lead.iter().flat_map(|f| &f.pools);
        pools.filter(|p| p.class == class).map(|p| p.total).sum()
    };
    assert_eq!(beds(BedClass::Designated), 1_250);
    assert_eq!(beds(BedClass::RapidExpansion), 3_850);
    let sanxia = lead.iter().find(|f| f.area.as_str() == "500101").unwrap();
    let of = |class| -> u32 {
        let pools = sanxia.pools.iter().filter(|p| p.class == class);
        pools.map(|p| p.total).sum()
    };
    assert_eq!(
        (of(BedClass::Designated), of(BedClass::RapidExpansion)),
        (300, 700)
    );
}

#[test]
fn temporary_beds_need_an_activation_lead_time_and_fixed_beds_none() {
    for f in loaded().facilities.iter().filter(|f| f.lead) {
        for pool in &f.pools {
            match pool.class {
                BedClass::RapidExpansion => assert!(pool.lead_time_minutes > 0, "{}", f.key),
                _ => assert_eq!(pool.lead_time_minutes, 0, "{}", f.key),
            }
        }
        let types: BTreeSet<BedType> = f.pools.iter().map(|p| p.bed_type).collect();
        assert!(
            types.contains(&BedType::NegativeFlowIsolation) && types.contains(&BedType::AdultIcu)
        );
    }
}

#[test]
fn every_district_has_one_hospital_with_an_infectious_disease_ward() {
    let districts: Vec<_> = geography()
        .unwrap()
        .districts
        .into_iter()
        .map(|d| d.code)
        .collect();
    let hospitals: Vec<DivisionCode> = loaded()
        .facilities
        .into_iter()
        .filter(|f| f.tier == Tier::District && f.kind == FacilityKind::Hospital)
        .map(|f| f.area)
        .collect();
    assert_eq!(hospitals, districts);
}

#[test]
fn every_town_and_township_has_a_health_centre_with_a_fever_clinic() {
    let geography = geography().unwrap();
    let rural = geography.townships.iter().filter(|t| {
        let name = t.name.as_str();
        name.ends_with('镇') || name.ends_with('乡')
    });
    let centres: BTreeSet<_> = loaded()
        .facilities
        .into_iter()
        .filter(|f| f.kind == FacilityKind::HealthCentre)
        .map(|f| f.area)
        .collect();
    assert_eq!(centres, rural.map(|t| t.code.clone()).collect());
}

#[test]
fn the_city_fields_the_planned_numbers_of_each_kind_of_team() {
    let mut city: BTreeMap<TeamKind, usize> = BTreeMap::new();
    for t in loaded().teams.iter().filter(|t| t.tier == Tier::City) {
        *city.entry(t.kind.clone()).or_default() += 1;
    }
    assert!((3..=5).contains(&city[&TeamKind::MedicalRescue]));
    assert!((3..=5).contains(&city[&TeamKind::Poisoning]));
    assert!((4..=6).contains(&city[&TeamKind::AcuteInfectiousDisease]));
    assert_eq!(city[&TeamKind::TcmEpidemic], 1);
    assert!(city[&TeamKind::BackpackRapidResponse] >= 1);
}

#[test]
fn every_district_fields_the_three_standard_teams_and_backpack_squads() {
    let inventory = loaded();
    for district in geography().unwrap().districts {
        let home = AreaCode::from(district.code.clone());
        let kinds: Vec<TeamKind> = inventory
            .teams
            .iter()
            .filter(|t| t.home_area == home)
            .map(|t| t.kind.clone())
            .collect();
        for kind in [
            TeamKind::MedicalRescue,
            TeamKind::AcuteInfectiousDisease,
            TeamKind::Poisoning,
        ] {
            assert_eq!(kinds.iter().filter(|k| **k == kind).count(), 1, "{home}");
        }
        let squads = kinds
            .iter()
            .filter(|k| **k == TeamKind::BackpackRapidResponse);
        assert_eq!(
            squads.count(),
            2,
            "{home}: one at the CDC, one at the hospital"
        );
    }
}

#[test]
fn depots_stand_at_all_four_reserve_tiers() {
    let tiers: BTreeSet<ReserveTier> = loaded().depots.iter().map(|d| d.tier).collect();
    assert_eq!(tiers.len(), 4);
}

#[test]
fn every_lot_number_is_unique_across_the_city() {
    let inventory = loaded();
    let lots: Vec<_> = inventory.depots.iter().flat_map(|d| &d.lots).collect();
    let numbers: BTreeSet<_> = lots.iter().map(|l| (&l.item, &l.lot)).collect();
    // A transfer keeps its lots' identity: two depots holding one number with
    // different expiries could never trade that item.
    assert_eq!(numbers.len(), lots.len());
}

#[test]
fn some_lots_are_near_expiry_and_some_stock_is_below_its_norm() {
    let inventory = loaded();
    let soon = inventory.seed_date + Duration::days(60);
    let lots = inventory.depots.iter().flat_map(|d| &d.lots);
    let near = lots
        .clone()
        .filter(|l| l.expiry.is_some_and(|e| e <= soon))
        .count();
    assert!(near > 0);
    assert!(
        lots.clone()
            .all(|l| l.expiry.is_none_or(|e| e > inventory.seed_date))
    );
    let below = inventory.depots.iter().flat_map(|d| {
        d.norms.iter().filter(move |n| {
            let held: u32 = d
                .lots
                .iter()
                .filter(|l| l.item == n.item)
                .map(|l| l.quantity.get())
                .sum();
            held < n.minimum.get()
        })
    });
    assert!(below.count() > 0);
}

#[test]
fn convertibles_span_several_districts_and_uses_with_lead_times_and_capacities() {
    let convertibles = loaded().convertibles;
    let districts: BTreeSet<_> = convertibles.iter().map(|c| c.area.clone()).collect();
    let uses: BTreeSet<_> = convertibles.iter().map(|c| c.peacetime_use).collect();
    assert!(districts.len() >= 5 && uses.len() >= 3);
    assert!(
        convertibles
            .iter()
            .all(|c| c.lead_time_minutes > 0 && c.emergency_beds.values().sum::<u32>() > 0)
    );
}

#[test]
fn every_facility_and_team_stands_inside_chongqing() {
    let geography = geography().unwrap();
    let plan = loaded().plan(&geography).unwrap();
    let inside = |point: ercs_domain::geo::GeoPoint| {
        geography
            .districts
            .iter()
            .any(|d| d.boundary.contains(&Point::new(point.lon(), point.lat())))
    };
    for planned in &plan {
        let location = match &planned.commands {
            Commands::Facility(_, c) => match &c[0] {
                ercs_domain::beds::FacilityCommand::Register { location, .. } => Some(*location),
                _ => None,
            },
            Commands::Team(_, c) => match &c[0] {
                ercs_domain::team::TeamCommand::Register { base, .. } => Some(*base),
                _ => None,
            },
            _ => None,
        };
        if let Some(location) = location {
            assert!(inside(location), "{} is outside Chongqing", planned.key);
        }
    }
}

#[test]
fn planning_is_deterministic() {
    let geography = geography().unwrap();
    assert_eq!(
        loaded().plan(&geography).unwrap(),
        loaded().plan(&geography).unwrap()
    );
}
