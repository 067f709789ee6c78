//! 应急医疗物资 — emergency medical supplies: the item catalogue (one aggregate per
//! item) and depots (储备库) holding stock in lots at one of four reserve tiers.

mod catalogue;
pub mod depot;

pub use catalogue::*;
pub use depot::*;
