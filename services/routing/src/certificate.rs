//! The certificate of optimality that travels with every plan.
//!
//! A dispatcher, an auditor or a test can re-check a plan without trusting the
//! solver: rebuild each commodity's nodes from the problem, link the pairs the
//! certificate's flows use, check the optimality conditions on them against its
//! potentials ([`crate::optimality`]), and then check that **every** source–demand
//! pair, linked or not, has a non-negative reduced cost, each computed from the
//! problem with the cost the planner uses ([`travel_link`]). That last check is
//! what makes the proof cover the complete network: a plan optimal only over a
//! subset of the pairs fails it. Potentials are keyed by node name and flows by
//! the names of their ends, so the certificate reads on its own in the plan's JSON.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::Commodity;
use crate::network::{CommodityNetwork, Site, travel_link};
use crate::optimality::{self, Violation};
use crate::problem::{PlanError, SurgeProblem};
use crate::simplex::NetworkSimplex;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    pub commodities: Vec<CommodityCertificate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommodityCertificate {
    pub commodity: Commodity,
    pub cost: i128,
    /// The dual value of every node, by name (`source:<id>`, `demand:<id>`, `shortage`).
    pub potentials: BTreeMap<String, i64>,
    /// Every link that carries flow.
    pub flows: Vec<LinkFlow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFlow {
    pub from: String,
    pub to: String,
    pub flow: i64,
}

/// Why a certificate does not prove its plan optimal for a problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("the problem itself is invalid: {0}")]
    Problem(#[from] PlanError),
    #[error("the certificate covers {found:?} but the problem needs {expected:?}")]
    Commodities {
        expected: Vec<String>,
        found: Vec<String>,
    },
    #[error("{commodity}: no potential for node `{node}`")]
    MissingPotential { commodity: Commodity, node: String },
    #[error("{commodity}: no link {from} → {to} in the network")]
    UnknownLink {
        commodity: Commodity,
        from: String,
        to: String,
    },
    #[error("{commodity}: {violation}")]
    Violated {
        commodity: Commodity,
        violation: Violation,
    },
    #[error(
        "{commodity}: {from} → {to} has reduced cost {reduced_cost} < 0, so the plan is \
         not optimal over every source–demand pair"
    )]
    CheaperPair {
        commodity: Commodity,
        from: String,
        to: String,
        reduced_cost: i128,
    },
    #[error("{commodity}: the flows cost {actual}, not the {claimed} claimed")]
    Cost {
        commodity: Commodity,
        claimed: i128,
        actual: i128,
    },
}

impl Certificate {
    /// Confirms flow conservation, capacities and complementary slackness on the
    /// networks rebuilt from `problem`, that no source–demand pair prices out, and
    /// that the claimed costs are the flows'.
    pub fn verify(&self, problem: &SurgeProblem) -> Result<(), CertificateError> {
        problem.validate()?;
        let expected = problem.commodities();
        let found: Vec<Commodity> = self
            .commodities
            .iter()
            .map(|c| c.commodity.clone())
            .collect();
        if expected != found {
            let names = |cs: &[Commodity]| cs.iter().map(Commodity::to_string).collect();
            return Err(CertificateError::Commodities {
                expected: names(&expected),
                found: names(&found),
            });
        }
        for part in &self.commodities {
            part.verify(problem)?;
        }
        Ok(())
    }
}

impl CommodityCertificate {
    pub(crate) fn from_solver(
        problem: &SurgeProblem,
        net: &CommodityNetwork,
        solver: &NetworkSimplex,
    ) -> Self {
        let potentials = solver.potentials();
        let flows = net
            .graph
            .raw_edges()
            .iter()
            .zip(solver.flows())
            .filter(|(_, f)| **f > 0);
        CommodityCertificate {
            commodity: net.commodity.clone(),
            cost: solver.total_cost(),
            potentials: net
                .graph
                .node_indices()
                .map(|n| (net.label(problem, n), potentials[n.index()]))
                .collect(),
            flows: flows
                .map(|(e, &flow)| LinkFlow {
                    from: net.label(problem, e.source()),
                    to: net.label(problem, e.target()),
                    flow,
                })
                .collect(),
        }
    }

    fn verify(&self, problem: &SurgeProblem) -> Result<(), CertificateError> {
        let mut net = CommodityNetwork::build_unlinked(problem, &self.commodity)?;
        self.link_flows(problem, &mut net);
        let labels: Vec<String> = net
            .graph
            .node_indices()
            .map(|n| net.label(problem, n))
            .collect();
        let potentials = self.potentials_of(&labels)?;
        let flows = self.flows_on(&net, &labels)?;
        let flow_problem = net.flow_problem();
        optimality::check(&flow_problem, &flows, &potentials).map_err(|violation| {
            self.error(|commodity| CertificateError::Violated {
                commodity,
                violation,
            })
        })?;
        self.check_every_pair(problem, &net, &potentials, &labels)?;
        let actual = flow_problem.cost_of(&flows);
        if actual != self.cost {
            return Err(self.error(|commodity| CertificateError::Cost {
                commodity,
                claimed: self.cost,
                actual,
            }));
        }
        Ok(())
    }

    fn error(&self, make: impl FnOnce(Commodity) -> CertificateError) -> CertificateError {
        make(self.commodity.clone())
    }

    /// Links each source–demand pair a flow names, so the flow has a link to sit on.
    fn link_flows(&self, problem: &SurgeProblem, net: &mut CommodityNetwork) {
        let node_of: HashMap<String, Site> = net
            .graph
            .node_indices()
            .map(|n| (net.label(problem, n), net.graph[n]))
            .collect();
        for f in &self.flows {
            if let (Some(Site::Source(s)), Some(Site::Demand(d))) =
                (node_of.get(&f.from), node_of.get(&f.to))
            {
                net.add_travel_link(problem, *s, *d);
            }
        }
    }

    fn potentials_of(&self, labels: &[String]) -> Result<Vec<i64>, CertificateError> {
        labels
            .iter()
            .map(|node| {
                let missing = || {
                    self.error(|commodity| CertificateError::MissingPotential {
                        commodity,
                        node: node.clone(),
                    })
                };
                self.potentials.get(node).copied().ok_or_else(missing)
            })
            .collect()
    }

    /// The certificate's flows laid on the network's links.
    fn flows_on(
        &self,
        net: &CommodityNetwork,
        labels: &[String],
    ) -> Result<Vec<i64>, CertificateError> {
        let link_of: HashMap<(&str, &str), usize> = net
            .graph
            .raw_edges()
            .iter()
            .enumerate()
            .map(|(e, edge)| {
                let ends = (
                    labels[edge.source().index()].as_str(),
                    labels[edge.target().index()].as_str(),
                );
                (ends, e)
            })
            .collect();
        let mut flows = vec![0i64; net.graph.edge_count()];
        for f in &self.flows {
            let unknown = || {
                self.error(|commodity| CertificateError::UnknownLink {
                    commodity,
                    from: f.from.clone(),
                    to: f.to.clone(),
                })
            };
            let e = *link_of
                .get(&(f.from.as_str(), f.to.as_str()))
                .ok_or_else(unknown)?;
            flows[e] = flows[e].saturating_add(f.flow);
        }
        Ok(flows)
    }

    /// Every source–demand pair of the complete network, linked or not, must
    /// have a non-negative reduced cost (the links are uncapacitated).
    fn check_every_pair(
        &self,
        problem: &SurgeProblem,
        net: &CommodityNetwork,
        potentials: &[i64],
        labels: &[String],
    ) -> Result<(), CertificateError> {
        for (&d, &to) in &net.demand_nodes {
            let pi_d = i128::from(potentials[to.index()]);
            for (&s, &from) in &net.source_nodes {
                let cost = i128::from(travel_link(problem, s, d).cost);
                let reduced_cost = cost + i128::from(potentials[from.index()]) - pi_d;
                if reduced_cost < 0 {
                    return Err(self.error(|commodity| CertificateError::CheaperPair {
                        commodity,
                        from: labels[from.index()].clone(),
                        to: labels[to.index()].clone(),
                        reduced_cost,
                    }));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{AreaPath, Demand, Point, Priority, Source, SourceKind};

    fn at(km: f64, township: &str) -> (Point, AreaPath) {
        let area = AreaPath {
            township: Some(township.into()),
            district: Some(township[..6].into()),
            region: Some("wanzhou-sanxia".into()),
            city: Some("500000".into()),
        };
        (Point::new(108.38 + km / 95.5, 30.8), area)
    }

    /// One demand for 4 ventilators, 1 km from a depot holding 1 and 40 km from
    /// one holding 10, linked at first only to the nearer.
    fn near_and_far() -> SurgeProblem {
        let ventilator = Commodity::supply("ventilator");
        let source = |id: &str, km, stock| {
            let (location, area) = at(km, "500101002");
            Source {
                id: id.into(),
                kind: SourceKind::DepotStock,
                location,
                area,
                available_after_minutes: 0,
                offers: BTreeMap::from([(ventilator.clone(), stock)]),
            }
        };
        let (location, area) = at(0.0, "500101001");
        let mut problem = SurgeProblem {
            sources: vec![source("near", 1.0, 1), source("far", 40.0, 10)],
            demands: vec![Demand {
                id: "d".into(),
                location,
                area,
                priority: Priority::Red,
                needs: BTreeMap::from([(ventilator.clone(), 4)]),
            }],
            ..SurgeProblem::default()
        };
        problem.settings.nearest_sources = 1;
        problem.settings.nearest_per_tier = 0;
        problem
    }

    #[test]
    fn a_certificate_made_over_the_nearest_links_only_is_rejected() {
        let problem = near_and_far();
        let commodity = problem.commodities()[0].clone();
        let net = CommodityNetwork::build(&problem, &commodity).unwrap();
        let mut solver = net.solver().unwrap();
        solver.solve();
        // A sound proof for the links it was solved over (3 units go short)...
        optimality::check(&net.flow_problem(), solver.flows(), &solver.potentials()).unwrap();
        let restricted = Certificate {
            commodities: vec![CommodityCertificate::from_solver(&problem, &net, &solver)],
        };
        // ...but the unlinked far depot prices out, so not for the city.
        match restricted.verify(&problem) {
            Err(CertificateError::CheaperPair { from, to, .. }) => {
                assert_eq!((from.as_str(), to.as_str()), ("source:far", "demand:d"))
            }
            other => panic!("expected the far depot to price out, got {other:?}"),
        }
        let plan = crate::plan(&problem).unwrap();
        assert_eq!(plan.certificate.verify(&problem), Ok(()));
    }
}
