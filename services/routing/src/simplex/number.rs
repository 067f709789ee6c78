//! The two widths the simplex runs in.
//!
//! `i64` is the fast one, for problems inside [`crate::flow::MAX_ABS_COST`] and
//! [`crate::flow::MAX_ABS_SUPPLY`]; `i128` takes any `i64` cost and capacity
//! exactly. The code is the same: only the width of the numbers changes.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

/// A signed integer the simplex computes flows, costs and potentials in.
pub trait Number:
    Copy
    + Ord
    + Debug
    + std::fmt::Display
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + From<i64>
{
    const ZERO: Self;
    /// The capacity of an arc with no bound (and of the artificial arcs).
    const INF: Self;

    fn abs(self) -> Self;

    fn to_i128(self) -> i128;

    /// `value` in this width, if sums of such values stay exact here (for
    /// `i64`: at most 2^62, so that flows added along a cycle cannot overflow).
    fn from_total(value: i128) -> Option<Self>;

    /// The artificial arcs' cost: more than any simple path of real arcs, so an
    /// optimum that still uses one proves the problem infeasible.
    fn big_m(max_abs_cost: u64, nodes: usize) -> Self;
}

impl Number for i64 {
    const ZERO: Self = 0;
    const INF: Self = i64::MAX;

    fn abs(self) -> Self {
        i64::abs(self)
    }

    fn to_i128(self) -> i128 {
        i128::from(self)
    }

    fn from_total(value: i128) -> Option<Self> {
        (value.unsigned_abs() <= 1 << 62).then_some(value as i64)
    }

    /// Bounded rather than `i64::MAX / 2` as in LEMON, which leaves room to add
    /// potentials without overflow checks (costs are at most 2^40 here).
    fn big_m(max_abs_cost: u64, nodes: usize) -> Self {
        let m = (i128::from(max_abs_cost) + 1) * (nodes as i128 + 1);
        i64::try_from(m).unwrap_or(i64::MAX / 4)
    }
}

impl Number for i128 {
    const ZERO: Self = 0;
    const INF: Self = i128::MAX;

    fn abs(self) -> Self {
        i128::abs(self)
    }

    fn to_i128(self) -> i128 {
        self
    }

    /// Sums of `i64` capacities over at most 2^32 arcs stay below 2^96.
    fn from_total(value: i128) -> Option<Self> {
        Some(value)
    }

    /// At most 2^64 × 2^20: potentials, sums of a path of such costs, stay
    /// below 2^105.
    fn big_m(max_abs_cost: u64, nodes: usize) -> Self {
        (i128::from(max_abs_cost) + 1) * (nodes as i128 + 1)
    }
}
