//! `ercs route solve`, run as a user runs it: the real binary on small DIMACS
//! files, checked by exit code and output. The cases themselves are unit-tested
//! in the routing crate (`dimacs::report`); this checks the binary passes them on.

use std::process::{Command, Output};

fn ercs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ercs"))
        .args(args)
        .output()
        .unwrap()
}

fn solve(text: &str, flags: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("problem.min");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();
    ercs(&[&["route", "solve", file], flags].concat())
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_small_instance_is_optimal_with_exit_0_and_its_time_on_stderr() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../routing/tests/data/surge_small.min"
    );
    let output = ercs(&["route", "solve", file]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    // 137, checked in the routing crate against an independent solver.
    assert_eq!(stdout(&output), "optimal cost: 137\n");
    assert!(String::from_utf8_lossy(&output.stderr).contains("solved in"));
}

#[test]
fn a_malformed_file_exits_1_naming_the_line() {
    let output = solve("p min 2 1\na 1 2 0 five 3\n", &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2: CAP"), "{stderr}");
}

#[test]
fn a_missing_file_exits_1() {
    let output = ercs(&["route", "solve", "/nonexistent/problem.min"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
}

#[test]
fn unbalanced_supplies_exit_2_naming_the_totals() {
    let output = solve("p min 2 1\nn 1 5\nn 2 -4\na 1 2 0 9 1\n", &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("supply 5 in total but demand 4"));
}

#[test]
fn a_cut_too_small_exits_2_naming_its_nodes() {
    let output = solve(
        "p min 3 2\nn 1 3\nn 2 3\nn 3 -6\na 1 2 0 9 1\na 2 3 0 4 1\n",
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).contains("node 3 (1 in all) must receive 6"));
}

#[test]
fn a_negative_cycle_without_bounds_exits_3() {
    let output = solve("p min 2 2\na 1 2 0 -1 -3\na 2 1 0 -1 1\n", &[]);
    assert_eq!(output.status.code(), Some(3));
}

#[test]
fn a_negative_cycle_capped_at_2_to_the_41_is_optimal_and_flows_print_it() {
    let cap = 1i64 << 41;
    let text = format!("p min 2 2\na 1 2 0 {cap} -3\na 2 1 0 {cap} 1\n");
    let output = solve(&text, &["--flows"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        stdout(&output),
        format!("s {}\nf 1 2 {cap}\nf 2 1 {cap}\n", -2 * cap)
    );
}

#[test]
fn help_lists_the_exit_codes_and_flows() {
    let output = ercs(&["route", "solve", "--help"]);
    let help = stdout(&output);
    for expected in ["--flows", "Exit codes", "2 infeasible", "CAP -1"] {
        assert!(help.contains(expected), "help lacks {expected}:\n{help}");
    }
}
