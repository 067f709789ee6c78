//! One network (卫生应急资源“一张网”) as something both the live service and every
//! drill instantiate, so that nothing of a drill depends on the HTTP server and
//! nothing is written twice.
//!
//! - [`seeding`]: loads a seed (the Chongqing plan) into a log through the
//!   command path, idempotently.
//!
//! The processes that run between commands (transfer settlement, plan
//! approval, incident release) still live in `ercs-server` and move here next
//! (issue 13, "architecture first").

pub mod seeding;
