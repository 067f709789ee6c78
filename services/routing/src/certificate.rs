//! The certificate of optimality that travels with every plan.
//!
//! A dispatcher, an auditor or a test can re-check a plan without trusting the
//! solver: rebuild the networks from the problem, put the certificate's flows on
//! them, and check the optimality conditions against its potentials
//! ([`crate::optimality`]). Potentials are keyed by node name and flows by the
//! names of their ends, so the certificate reads on its own in the plan's JSON.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::Commodity;
use crate::network::CommodityNetwork;
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
    #[error("{commodity}: the flows cost {actual}, not the {claimed} claimed")]
    Cost {
        commodity: Commodity,
        claimed: i128,
        actual: i128,
    },
}

impl Certificate {
    /// Confirms flow conservation, capacities and complementary slackness on the
    /// networks rebuilt from `problem`, and that the claimed costs are the flows'.
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
            part.verify(problem, &CommodityNetwork::build(problem, &part.commodity)?)?;
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

    fn verify(
        &self,
        problem: &SurgeProblem,
        net: &CommodityNetwork,
    ) -> Result<(), CertificateError> {
        let commodity = &self.commodity;
        let labels: Vec<String> = net
            .graph
            .node_indices()
            .map(|n| net.label(problem, n))
            .collect();
        let potentials = labels
            .iter()
            .map(|node| {
                let missing = || CertificateError::MissingPotential {
                    commodity: commodity.clone(),
                    node: node.clone(),
                };
                self.potentials.get(node).copied().ok_or_else(missing)
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let link_of: HashMap<(&str, &str), usize> = net
            .graph
            .raw_edges()
            .iter()
            .enumerate()
            .map(|(e, edge)| {
                (
                    (
                        labels[edge.source().index()].as_str(),
                        labels[edge.target().index()].as_str(),
                    ),
                    e,
                )
            })
            .collect();
        let mut flows = vec![0i64; net.graph.edge_count()];
        for f in &self.flows {
            let unknown = || CertificateError::UnknownLink {
                commodity: commodity.clone(),
                from: f.from.clone(),
                to: f.to.clone(),
            };
            flows[*link_of
                .get(&(f.from.as_str(), f.to.as_str()))
                .ok_or_else(unknown)?] += f.flow;
        }
        let flow_problem = net.flow_problem();
        optimality::check(&flow_problem, &flows, &potentials).map_err(|violation| {
            CertificateError::Violated {
                commodity: commodity.clone(),
                violation,
            }
        })?;
        let actual = flow_problem.cost_of(&flows);
        if actual != self.cost {
            return Err(CertificateError::Cost {
                commodity: commodity.clone(),
                claimed: self.cost,
                actual,
            });
        }
        Ok(())
    }
}
