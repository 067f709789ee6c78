//! Beds: pools by EDXL-HAVE bed type and by the seeds' three-step ladder, and the
//! facility aggregate that holds them. [`BedPools`] carries all the bed rules, so a
//! convertible facility in emergency use holds exactly the same pools.
//!
//! Reports from the facility are facts and always accepted. One that leaves plans
//! holding more beds than are free over-commits the pool
//! ([`BedPool::over_committed`]) and is followed by [`ReservationsOverCommitted`],
//! the routing core's cue to re-plan; patients are never admitted beyond the free beds.

mod command;
mod counts;
mod event;
mod facility;
mod kinds;
mod pools;
mod rules;
#[cfg(test)]
mod tests;

pub use command::BedCommand;
pub use counts::BedCounts;
pub use event::*;
pub use facility::{
    Facility, FacilityCommand, FacilityEvent, FacilityKind, FacilityRegistered, FacilityState,
};
pub use kinds::{BedClass, BedType, PoolKey};
pub use pools::{BedPool, BedPools, ExpansionPhase};
