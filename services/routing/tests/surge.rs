//! The allocation rules, one per test, on hand-made Chongqing-like problems.

use std::collections::BTreeMap;

use ercs_routing::*;

const CITY: &str = "500000";

fn area(township: &str) -> AreaPath {
    // Township codes here are `DDDDDDTTT`; districts 500101/500102 form one region.
    let district = &township[..6];
    let region = if district <= "500102" {
        "wanzhou-sanxia"
    } else {
        "yongchuan-yuxi"
    };
    AreaPath {
        township: Some(township.into()),
        district: Some(district.into()),
        region: Some(region.into()),
        city: Some(CITY.into()),
    }
}

/// A point `km` kilometres east of a fixed origin.
fn east(km: f64) -> Point {
    Point::new(108.38 + km / (111.195 * 30.8f64.to_radians().cos()), 30.8)
}

fn ventilators() -> Commodity {
    Commodity::supply("ventilator")
}

fn source(id: &str, township: &str, km: f64, stock: u64) -> Source {
    Source {
        id: id.into(),
        kind: SourceKind::DepotStock,
        location: east(km),
        area: area(township),
        available_after_minutes: 0,
        offers: BTreeMap::from([(ventilators(), stock)]),
    }
}

fn demand(id: &str, township: &str, km: f64, priority: Priority, need: u64) -> Demand {
    Demand {
        id: id.into(),
        location: east(km),
        area: area(township),
        priority,
        needs: BTreeMap::from([(ventilators(), need)]),
    }
}

fn problem(sources: Vec<Source>, demands: Vec<Demand>) -> SurgeProblem {
    SurgeProblem {
        sources,
        demands,
        ..SurgeProblem::default()
    }
}

fn solve(p: &SurgeProblem) -> Plan {
    let plan = plan(p).expect("plan");
    plan.certificate.verify(p).expect("certified optimal");
    plan
}

fn sent(plan: &Plan, from: &str, to: &str) -> u64 {
    plan.assignments
        .iter()
        .filter(|a| a.source == from && a.demand == to)
        .map(|a| a.quantity)
        .sum()
}

#[test]
fn local_stock_is_used_before_a_slightly_nearer_district_depot() {
    let p = problem(
        vec![
            source("own-township", "500101001", 2.0, 5),
            source("district", "500101002", 1.0, 5),
        ],
        vec![demand("d", "500101001", 0.0, Priority::Red, 3)],
    );
    let plan = solve(&p);
    assert_eq!(sent(&plan, "own-township", "d"), 3);
    assert_eq!(plan.assignments[0].tier_path, vec![Tier::Township]);
}

#[test]
fn the_district_supplies_what_the_township_lacks_and_the_path_says_so() {
    let p = problem(
        vec![
            source("own-township", "500101001", 2.0, 1),
            source("district", "500101002", 4.0, 5),
        ],
        vec![demand("d", "500101001", 0.0, Priority::Red, 3)],
    );
    let plan = solve(&p);
    assert_eq!(
        (
            sent(&plan, "own-township", "d"),
            sent(&plan, "district", "d")
        ),
        (1, 2)
    );
    let from_district = plan
        .assignments
        .iter()
        .find(|a| a.source == "district")
        .unwrap();
    assert_eq!(
        from_district.tier_path,
        vec![Tier::Township, Tier::District]
    );
}

#[test]
fn red_is_served_before_a_nearer_green_when_stock_is_short() {
    let p = problem(
        vec![source("depot", "500101001", 0.0, 2)],
        vec![
            demand("green", "500101001", 0.5, Priority::Green, 2),
            demand("red", "500101001", 9.0, Priority::Red, 2),
        ],
    );
    let plan = solve(&p);
    assert_eq!(sent(&plan, "depot", "red"), 2);
    assert_eq!(plan.shortfalls.len(), 1);
    assert_eq!(
        (
            plan.shortfalls[0].demand.as_str(),
            plan.shortfalls[0].quantity
        ),
        ("green", 2)
    );
}

#[test]
fn a_lead_time_adds_to_the_arrival_and_a_source_beyond_the_horizon_is_left_out() {
    let mut converting = source("converting", "500101001", 1.0, 4);
    converting.available_after_minutes = 130;
    let mut too_late = source("too-late", "500101001", 0.5, 4);
    too_late.available_after_minutes = 241;
    let p = problem(
        vec![converting, too_late],
        vec![demand("d", "500101001", 0.0, Priority::Red, 2)],
    );
    let plan = solve(&p);
    let a = &plan.assignments[0];
    assert_eq!((a.source.as_str(), a.lead_minutes), ("converting", 130.0));
    assert_eq!(a.arrival_minutes, a.travel_minutes + 130.0);
    assert!(
        !a.within_standard,
        "beyond the 2-hour circle supplies are judged by"
    );
    assert_eq!(plan.commodities[0].sources, 1);
}

#[test]
fn an_assignment_meets_the_standard_of_its_kind() {
    // Supplies are judged by the 2-hour emergency-rescue circle: 150 km is beyond it.
    let p = problem(
        vec![
            source("near", "500101001", 1.0, 1),
            source("far", "500101001", 150.0, 1),
        ],
        vec![demand("d", "500101001", 0.0, Priority::Red, 2)],
    );
    let plan = solve(&p);
    let standard: BTreeMap<&str, bool> = plan
        .assignments
        .iter()
        .map(|a| (a.source.as_str(), a.within_standard))
        .collect();
    assert_eq!(standard, BTreeMap::from([("far", false), ("near", true)]));
    assert_eq!(plan.commodities[0].served_within_standard, 1);
}

#[test]
fn a_measured_travel_time_replaces_the_estimate() {
    let mut p = problem(
        vec![
            source("a", "500101001", 1.0, 1),
            source("b", "500101001", 2.0, 1),
        ],
        vec![demand("d", "500101001", 0.0, Priority::Red, 1)],
    );
    assert_eq!(sent(&solve(&p), "a", "d"), 1);
    p.travel = Some(TravelMatrix::parse_csv("source,demand,minutes\na,d,45\n").unwrap());
    let plan = solve(&p);
    assert_eq!(sent(&plan, "b", "d"), 1);
}

/// Red demand `d` for `need`, 1 km from a depot `near` holding 1, and `other`;
/// `d` starts linked to `near` alone.
fn starting_from_the_nearest(other: Source, need: u64) -> SurgeProblem {
    let mut p = problem(
        vec![source("near", "500101001", 1.0, 1), other],
        vec![demand("d", "500101001", 0.0, Priority::Red, need)],
    );
    p.settings.nearest_sources = 1;
    p.settings.nearest_per_tier = 0;
    p
}

#[test]
fn a_source_the_starting_links_leave_out_still_serves_and_nothing_is_escalated() {
    // Linked at first only to its nearest source, the demand is served from the
    // region's depot all the same: pricing links it.
    let p = starting_from_the_nearest(source("region", "500102001", 40.0, 10), 4);
    let plan = solve(&p);
    assert_eq!(
        (sent(&plan, "near", "d"), sent(&plan, "region", "d")),
        (1, 3)
    );
    assert!(plan.shortfalls.is_empty() && plan.escalations.is_empty());
}

#[test]
fn a_measured_short_time_from_a_far_unlinked_source_is_used() {
    // A new bridge: the depot 60 km away by straight line is 1 minute away. It
    // is not among the starting links and no distance bound may rule it out.
    let mut p = starting_from_the_nearest(source("bridge", "500101001", 60.0, 1), 1);
    p.travel = Some(TravelMatrix::parse_csv("bridge,d,1\n").unwrap());
    let plan = solve(&p);
    assert_eq!(
        (sent(&plan, "bridge", "d"), sent(&plan, "near", "d")),
        (1, 0)
    );
}

fn beds() -> Commodity {
    Commodity::bed("general_isolation")
}

fn bed_pool(id: &str, township: &str, km: f64, beds_free: u64) -> Source {
    Source {
        kind: SourceKind::BedPool,
        offers: BTreeMap::from([(beds(), beds_free)]),
        ..source(id, township, km, 0)
    }
}

#[test]
fn a_township_whose_nearest_sources_hold_26_beds_gets_all_156_from_its_district() {
    // The case of issue 12: ten clinics near the township hold 26 beds; the
    // district's hospitals, farther than all ten, hold 318.
    let clinics = [4, 2, 4, 2, 4, 2, 2, 2, 2, 2];
    let mut sources: Vec<Source> = clinics
        .into_iter()
        .enumerate()
        .map(|(i, free)| {
            bed_pool(
                &format!("clinic-{i}"),
                "500101001",
                1.0 + 0.2 * i as f64,
                free,
            )
        })
        .collect();
    for (i, free) in [80, 80, 80, 78].into_iter().enumerate() {
        sources.push(bed_pool(
            &format!("hospital-{i}"),
            "500101002",
            20.0 + 5.0 * i as f64,
            free,
        ));
    }
    let mut need = demand("township", "500101001", 0.0, Priority::Red, 0);
    need.needs = BTreeMap::from([(beds(), 156)]);
    let mut p = problem(sources, vec![need]);
    // Ten starting links, as the plans the issue saw had.
    p.settings.nearest_sources = 10;
    let near: u64 = p.sources[..10].iter().map(|s| s.offers[&beds()]).sum();
    assert_eq!(near, 26);
    // The starting links reach none of the hospitals.
    let start = network::CommodityNetwork::build(&p, &beds()).unwrap();
    let linked = |id: &str| {
        let s = p.sources.iter().position(|x| x.id == id).unwrap();
        start.travel_links.contains_key(&(s, 0))
    };
    assert!((0..4).all(|i| !linked(&format!("hospital-{i}"))));

    let plan = solve(&p);
    let from_hospitals: u64 = (0..4)
        .map(|i| sent(&plan, &format!("hospital-{i}"), "township"))
        .sum();
    assert_eq!((plan.commodities[0].served, from_hospitals), (156, 130));
    assert!(plan.shortfalls.is_empty(), "{:?}", plan.shortfalls);
    assert!(plan.escalations.is_empty(), "{:?}", plan.escalations);
}

#[test]
fn a_shortfall_goes_beyond_the_city_when_the_city_is_drawn_down() {
    let p = problem(
        vec![source("only", "500101001", 1.0, 1)],
        vec![demand("d", "500101001", 0.0, Priority::Red, 4)],
    );
    let plan = solve(&p);
    let request = &plan.escalations[0];
    assert_eq!(
        (
            request.to_tier,
            request.quantity,
            request.from_area.as_deref()
        ),
        (Tier::Beyond, 3, Some(CITY))
    );
}

#[test]
fn demand_with_no_source_at_all_is_a_shortfall_not_an_error() {
    let p = problem(
        vec![],
        vec![demand("d", "500101001", 0.0, Priority::Orange, 7)],
    );
    let plan = solve(&p);
    assert_eq!(
        (plan.assignments.len(), plan.shortfalls[0].quantity),
        (0, 7)
    );
}

#[test]
fn invalid_input_is_refused_with_a_reason() {
    let mut bad = demand("d", "500101001", 0.0, Priority::Red, 1);
    bad.location = Point::new(f64::NAN, 30.0);
    assert_eq!(
        plan(&problem(vec![], vec![bad])),
        Err(PlanError::InvalidLocation("d".into()))
    );
    let twice = vec![
        source("s", "500101001", 0.0, 1),
        source("s", "500101001", 1.0, 1),
    ];
    assert_eq!(
        plan(&problem(twice, vec![])),
        Err(PlanError::DuplicateSource("s".into()))
    );
}

#[test]
fn a_tampered_certificate_is_rejected() {
    let p = problem(
        vec![
            source("a", "500101001", 1.0, 2),
            source("b", "500101002", 3.0, 2),
        ],
        vec![demand("d", "500101001", 0.0, Priority::Red, 3)],
    );
    let mut plan = solve(&p);
    let flows = &mut plan.certificate.commodities[0].flows;
    let moved = flows
        .iter_mut()
        .find(|f| f.from == "source:a" && f.to == "demand:d")
        .unwrap();
    moved.flow -= 1;
    assert!(plan.certificate.verify(&p).is_err());
}

#[test]
fn the_same_problem_in_any_order_gives_byte_identical_plans() {
    let sources = vec![
        source("a", "500101001", 1.0, 2),
        source("b", "500101002", 1.0, 2),
        source("c", "500103001", 1.0, 2),
    ];
    let demands = vec![
        demand("x", "500101001", 0.0, Priority::Red, 2),
        demand("y", "500101002", 2.0, Priority::Red, 2),
    ];
    let forward =
        serde_json::to_string(&solve(&problem(sources.clone(), demands.clone()))).unwrap();
    let again = serde_json::to_string(&solve(&problem(sources.clone(), demands.clone()))).unwrap();
    let reversed = serde_json::to_string(&solve(&problem(
        sources.into_iter().rev().collect(),
        demands.into_iter().rev().collect(),
    )))
    .unwrap();
    assert_eq!(forward, again);
    assert_eq!(forward, reversed);
}

#[test]
fn the_plan_round_trips_through_json() {
    let p = problem(
        vec![source("a", "500101001", 1.0, 2)],
        vec![demand("x", "500101001", 0.0, Priority::Red, 3)],
    );
    let plan = solve(&p);
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
    let problem_json = serde_json::to_string(&p).unwrap();
    assert_eq!(
        serde_json::from_str::<SurgeProblem>(&problem_json).unwrap(),
        p
    );
}

#[test]
fn a_warm_re_plan_matches_a_cold_plan_and_verifies() {
    let p = problem(
        vec![
            source("a", "500101001", 1.0, 3),
            source("b", "500101002", 5.0, 3),
            source("c", "500103001", 9.0, 3),
        ],
        vec![
            demand("x", "500101001", 0.0, Priority::Red, 2),
            demand("y", "500101002", 4.0, Priority::Yellow, 3),
            demand("z", "500103001", 8.0, Priority::Green, 2),
        ],
    );
    let mut planner = Planner::new(p).unwrap();
    type Step = Box<dyn Fn(&mut Planner)>;
    let steps: Vec<Step> = vec![
        Box::new(|pl| pl.set_need("x", &ventilators(), 6).unwrap()),
        Box::new(|pl| pl.set_travel_minutes("b", "y", 40.0).unwrap()),
        Box::new(|pl| pl.set_stock("c", &ventilators(), 1).unwrap()),
        Box::new(|pl| pl.set_need("z", &ventilators(), 0).unwrap()),
        Box::new(|pl| pl.set_need("y", &ventilators(), 1).unwrap()),
        Box::new(|pl| pl.set_stock("a", &ventilators(), 9).unwrap()),
    ];
    for step in steps {
        step(&mut planner);
        let warm = planner.plan();
        warm.certificate
            .verify(planner.problem())
            .expect("warm plan certified");
        assert_eq!(warm.total_cost, solve(planner.problem()).total_cost);
    }
}

#[test]
fn each_kind_is_judged_by_its_own_configured_standard() {
    // 30 km is about an hour away: beyond 14 minutes, within two hours.
    let mut p = problem(
        vec![source("depot", "500101001", 30.0, 1)],
        vec![demand("d", "500101001", 0.0, Priority::Red, 1)],
    );
    assert!(
        solve(&p).assignments[0].within_standard,
        "within the 2-hour circle"
    );
    p.settings.supply_standard_minutes = 14;
    assert!(
        !solve(&p).assignments[0].within_standard,
        "beyond a 14-minute standard"
    );
}

#[test]
fn each_assignment_names_the_next_best_source_and_what_a_unit_from_it_costs_more() {
    let p = problem(
        vec![
            source("own-township", "500101001", 2.0, 5),
            source("district", "500101002", 1.0, 5),
        ],
        vec![demand("d", "500101001", 0.0, Priority::Red, 3)],
    );
    let mut plan = solve(&p);
    ercs_routing::explain(&p, &mut plan);
    let next = plan.assignments[0]
        .next_best
        .as_ref()
        .expect("an alternative");
    assert_eq!(next.source, "district");
    // Both have stock to spare, so a unit from the district costs exactly the
    // difference of the two links: a shorter drive, but a tier crossing.
    let link = |s| ercs_routing::network::travel_link(&p, s, 0).cost;
    assert_eq!(next.extra_seconds_per_unit, link(1) - link(0));
    assert!(next.extra_seconds_per_unit > 0);
    assert_eq!(next.tier_path, vec![Tier::Township, Tier::District]);
    // A demand served from two sources is offered a third, not the other one.
    let two = problem(
        vec![
            source("near", "500101001", 1.0, 5),
            source("next", "500101001", 2.0, 1),
            source("far", "500101001", 9.0, 10),
        ],
        vec![demand("d", "500101001", 0.0, Priority::Red, 6)],
    );
    let mut plan = solve(&two);
    ercs_routing::explain(&two, &mut plan);
    assert_eq!(plan.assignments.len(), 2);
    for a in &plan.assignments {
        assert_eq!(a.next_best.as_ref().map(|n| n.source.as_str()), Some("far"));
    }
    // A demand with one source has no alternative to name.
    let alone = problem(
        vec![source("own-township", "500101001", 2.0, 5)],
        vec![demand("d", "500101001", 0.0, Priority::Red, 3)],
    );
    let mut plan = solve(&alone);
    ercs_routing::explain(&alone, &mut plan);
    assert_eq!(plan.assignments[0].next_best, None);
}
