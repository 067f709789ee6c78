//! Seed data for ERCS, embedded in the binary so a fresh install needs no network
//! and no files beside it. The data lives in `seeds/` at the repository root, with
//! its sources, licences and the script that regenerates it.
//!
//! - [`chongqing`]: the Chongqing geography — districts with their boundaries,
//!   townships, the 一区两群 regions and the regional hubs — and the area hierarchy
//!   built from it, and its resource inventory ([`chongqing::inventory`]).
//! - [`inventory`]: facilities, teams, catalogue, depots and convertibles as domain
//!   values, and the commands that seed them.

pub mod chongqing;
pub mod drill_script;
mod error;
pub mod geography;
pub mod inventory;
mod parse;

pub use error::SeedError;
pub use geography::{City, District, Geography, Hub, Region, RegionGroup, Township};
