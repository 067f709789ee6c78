//! placeholder
pub mod dimacs;
pub mod flow;
pub mod optimality;
pub mod simplex;
pub mod synthetic;
