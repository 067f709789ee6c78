pub mod commands;
pub mod fallback;
pub mod feed;
pub mod health;
pub mod network;
pub mod ogc;
pub mod plans;
pub mod resources;
