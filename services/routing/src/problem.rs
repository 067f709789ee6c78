//! A surge planning problem, checked before anything is built from it.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::model::{Commodity, Demand, Source};
use crate::settings::Settings;
use crate::travel::TravelMatrix;

/// Everything one plan is computed from. The same problem always gives the same
/// plan, whatever order its sources and demands come in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SurgeProblem {
    pub sources: Vec<Source>,
    pub demands: Vec<Demand>,
    #[serde(default)]
    pub settings: Settings,
    /// Measured times that replace the road model's estimates, pair by pair.
    #[serde(default)]
    pub travel: Option<TravelMatrix>,
}

/// Why a problem cannot be planned. Each names what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("two sources have the id `{0}`")]
    DuplicateSource(String),
    #[error("two demands have the id `{0}`")]
    DuplicateDemand(String),
    #[error("an id is empty")]
    EmptyId,
    #[error("`{0}` is not at a valid WGS-84 longitude/latitude")]
    InvalidLocation(String),
    #[error("`{id}` has {quantity} of {commodity}, more than the supported {MAX_QUANTITY}")]
    QuantityTooLarge {
        id: String,
        commodity: Commodity,
        quantity: u64,
    },
    #[error("the road model needs a circuity ≥ 1 and positive, finite speeds")]
    InvalidRoadModel,
    #[error("the problem is too large: {0}")]
    TooLarge(String),
    #[error("no source `{0}`")]
    UnknownSource(String),
    #[error("no demand `{0}`")]
    UnknownDemand(String),
}

/// A cap on any one quantity, far above any real stock, that keeps sums exact.
pub const MAX_QUANTITY: u64 = 1 << 32;

impl SurgeProblem {
    pub fn validate(&self) -> Result<(), PlanError> {
        if !self.settings.roads.is_valid() {
            return Err(PlanError::InvalidRoadModel);
        }
        unique(
            self.sources.iter().map(|s| s.id.as_str()),
            PlanError::DuplicateSource,
        )?;
        unique(
            self.demands.iter().map(|d| d.id.as_str()),
            PlanError::DuplicateDemand,
        )?;
        let sites = self.sources.iter().map(|s| (&s.id, s.location, &s.offers));
        let sites = sites.chain(self.demands.iter().map(|d| (&d.id, d.location, &d.needs)));
        for (id, location, quantities) in sites {
            if !location.is_valid() {
                return Err(PlanError::InvalidLocation(id.clone()));
            }
            if let Some((commodity, &quantity)) =
                quantities.iter().find(|(_, q)| **q > MAX_QUANTITY)
            {
                let commodity = commodity.clone();
                return Err(PlanError::QuantityTooLarge {
                    id: id.clone(),
                    commodity,
                    quantity,
                });
            }
        }
        Ok(())
    }

    /// The commodities some demand needs, in order: each is planned on its own.
    pub fn commodities(&self) -> Vec<Commodity> {
        let needed = self
            .demands
            .iter()
            .flat_map(|d| d.needs.iter().filter(|(_, q)| **q > 0));
        let distinct: BTreeSet<&Commodity> = needed.map(|(c, _)| c).collect();
        distinct.into_iter().cloned().collect()
    }

    /// Whether some demand needs `commodity` (cheaper than [`Self::commodities`]).
    pub fn needs(&self, commodity: &Commodity) -> bool {
        let need = |d: &Demand| d.needs.get(commodity).is_some_and(|&q| q > 0);
        self.demands.iter().any(need)
    }
}

fn unique<'a>(
    ids: impl Iterator<Item = &'a str>,
    dup: fn(String) -> PlanError,
) -> Result<(), PlanError> {
    let mut seen = HashSet::new();
    for id in ids {
        if id.is_empty() {
            return Err(PlanError::EmptyId);
        }
        if !seen.insert(id) {
            return Err(dup(id.to_owned()));
        }
    }
    Ok(())
}
