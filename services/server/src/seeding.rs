//! Seeding lives in `ercs-network`, shared with the drills; re-exported here
//! so `ercs_server::seeding` keeps its meaning.

pub use ercs_network::seeding::*;
