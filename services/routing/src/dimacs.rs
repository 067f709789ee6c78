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
//! Every `i64` the format allows for `LOW`, `CAP` and `COST` is taken exactly:
//! problems inside the fast solver's limits run in `i64`, all others in `i128`
//! (see [`crate::simplex::Number`]), and costs are summed in a [`Total`] that
//! cannot overflow. DIMACS has no infinite capacity; as an extension, `CAP = -1`
//! means "no bound", the only way a problem can be unbounded.
//!
//! Lower bounds are removed the usual way: `LOW` units are shipped up front, the
//! arc keeps `CAP − LOW` and the end nodes' supplies move by `LOW`. Bad input is
//! an error naming its line, never a panic; a well-formed problem that has no
//! solution is an outcome that says why (see [`report`] for the command's text
//! and exit code).

mod report;
mod total;

pub use report::{Report, Verdict, report};
pub use total::Total;

use crate::flow::feasible::{self, Cut, Link};
use crate::flow::{FlowArc, FlowProblem, MAX_NODES, UNCAPACITATED};
use crate::simplex::{NetworkSimplex, Number, SolveStatus};

/// The `CAP` that means "no bound".
pub const NO_BOUND: i64 = -1;

/// A parsed problem, lowered to zero lower bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimacsProblem {
    /// Capacities are `CAP − LOW`, or [`UNCAPACITATED`] where `bounded` is false.
    pub flow: FlowProblem,
    /// Whether each arc's capacity is a bound (`CAP ≠ -1`), in file order.
    pub bounded: Vec<bool>,
    /// The lower bound of each arc, in file order.
    pub lower: Vec<i64>,
    /// The first arc whose lower bound exceeds its capacity: no flow exists.
    pub bounds_conflict: Option<BoundsConflict>,
}

/// An arc that must carry more than it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundsConflict {
    pub line: usize,
    pub low: i64,
    pub cap: i64,
}

/// What solving a DIMACS problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DimacsOutcome {
    /// The optimal cost and the flow on each arc, in file order.
    Optimal {
        cost: Total,
        flows: Vec<i128>,
    },
    Infeasible(Infeasible),
    Unbounded,
}

/// Why a well-formed problem has no feasible flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Infeasible {
    /// Σ supply ≠ Σ demand (the positive and negative `n` values).
    Unbalanced {
        supply: i128,
        demand: i128,
    },
    /// A set of nodes cannot send or receive its net supply.
    Cut(Cut),
    LowerAboveCapacity(BoundsConflict),
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
    /// Limits of the solver that the format itself does not have.
    #[error("{0}")]
    Limit(String),
}

/// Parses and solves: the optimal cost, or why there is none.
pub fn solve_dimacs(text: &str) -> Result<DimacsOutcome, DimacsError> {
    solve(&parse(text)?)
}

/// Solves a parsed problem. Feasibility is decided first, by a maximum flow
/// (see [`feasible`]): much faster than letting the big-M simplex find out,
/// and it names the cut at fault.
pub fn solve(problem: &DimacsProblem) -> Result<DimacsOutcome, DimacsError> {
    if let Some(conflict) = problem.bounds_conflict {
        return Ok(DimacsOutcome::Infeasible(Infeasible::LowerAboveCapacity(
            conflict,
        )));
    }
    if let Some(unbalanced) = problem.unbalanced() {
        return Ok(DimacsOutcome::Infeasible(unbalanced));
    }
    if let Err(why) = feasible::check(&problem.flow.supply, &problem.links()) {
        return Ok(DimacsOutcome::Infeasible(match why {
            feasible::Infeasibility::Unbalanced { supply, demand } => {
                Infeasible::Unbalanced { supply, demand }
            }
            feasible::Infeasibility::Cut(cut) => Infeasible::Cut(cut),
        }));
    }
    let limit = |e: crate::flow::FlowError| DimacsError::Limit(e.to_string());
    let lowered = if problem.fits_i64() {
        run(NetworkSimplex::new(&problem.flow).map_err(limit)?)
    } else {
        run(NetworkSimplex::exact(&problem.flow, |e| problem.bounded[e]).map_err(limit)?)
    };
    Ok(match lowered {
        Ok(flows) => problem.optimum(&flows),
        Err(SolveStatus::Unbounded) => DimacsOutcome::Unbounded,
        // The maximum flow found a feasible flow, so this is not expected; say
        // "infeasible" rather than panic.
        Err(_) => DimacsOutcome::Infeasible(Infeasible::Cut(Cut {
            nodes: Vec::new(),
            sends: true,
            need: 0,
            capacity: 0,
        })),
    })
}

/// The optimal flows of the lowered problem, or the status that is not optimal.
fn run<P: Number>(mut solver: NetworkSimplex<P>) -> Result<Vec<i128>, SolveStatus> {
    solver.saturate_negative_arcs();
    match solver.solve() {
        SolveStatus::Optimal => Ok(solver.flows().iter().map(|f| f.to_i128()).collect()),
        status => Err(status),
    }
}

impl DimacsProblem {
    /// Whether the fast `i64` solver takes this problem: costs and supplies
    /// inside its limits, and no finite capacity it would mistake for "no bound".
    fn fits_i64(&self) -> bool {
        let finite_max = self
            .flow
            .arcs
            .iter()
            .zip(&self.bounded)
            .any(|(a, &b)| b && a.capacity == UNCAPACITATED);
        !finite_max && self.flow.validate().is_ok()
    }

    /// The totals of the `n` lines as written, when they differ (lower bounds
    /// move supplies between nodes but never change the difference).
    fn unbalanced(&self) -> Option<Infeasible> {
        let mut stated: Vec<i128> = self.flow.supply.iter().map(|&b| i128::from(b)).collect();
        for (a, &low) in self.flow.arcs.iter().zip(&self.lower) {
            stated[a.from] += i128::from(low);
            stated[a.to] -= i128::from(low);
        }
        let supply: i128 = stated.iter().filter(|&&b| b > 0).sum();
        let demand: i128 = -stated.iter().filter(|&&b| b < 0).sum::<i128>();
        (supply != demand).then_some(Infeasible::Unbalanced { supply, demand })
    }

    fn links(&self) -> Vec<Link> {
        self.flow
            .arcs
            .iter()
            .zip(&self.bounded)
            .map(|(a, &b)| Link {
                from: a.from,
                to: a.to,
                capacity: b.then_some(a.capacity),
            })
            .collect()
    }

    /// Adds the lower bounds back and prices the flow.
    fn optimum(&self, lowered: &[i128]) -> DimacsOutcome {
        let flows: Vec<i128> = lowered
            .iter()
            .zip(&self.lower)
            .map(|(f, &low)| f + i128::from(low))
            .collect();
        DimacsOutcome::Optimal {
            cost: self.cost_of(&flows),
            flows,
        }
    }

    /// Σ COST × flow over the arcs in file order, exactly.
    pub fn cost_of(&self, flows: &[i128]) -> Total {
        let mut total = Total::default();
        for (a, &f) in self.flow.arcs.iter().zip(flows) {
            total.add_product(a.cost, f);
        }
        total
    }

    /// Σ LOW × COST: the cost of what is shipped up front.
    pub fn base_cost(&self) -> Total {
        let lower: Vec<i128> = self.lower.iter().map(|&l| i128::from(l)).collect();
        self.cost_of(&lower)
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
            "a" => self.arc_line(line, &fields).map_err(err),
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
            bounded: Vec::new(),
            lower: Vec::new(),
            bounds_conflict: None,
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
        let supply = number(supply, "SUPPLY", i64::MIN, i64::MAX)?;
        if std::mem::replace(&mut self.supplied[node], true) {
            return Err(format!("node {id} is given a supply twice"));
        }
        // Lower bounds may already have moved this node's supply.
        let problem = self.started()?;
        problem.flow.supply[node] = shifted(problem.flow.supply[node], i128::from(supply))?;
        Ok(())
    }

    fn arc_line(&mut self, line: usize, fields: &[&str]) -> Result<(), String> {
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
        let low = number(low, "LOW", 0, i64::MAX)?;
        let cap = number(cap, "CAP (or -1 for no bound)", NO_BOUND, i64::MAX)?;
        let cost = number(cost, "COST", i64::MIN, i64::MAX)?;
        let bounded = cap != NO_BOUND;
        if bounded && low > cap && problem.bounds_conflict.is_none() {
            problem.bounds_conflict = Some(BoundsConflict { line, low, cap });
        }
        problem.flow.supply[from] = shifted(problem.flow.supply[from], -i128::from(low))?;
        problem.flow.supply[to] = shifted(problem.flow.supply[to], i128::from(low))?;
        problem.lower.push(low);
        problem.bounded.push(bounded);
        let capacity = if bounded {
            (cap - low).max(0)
        } else {
            UNCAPACITATED
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

/// A supply moved by a lower bound, if it stays an `i64` (the only limit on
/// supplies).
fn shifted(supply: i64, by: i128) -> Result<i64, String> {
    i64::try_from(i128::from(supply) + by)
        .ok()
        .ok_or_else(|| "lower bounds and supplies push a node's supply beyond i64".into())
}

#[cfg(test)]
mod tests;
