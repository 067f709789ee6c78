//! Fixtures shared by the unit tests.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::decider::{CommandContext, Stamped};
use crate::geo::GeoPoint;
use crate::values::{Actor, Reason};

/// 2025-07-01T08:00:00Z, when every scenario starts.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 1, 8, 0, 0)
        .single()
        .unwrap_or_default()
}

/// `minutes` after [`t0`].
pub fn t(minutes: i64) -> DateTime<Utc> {
    t0() + TimeDelta::minutes(minutes)
}

/// `days` after [`t0`].
pub fn day(days: i64) -> DateTime<Utc> {
    t0() + TimeDelta::days(days)
}

pub fn stamp_at<C>(at: DateTime<Utc>, command: C) -> Stamped<C> {
    CommandContext::new(Actor::parse("dispatcher-01").unwrap(), at).stamp(command)
}

/// A command issued at [`t0`].
pub fn stamp<C>(command: C) -> Stamped<C> {
    stamp_at(t0(), command)
}

pub fn reason(text: &str) -> Reason {
    Reason::parse(text).unwrap()
}

/// 万州区人民医院, roughly.
pub fn wanzhou() -> GeoPoint {
    GeoPoint::new(108.38, 30.81).unwrap()
}
