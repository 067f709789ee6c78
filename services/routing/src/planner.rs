//! Planning, once or again and again.
//!
//! [`plan`] is a pure function of the problem. Each commodity is solved over
//! every source–demand pair by column generation ([`crate::pricing`]): solved on
//! the nearest links, then on the links pricing adds, until no pair prices out.
//! A [`Planner`] keeps each commodity's links, solver basis and pricing between
//! plans, so a re-plan after one changed need, stock or travel time pivots on
//! from the last optimum and prices again instead of starting over (see
//! [`crate::simplex::warm`]). A change that adds or removes a node (a need or
//! stock going to or from zero, a new commodity) rebuilds that one commodity
//! cold. Either way the plan is optimal over the complete network of
//! [`Planner::problem`], and its certificate verifies against it.
//!
//! A warm re-plan has the optimal cost of a cold plan of the same problem; where
//! several plans are optimal it may pick another of them. It is deterministic for
//! a given history of changes.

use crate::model::Commodity;
use crate::network::{CommodityNetwork, travel_link};
use crate::plan::{Plan, read_commodity};
use crate::pricing::{CommoditySolver, Sites};
use crate::problem::{PlanError, SurgeProblem};
use crate::travel::TravelMatrix;
use petgraph::graph::EdgeIndex;

/// Plans `problem` from scratch.
pub fn plan(problem: &SurgeProblem) -> Result<Plan, PlanError> {
    let parts = solve_parts(problem, &Sites::new(problem))?;
    Ok(assemble(problem, &parts))
}

/// A problem with its solved networks, ready for changes.
#[derive(Clone, Debug)]
pub struct Planner {
    problem: SurgeProblem,
    /// Where the sources and demands are; no change a planner makes moves them.
    sites: Sites,
    parts: Vec<Part>,
}

type Part = CommoditySolver;

/// Validates `problem` and solves every commodity cold.
fn solve_parts(problem: &SurgeProblem, sites: &Sites) -> Result<Vec<Part>, PlanError> {
    problem.validate()?;
    let commodities = problem.commodities();
    commodities
        .iter()
        .map(|c| solve_part(problem, sites, c))
        .collect()
}

/// Solves one commodity cold, from its nearest links.
fn solve_part(
    problem: &SurgeProblem,
    sites: &Sites,
    commodity: &Commodity,
) -> Result<Part, PlanError> {
    let network = CommodityNetwork::build(problem, commodity)?;
    let mut part = CommoditySolver::new(problem, sites, network)?;
    part.solve(problem)?;
    Ok(part)
}

fn assemble(problem: &SurgeProblem, parts: &[Part]) -> Plan {
    Plan::assemble(
        parts
            .iter()
            .map(|p| read_commodity(problem, &p.network, &p.solver))
            .collect(),
    )
}

impl Planner {
    pub fn new(problem: SurgeProblem) -> Result<Planner, PlanError> {
        let sites = Sites::new(&problem);
        let parts = solve_parts(&problem, &sites)?;
        Ok(Planner {
            problem,
            sites,
            parts,
        })
    }

    /// The problem as changed so far.
    pub fn problem(&self) -> &SurgeProblem {
        &self.problem
    }

    /// The current optimal plan.
    pub fn plan(&self) -> Plan {
        assemble(&self.problem, &self.parts)
    }

    /// Sets what a demand needs of a commodity.
    pub fn set_need(
        &mut self,
        demand: &str,
        commodity: &Commodity,
        quantity: u64,
    ) -> Result<(), PlanError> {
        let d = self.demand_index(demand)?;
        self.set_quantity(Holding::Need(d), demand, commodity, quantity)
    }

    /// Sets how much of a commodity a source can give.
    pub fn set_stock(
        &mut self,
        source: &str,
        commodity: &Commodity,
        quantity: u64,
    ) -> Result<(), PlanError> {
        let s = self.source_index(source)?;
        self.set_quantity(Holding::Stock(s), source, commodity, quantity)
    }

    fn set_quantity(
        &mut self,
        holding: Holding,
        id: &str,
        commodity: &Commodity,
        quantity: u64,
    ) -> Result<(), PlanError> {
        check_quantity(id, commodity, quantity)?;
        let quantities = match holding {
            Holding::Need(d) => &mut self.problem.demands[d].needs,
            Holding::Stock(s) => &mut self.problem.sources[s].offers,
        };
        let old = quantities.insert(commodity.clone(), quantity).unwrap_or(0);
        let needed = self.problem.needs(commodity);
        let part = self
            .parts
            .iter_mut()
            .find(|p| &p.network.commodity == commodity);
        let placed = part.and_then(|part| {
            let nodes = match holding {
                Holding::Need(_) => &part.network.demand_nodes,
                Holding::Stock(_) => &part.network.source_nodes,
            };
            let node = nodes.get(&holding.index()).copied()?;
            Some((part, node.index()))
        });
        match placed {
            // Need is negative supply: as it grows the demand gives supply to the
            // shortage node; stock grows the other way.
            Some((part, node)) if quantity > 0 => {
                let shortage = part.network.shortage.index();
                match holding {
                    Holding::Need(_) => {
                        shift(&self.problem, part, [node, shortage], [old, quantity])
                    }
                    Holding::Stock(_) => {
                        shift(&self.problem, part, [shortage, node], [old, quantity])
                    }
                }
            }
            None if !needed => Ok(()),
            _ => self.rebuild(commodity),
        }
    }

    fn demand_index(&self, id: &str) -> Result<usize, PlanError> {
        let found = self.problem.demands.iter().position(|x| x.id == id);
        found.ok_or_else(|| PlanError::UnknownDemand(id.into()))
    }

    fn source_index(&self, id: &str) -> Result<usize, PlanError> {
        let found = self.problem.sources.iter().position(|x| x.id == id);
        found.ok_or_else(|| PlanError::UnknownSource(id.into()))
    }

    /// Records a measured travel time and re-costs the pair in every commodity
    /// that has both ends. A linked pair changes cost; an unlinked one is priced
    /// like every other pair when the plan is made optimal again.
    pub fn set_travel_minutes(
        &mut self,
        source: &str,
        demand: &str,
        minutes: f64,
    ) -> Result<(), PlanError> {
        let (s, d) = (self.source_index(source)?, self.demand_index(demand)?);
        self.problem
            .travel
            .get_or_insert_with(TravelMatrix::default)
            .insert(source, demand, minutes);
        let link = travel_link(&self.problem, s, d);
        for part in &mut self.parts {
            let network = &mut part.network;
            if !network.source_nodes.contains_key(&s) || !network.demand_nodes.contains_key(&d) {
                continue;
            }
            part.pricing.measured(s, d);
            if let Some(&e) = network.travel_links.get(&(s, d)) {
                if let Some(weight) = network.graph.edge_weight_mut(EdgeIndex::new(e)) {
                    *weight = link;
                }
                part.solver
                    .set_cost(e, link.cost)
                    .map_err(|err| PlanError::TooLarge(err.to_string()))?;
            }
            part.solve(&self.problem)?;
        }
        Ok(())
    }

    /// Builds one commodity afresh (or drops it when nothing needs it any more).
    fn rebuild(&mut self, commodity: &Commodity) -> Result<(), PlanError> {
        self.parts.retain(|p| &p.network.commodity != commodity);
        if self.problem.needs(commodity) {
            let part = solve_part(&self.problem, &self.sites, commodity)?;
            let at = self
                .parts
                .partition_point(|p| p.network.commodity < *commodity);
            self.parts.insert(at, part);
        }
        Ok(())
    }
}

/// Whose quantity changes: a demand's need or a source's stock (problem indices).
#[derive(Clone, Copy)]
enum Holding {
    Need(usize),
    Stock(usize),
}

impl Holding {
    fn index(self) -> usize {
        match self {
            Holding::Need(i) | Holding::Stock(i) => i,
        }
    }
}

/// Follows a quantity going from `old` to `new`: as it grows, `giver` sends the
/// difference less and `taker` sends it more (and the reverse as it shrinks).
fn shift(
    problem: &SurgeProblem,
    part: &mut Part,
    [giver, taker]: [usize; 2],
    [old, new]: [u64; 2],
) -> Result<(), PlanError> {
    let result = if new >= old {
        part.solver.move_supply(giver, taker, (new - old) as i64)
    } else {
        part.solver.move_supply(taker, giver, (old - new) as i64)
    };
    result.map_err(|e| PlanError::TooLarge(e.to_string()))?;
    let supply = part.solver.supply();
    part.network.supply.copy_from_slice(supply);
    part.solve(problem)
}

fn check_quantity(id: &str, commodity: &Commodity, quantity: u64) -> Result<(), PlanError> {
    if quantity > crate::problem::MAX_QUANTITY {
        return Err(PlanError::QuantityTooLarge {
            id: id.into(),
            commodity: commodity.clone(),
            quantity,
        });
    }
    Ok(())
}
