//! Minimum-cost flow problems in the DIMACS format, so the solver can be run and
//! checked on its own (`ercs route solve FILE`) against published instances.
//!
//! ```text
//! c a comment
//! p min NODES ARCS
//! n ID SUPPLY          (nodes are numbered 1..=NODES; unlisted nodes have supply 0)
//! a FROM TO LOW CAP COST
//! ```
//!
//! Lower bounds are removed the usual way: `LOW` units are shipped up front, the
//! arc keeps `CAP − LOW`, the end nodes' supplies move by `LOW`, and `LOW × COST`
//! is added to the cost. A capacity of [`UNBOUNDED_FROM`] or more is no bound. Bad input is an error naming its line, never a panic; a
//! well-formed problem that has no solution is an outcome, not an error.

use crate::flow::{FlowArc, FlowProblem, MAX_ABS_COST, MAX_ABS_SUPPLY, MAX_NODES, UNCAPACITATED};

/// Capacities from here up mean "no bound" (generators write 2^31 − 1, 10^9, ...
/// for infinity); it keeps flows on a negative cycle finite enough to sum exactly.
pub const UNBOUNDED_FROM: i64 = MAX_ABS_SUPPLY;
use crate::simplex::{self, SolveStatus};

/// A parsed problem, lowered to zero lower bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimacsProblem {
    pub flow: FlowProblem,
    /// The lower bound of each arc, in file order.
    pub lower: Vec<i64>,
    /// Σ LOW × COST: the cost of the flow shipped up front.
    pub base_cost: i128,
    /// An arc whose lower bound exceeds its capacity makes the problem infeasible.
    pub bounds_conflict: bool,
}

/// What solving a DIMACS problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DimacsOutcome {
    /// The optimal cost and the flow on each arc, in file order.
    Optimal {
        cost: i128,
        flows: Vec<i64>,
    },
    Infeasible,
    Unbounded,
}

/// A line that could not be read, or a file missing its problem line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DimacsError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("no `p min NODES ARCS` line")]
    MissingProblemLine,
    #[error("the problem line declares {declared} arcs but the file has {found}")]
    ArcCount { declared: usize, found: usize },
}

/// Parses and solves: the optimal cost, or why there is none.
pub fn solve_dimacs(text: &str) -> Result<DimacsOutcome, DimacsError> {
    Ok(solve(&parse(text)?))
}

/// Solves a parsed problem.
pub fn solve(problem: &DimacsProblem) -> DimacsOutcome {
    if problem.bounds_conflict {
        return DimacsOutcome::Infeasible;
    }
    let (status, solver) =
        simplex::solve(&problem.flow).expect("the parser enforces the solver's limits");
    match status {
        SolveStatus::Infeasible => DimacsOutcome::Infeasible,
        SolveStatus::Unbounded => DimacsOutcome::Unbounded,
        SolveStatus::Optimal => DimacsOutcome::Optimal {
            cost: problem.base_cost + solver.total_cost(),
            flows: solver
                .flows()
                .iter()
                .zip(&problem.lower)
                .map(|(f, low)| f + low)
                .collect(),
        },
    }
}

/// Reads a DIMACS min-cost flow problem.
pub fn parse(text: &str) -> Result<DimacsProblem, DimacsError> {
    let mut parser = Parser::default();
    for (index, raw) in text.lines().enumerate() {
        parser.line(index + 1, raw)?;
    }
    parser.finish()
}

#[derive(Default)]
struct Parser {
    declared_arcs: usize,
    problem: Option<DimacsProblem>,
    supplied: Vec<bool>,
}

impl Parser {
    fn line(&mut self, line: usize, raw: &str) -> Result<(), DimacsError> {
        let mut fields = raw.split_whitespace();
        let Some(kind) = fields.next() else {
            return Ok(());
        };
        let fields: Vec<&str> = fields.collect();
        let err = |message: String| DimacsError::Line { line, message };
        match kind {
            "c" => Ok(()),
            "p" => self.problem_line(&fields).map_err(err),
            "n" => self.node_line(&fields).map_err(err),
            "a" => self.arc_line(&fields).map_err(err),
            other => Err(err(format!(
                "unknown line type `{other}` (expected c, p, n or a)"
            ))),
        }
    }

    fn problem_line(&mut self, fields: &[&str]) -> Result<(), String> {
        if self.problem.is_some() {
            return Err("a second problem line".into());
        }
        let [kind, nodes, arcs] = fields else {
            return Err("expected `p min NODES ARCS`".into());
        };
        if *kind != "min" {
            return Err(format!("problem type `{kind}` is not `min`"));
        }
        let nodes: usize = number(nodes, "NODES", 0, MAX_NODES as i64)? as usize;
        self.declared_arcs = number(arcs, "ARCS", 0, i64::from(u32::MAX))? as usize;
        self.supplied = vec![false; nodes];
        self.problem = Some(DimacsProblem {
            flow: FlowProblem {
                supply: vec![0; nodes],
                arcs: Vec::new(),
            },
            lower: Vec::new(),
            base_cost: 0,
            bounds_conflict: false,
        });
        Ok(())
    }

    fn started(&mut self) -> Result<&mut DimacsProblem, String> {
        self.problem
            .as_mut()
            .ok_or_else(|| "comes before the `p min NODES ARCS` line".into())
    }

    fn node_line(&mut self, fields: &[&str]) -> Result<(), String> {
        let [id, supply] = fields else {
            return Err("expected `n ID SUPPLY`".into());
        };
        let nodes = self.started()?.flow.node_count();
        let node = node_index(id, nodes)?;
        let supply = number(supply, "SUPPLY", -MAX_ABS_SUPPLY, MAX_ABS_SUPPLY)?;
        if std::mem::replace(&mut self.supplied[node], true) {
            return Err(format!("node {id} is given a supply twice"));
        }
        self.started()?.flow.supply[node] = supply;
        Ok(())
    }

    fn arc_line(&mut self, fields: &[&str]) -> Result<(), String> {
        let [from, to, low, cap, cost] = fields else {
            return Err("expected `a FROM TO LOW CAP COST`".into());
        };
        let declared = self.declared_arcs;
        let problem = self.started()?;
        if problem.flow.arcs.len() == declared {
            return Err(format!("more arcs than the {declared} declared"));
        }
        let nodes = problem.flow.node_count();
        let (from, to) = (node_index(from, nodes)?, node_index(to, nodes)?);
        let low = number(low, "LOW", 0, MAX_ABS_SUPPLY)?;
        let cap = number(cap, "CAP", 0, i64::MAX)?;
        let cost = number(cost, "COST", -MAX_ABS_COST, MAX_ABS_COST)?;
        problem.bounds_conflict |= low > cap;
        problem.flow.supply[from] -= low;
        problem.flow.supply[to] += low;
        if problem.flow.supply[from].abs() > MAX_ABS_SUPPLY
            || problem.flow.supply[to].abs() > MAX_ABS_SUPPLY
        {
            return Err(format!(
                "lower bounds push a node's supply beyond ±{MAX_ABS_SUPPLY}"
            ));
        }
        problem.base_cost += i128::from(low) * i128::from(cost);
        problem.lower.push(low);
        let room = (cap - low).max(0);
        let capacity = if room >= UNBOUNDED_FROM {
            UNCAPACITATED
        } else {
            room
        };
        problem.flow.arcs.push(FlowArc {
            from,
            to,
            capacity,
            cost,
        });
        Ok(())
    }

    fn finish(self) -> Result<DimacsProblem, DimacsError> {
        let problem = self.problem.ok_or(DimacsError::MissingProblemLine)?;
        let found = problem.flow.arcs.len();
        if found != self.declared_arcs {
            return Err(DimacsError::ArcCount {
                declared: self.declared_arcs,
                found,
            });
        }
        Ok(problem)
    }
}

fn number(field: &str, name: &str, min: i64, max: i64) -> Result<i64, String> {
    let value: i64 = field
        .parse()
        .map_err(|_| format!("{name} `{field}` is not an integer"))?;
    if value < min || value > max {
        return Err(format!("{name} {value} is outside {min}..={max}"));
    }
    Ok(value)
}

fn node_index(field: &str, nodes: usize) -> Result<usize, String> {
    let id = number(field, "node id", 1, nodes as i64).map_err(|e| {
        if nodes == 0 {
            "the problem has no nodes".into()
        } else {
            e
        }
    })?;
    Ok(id as usize - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(text: &str) -> usize {
        match parse(text) {
            Err(DimacsError::Line { line, .. }) => line,
            other => panic!("expected a line error, got {other:?}"),
        }
    }

    #[test]
    fn lower_bounds_are_shipped_up_front_and_counted_in_the_cost() {
        let text = "p min 2 2\nn 1 3\nn 2 -3\na 1 2 2 5 10\na 1 2 0 5 1\n";
        let outcome = solve_dimacs(text).unwrap();
        assert_eq!(
            outcome,
            DimacsOutcome::Optimal {
                cost: 2 * 10 + 1,
                flows: vec![2, 1]
            }
        );
    }

    #[test]
    fn a_lower_bound_above_the_capacity_is_infeasible() {
        assert_eq!(
            solve_dimacs("p min 2 1\na 1 2 4 3 1\n").unwrap(),
            DimacsOutcome::Infeasible
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
        assert_eq!(line_of("p min 2 1\na 1 2 0 -1 1\n"), 2);
        assert_eq!(line_of("p min 2 1\na 1 2 0 1 99999999999999999999\n"), 2);
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
}
