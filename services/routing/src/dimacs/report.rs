//! What `ercs route solve` prints and the exit code it ends with, decided here
//! so that every case is unit-tested without running the binary.
//!
//! | exit | verdict    | text |
//! |------|------------|------|
//! | 0    | optimal    | `optimal cost: C`, or with `--flows` the DIMACS solution: `s C`, then `f FROM TO FLOW` for every arc in file order |
//! | 1    | bad input  | `line N: what is wrong` |
//! | 2    | infeasible | the unbalanced totals, the arc whose `LOW > CAP`, or the set of nodes that cannot send or receive enough |
//! | 3    | unbounded  | a negative-cost cycle of arcs with `CAP = -1` |

use std::fmt::Write;

use super::{DimacsOutcome, DimacsProblem, Infeasible, Total, parse, solve};
use crate::flow::feasible::Cut;

/// How a solve ended, as the command's exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Optimal = 0,
    BadInput = 1,
    Infeasible = 2,
    Unbounded = 3,
}

impl Verdict {
    pub fn exit_code(self) -> u8 {
        self as u8
    }
}

/// The verdict and the text to print (on standard error for bad input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub verdict: Verdict,
    pub text: String,
}

/// At most this many node ids are listed in a cut; the count is always given.
const LISTED_NODES: usize = 20;

/// Parses and solves `text`; `flows` asks for the DIMACS solution format.
pub fn report(text: &str, flows: bool) -> Report {
    let outcome = parse(text).and_then(|problem| Ok((solve(&problem)?, problem)));
    match outcome {
        Err(e) => Report {
            verdict: Verdict::BadInput,
            text: format!("{e}\n"),
        },
        Ok((DimacsOutcome::Optimal { cost, flows: x }, problem)) => Report {
            verdict: Verdict::Optimal,
            text: if flows {
                solution(&problem, cost, &x)
            } else {
                format!("optimal cost: {cost}\n")
            },
        },
        Ok((DimacsOutcome::Infeasible(why), _)) => Report {
            verdict: Verdict::Infeasible,
            text: format!("infeasible: {}\n", explain(&why)),
        },
        Ok((DimacsOutcome::Unbounded, _)) => Report {
            verdict: Verdict::Unbounded,
            text: "unbounded: a negative-cost cycle runs through arcs with no bound (CAP -1)\n"
                .into(),
        },
    }
}

/// `s COST` and one `f FROM TO FLOW` line per arc, in file order (so parallel
/// arcs stay apart), with 1-based node ids as in the input.
fn solution(problem: &DimacsProblem, cost: Total, flows: &[i128]) -> String {
    let mut out = format!("s {cost}\n");
    for (a, f) in problem.flow.arcs.iter().zip(flows) {
        let _ = writeln!(out, "f {} {} {f}", a.from + 1, a.to + 1);
    }
    out
}

fn explain(why: &Infeasible) -> String {
    match why {
        Infeasible::Unbalanced { supply, demand } => format!(
            "the supplies do not balance: the nodes supply {supply} in total but demand {demand}"
        ),
        Infeasible::LowerAboveCapacity(c) => format!(
            "the arc on line {} must carry at least {} but its capacity is {}",
            c.line, c.low, c.cap
        ),
        Infeasible::Cut(cut) if cut.nodes.is_empty() => "no flow meets every supply".into(),
        Infeasible::Cut(cut) => explain_cut(cut),
    }
}

fn explain_cut(cut: &Cut) -> String {
    let (verb, way) = if cut.sends {
        ("send", "leaving")
    } else {
        ("receive", "entering")
    };
    let count = cut.nodes.len();
    let mut ids: Vec<String> = cut
        .nodes
        .iter()
        .take(LISTED_NODES)
        .map(|u| (u + 1).to_string())
        .collect();
    if count > LISTED_NODES {
        ids.push(format!("and {} more", count - LISTED_NODES));
    }
    let noun = if count == 1 { "node" } else { "nodes" };
    format!(
        "{noun} {} ({count} in all) must {verb} {} net, but the arcs {way} them carry at most {}",
        ids.join(", "),
        cut.need,
        cut.capacity
    )
}
