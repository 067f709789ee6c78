use super::*;

fn line_of(text: &str) -> usize {
    match parse(text) {
        Err(DimacsError::Line { line, .. }) => line,
        other => panic!("expected a line error, got {other:?}"),
    }
}

fn optimum(text: &str) -> (Total, Vec<i128>) {
    match solve_dimacs(text) {
        Ok(DimacsOutcome::Optimal { cost, flows }) => (cost, flows),
        other => panic!("expected an optimum, got {other:?}"),
    }
}

/// Two nodes joined both ways: a cycle of cost `forward + back`, each arc capped.
fn two_cycle(cap: &str, forward: &str, back: &str) -> String {
    format!("p min 2 2\na 1 2 0 {cap} {forward}\na 2 1 0 {cap} {back}\n")
}

#[test]
fn lower_bounds_are_shipped_up_front_and_counted_in_the_cost() {
    let text = "p min 2 2\nn 1 3\nn 2 -3\na 1 2 2 5 10\na 1 2 0 5 1\n";
    let (cost, flows) = optimum(text);
    assert_eq!(cost, Total::from(2 * 10 + 1));
    assert_eq!(flows, vec![2, 1]);
}

#[test]
fn a_lower_bound_above_the_capacity_is_infeasible_and_names_its_line() {
    assert_eq!(
        solve_dimacs("p min 2 1\nc x\na 1 2 4 3 1\n").unwrap(),
        DimacsOutcome::Infeasible(Infeasible::LowerAboveCapacity(BoundsConflict {
            line: 3,
            low: 4,
            cap: 3
        }))
    );
}

#[test]
fn errors_name_the_offending_line() {
    assert_eq!(line_of("c hi\np min 2 1\na 1 3 0 1 1\n"), 3);
    assert_eq!(line_of("p min 2 1\n\nn 1 x\n"), 3);
    assert_eq!(line_of("n 1 1\n"), 1);
    assert_eq!(line_of("p max 2 1\n"), 1);
    assert_eq!(line_of("p min 2 0\na 1 2 0 1 1\n"), 2);
    assert_eq!(line_of("p min 2 1\nn 1 1\nn 1 2\n"), 3);
    assert_eq!(line_of("p min 2 1\nx\n"), 2);
    assert_eq!(line_of("p min 2 1\na 1 2 0 1\n"), 2);
    assert_eq!(line_of("p min 2 1\na 1 2 0 -2 1\n"), 2);
    assert_eq!(line_of("p min 2 1\na 1 2 0 1 99999999999999999999\n"), 2);
    assert_eq!(
        line_of("p min 2 1\nn 1 9223372036854775807\na 2 1 1 1 1\n"),
        3
    );
}

#[test]
fn a_missing_problem_line_or_arc_is_an_error() {
    assert_eq!(parse("c nothing\n"), Err(DimacsError::MissingProblemLine));
    assert_eq!(
        parse("p min 2 2\na 1 2 0 1 1\n"),
        Err(DimacsError::ArcCount {
            declared: 2,
            found: 1
        })
    );
}

#[test]
fn a_negative_cycle_capped_at_2_to_the_41_is_optimal_not_unbounded() {
    // The old parser read any capacity ≥ 2^40 as "no bound".
    let cap = (1i64 << 41).to_string();
    let (cost, flows) = optimum(&two_cycle(&cap, "-3", "1"));
    assert_eq!(cost, Total::from(-2 * (1i128 << 41)));
    assert_eq!(flows, vec![1 << 41, 1 << 41]);
}

#[test]
fn a_negative_cycle_capped_at_i64_max_is_optimal_and_exact() {
    let max = i64::MAX.to_string();
    let (cost, flows) = optimum(&two_cycle(&max, &i64::MIN.to_string(), &max));
    // (i64::MIN + i64::MAX) × i64::MAX = −i64::MAX.
    assert_eq!(cost, Total::from(-i128::from(i64::MAX)));
    assert_eq!(flows, vec![i128::from(i64::MAX); 2]);
}

#[test]
fn costs_beyond_the_fast_solvers_limit_are_exact() {
    // A cheap two-hop path and a direct arc costing i64::MAX: the path wins.
    let text = format!(
        "p min 3 3\nn 1 5\nn 3 -5\na 1 3 0 9 {}\na 1 2 0 9 {}\na 2 3 0 9 {}\n",
        i64::MAX,
        i64::MAX / 2,
        i64::MAX / 2
    );
    let (cost, flows) = optimum(&text);
    assert_eq!(cost, Total::from(5 * 2 * i128::from(i64::MAX / 2)));
    assert_eq!(flows, vec![0, 5, 5]);
}

#[test]
fn a_cost_beyond_i128_is_printed_exactly() {
    // Four arcs forced to carry i64::MAX at cost i64::MAX: 4 × (2^63 − 1)^2 > 2^127.
    let max = i64::MAX;
    let arc = |from, to| format!("a {from} {to} {max} {max} {max}\n");
    let text = format!(
        "p min 2 4\n{}{}{}{}",
        arc(1, 2),
        arc(2, 1),
        arc(1, 2),
        arc(2, 1)
    );
    let r = report(&text, false);
    assert_eq!(r.verdict, Verdict::Optimal);
    assert_eq!(
        r.text,
        "optimal cost: 340282366920938463389587631136930004996\n"
    );
}

#[test]
fn a_negative_cycle_without_bounds_is_unbounded_with_exit_code_3() {
    let r = report(&two_cycle("-1", "-3", "1"), false);
    assert_eq!((r.verdict, r.verdict.exit_code()), (Verdict::Unbounded, 3));
}

#[test]
fn an_optimum_exits_0_with_its_cost() {
    let r = report("p min 2 1\nn 1 4\nn 2 -4\na 1 2 0 9 3\n", false);
    assert_eq!(
        (r.verdict.exit_code(), r.text.as_str()),
        (0, "optimal cost: 12\n")
    );
}

#[test]
fn bad_input_exits_1_naming_the_line() {
    let r = report("p min 2 1\na 1 2 0 1 x\n", false);
    assert_eq!(r.verdict.exit_code(), 1);
    assert!(r.text.starts_with("line 2: COST `x`"), "{}", r.text);
}

#[test]
fn unbalanced_supplies_exit_2_naming_both_totals() {
    let r = report("p min 3 1\nn 1 5\nn 2 2\nn 3 -6\na 1 3 0 9 1\n", false);
    assert_eq!(r.verdict.exit_code(), 2);
    assert!(
        r.text.contains("supply 7 in total but demand 6"),
        "{}",
        r.text
    );
}

#[test]
fn a_bottleneck_exits_2_naming_the_nodes_that_cannot_receive() {
    // 1 and 2 can send 6, but only 4 crosses into 3.
    let r = report(
        "p min 3 2\nn 1 3\nn 2 3\nn 3 -6\na 1 2 0 9 1\na 2 3 0 4 1\n",
        false,
    );
    assert_eq!(r.verdict.exit_code(), 2);
    assert_eq!(
        r.text,
        "infeasible: node 3 (1 in all) must receive 6 net, but the arcs entering them carry at most 4\n"
    );
}

/// Reads `s` and `f` lines back and checks them against the problem.
fn check_solution(text: &str, solution: &str) {
    let problem = parse(text).unwrap();
    let mut lines = solution.lines();
    let cost = lines
        .next()
        .unwrap()
        .strip_prefix("s ")
        .unwrap()
        .to_string();
    let flows: Vec<(usize, usize, i128)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f[0], "f");
            (
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(flows.len(), problem.flow.arcs.len());
    let nodes = problem.flow.node_count();
    let mut net = vec![0i128; nodes];
    for ((from, to, f), a) in flows.iter().zip(&problem.flow.arcs) {
        assert_eq!((from - 1, to - 1), (a.from, a.to), "arcs in file order");
        net[from - 1] += f;
        net[to - 1] -= f;
    }
    // The stated supplies, before lower bounds moved them.
    let mut supply = vec![0i128; nodes];
    for l in text.lines().filter(|l| l.starts_with("n ")) {
        let f: Vec<&str> = l.split_whitespace().collect();
        supply[f[1].parse::<usize>().unwrap() - 1] = f[2].parse().unwrap();
    }
    assert_eq!(net, supply, "flow is conserved");
    let x: Vec<i128> = flows.iter().map(|f| f.2).collect();
    assert_eq!(problem.cost_of(&x).to_string(), cost);
}

#[test]
fn flows_print_a_solution_that_is_conserved_and_costs_what_it_says() {
    for text in [
        "p min 4 6\nn 1 7\nn 4 -7\na 1 2 0 4 2\na 1 3 1 8 5\na 2 3 0 5 -1\na 2 4 2 3 4\na 3 4 0 9 1\na 3 1 0 2 -9\n",
        &two_cycle(&i64::MAX.to_string(), &i64::MIN.to_string(), "5"),
        &two_cycle("-1", "3", "1"),
    ] {
        let r = report(text, true);
        assert_eq!(r.verdict, Verdict::Optimal, "{}", r.text);
        check_solution(text, &r.text);
    }
}

#[test]
fn the_fast_and_the_exact_solver_agree() {
    let text = "p min 4 6\nn 1 7\nn 4 -7\na 1 2 0 4 2\na 1 3 1 8 5\na 2 3 0 5 -1\na 2 4 2 3 4\na 3 4 0 9 1\na 3 1 0 2 -9\n";
    let problem = parse(text).unwrap();
    assert!(problem.fits_i64());
    let exact = NetworkSimplex::exact(&problem.flow, |e| problem.bounded[e]).unwrap();
    let fast = NetworkSimplex::new(&problem.flow).unwrap();
    let x = run(exact).unwrap();
    let y: Vec<i128> = run(fast).unwrap();
    assert_eq!(problem.cost_of(&x), problem.cost_of(&y));
}
