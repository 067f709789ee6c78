//! Solve times on the standard min-cost flow families, feasible and infeasible,
//! as a table that `ortools_families.py` compares with OR-Tools on the same files.
//!
//! ```text
//! cargo bench -p ercs-routing --bench families -- [--sizes 1000,10000] [--family F] [--write DIR] > ours.tsv
//! cargo bench -p ercs-routing --bench families -- --sizes 100000 --write DIR --no-solve
//! cargo bench -p ercs-routing --bench families -- --file DIR/F-N-VARIANT.min
//! ```
//!
//! The second form times one written file; `ortools_families.py --ours-bin`
//! uses it to time both solvers back to back on each file, so that a busy
//! machine slows both alike.
//!
//! Each row: family, nodes, arcs, variant (`feasible`, or `infeasible` with
//! every arc into the largest sink removed), verdict, optimal cost, and the best
//! of three solve times in ms (one for 100k nodes), parse excluded. `--write`
//! also writes each instance as `DIR/FAMILY-NODES-VARIANT.min`.

mod generate;

use std::time::Instant;

use ercs_routing::dimacs::{self, DimacsOutcome};
use generate::{FAMILIES, Instance};

const SEED: u64 = 2026;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let sizes: Vec<usize> = value("--sizes")
        .unwrap_or_else(|| "1000,10000".into())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    let write = value("--write");
    if let Some(dir) = &write {
        std::fs::create_dir_all(dir).expect("the --write directory can be made");
    }
    println!("family\tnodes\tarcs\tvariant\tverdict\tcost\tms");
    if let Some(path) = value("--file") {
        let text = std::fs::read_to_string(&path).expect("the --file can be read");
        let name = std::path::Path::new(&path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let mut parts = name.rsplitn(3, '-');
        let (variant, _, family) = (parts.next(), parts.next(), parts.next());
        time(family.unwrap_or("?"), variant.unwrap_or("?"), &text);
        return;
    }
    let only = value("--family");
    let solve = !args.iter().any(|a| a == "--no-solve");
    for &nodes in &sizes {
        for family in FAMILIES
            .iter()
            .filter(|f| only.as_deref().is_none_or(|o| o == **f))
        {
            let feasible = generate::generate(family, nodes, SEED);
            let infeasible = feasible.cut_off_largest_sink();
            for (variant, instance) in [("feasible", &feasible), ("infeasible", &infeasible)] {
                run(family, variant, instance, write.as_deref(), solve);
            }
        }
    }
}

fn run(family: &str, variant: &str, instance: &Instance, write: Option<&str>, solve: bool) {
    let text = instance.to_dimacs();
    let nodes = instance.supply.len();
    if let Some(dir) = write {
        let path = format!("{dir}/{family}-{nodes}-{variant}.min");
        std::fs::write(&path, &text).expect("the instance can be written");
    }
    if solve {
        time(family, variant, &text);
    }
}

/// Times `dimacs::solve` on `text` and prints the row.
fn time(family: &str, variant: &str, text: &str) {
    let problem = dimacs::parse(text).expect("generated files parse");
    let nodes = problem.flow.node_count();
    let repeats = if nodes >= 100_000 { 1 } else { 3 };
    let mut best = f64::INFINITY;
    let mut outcome = None;
    for _ in 0..repeats {
        let started = Instant::now();
        let solved = dimacs::solve(&problem).expect("generated files are within limits");
        best = best.min(started.elapsed().as_secs_f64() * 1e3);
        outcome = Some(solved);
    }
    let (verdict, cost) = match outcome {
        Some(DimacsOutcome::Optimal { cost, .. }) => ("optimal", cost.to_string()),
        Some(DimacsOutcome::Infeasible(_)) => ("infeasible", "-".into()),
        _ => ("unbounded", "-".into()),
    };
    println!(
        "{family}\t{nodes}\t{}\t{variant}\t{verdict}\t{cost}\t{best:.2}",
        problem.flow.arcs.len()
    );
}
