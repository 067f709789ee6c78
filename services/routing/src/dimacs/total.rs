//! The cost of a DIMACS solution, exactly.
//!
//! Costs and capacities may each be up to 2^63, so one arc's cost × flow needs
//! 127 bits and the sum over many arcs more than `i128` holds. A [`Total`] is
//! `high · 2^64 + low`, wide enough for any file within the parser's limits
//! (2^32 arcs, flows below 2^100).

use std::fmt;

/// An exact sum of `cost × flow` terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Total {
    high: i128,
    low: u64,
}

const LOW_BITS: u32 = 64;
const LOW_MASK: i128 = (1 << LOW_BITS) - 1;

impl Total {
    /// Adds `cost × flow`, splitting the flow so that no product overflows.
    pub fn add_product(&mut self, cost: i64, flow: i128) {
        let cost = i128::from(cost);
        let (flow_high, flow_low) = (flow >> LOW_BITS, flow & LOW_MASK);
        self.high += cost * flow_high;
        self.add_term(cost * flow_low);
    }

    /// Adds a term that fits `i128`.
    pub fn add_term(&mut self, term: i128) {
        let sum = i128::from(self.low) + (term & LOW_MASK);
        self.high += (term >> LOW_BITS) + (sum >> LOW_BITS);
        self.low = (sum & LOW_MASK) as u64;
    }

    /// The value, when it fits `i128` (every realistic instance).
    pub fn to_i128(self) -> Option<i128> {
        let high = i64::try_from(self.high).ok()?;
        Some((i128::from(high) << LOW_BITS) | i128::from(self.low))
    }
}

impl From<i128> for Total {
    fn from(value: i128) -> Self {
        let mut total = Total::default();
        total.add_term(value);
        total
    }
}

impl std::ops::Add for Total {
    type Output = Total;

    fn add(mut self, other: Total) -> Total {
        self.high += other.high;
        self.add_term(i128::from(other.low));
        self
    }
}

impl fmt::Display for Total {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(value) = self.to_i128() {
            return write!(f, "{value}");
        }
        // |value| as (high, low) with high ≥ 0, printed 19 digits at a time.
        let negative = self.high < 0;
        let (mut high, mut low) = if negative {
            let borrow = u128::from(self.low != 0);
            ((-self.high) as u128 - borrow, self.low.wrapping_neg())
        } else {
            (self.high as u128, self.low)
        };
        const CHUNK: u128 = 10_000_000_000_000_000_000;
        let mut chunks = Vec::new();
        while high != 0 || low != 0 {
            let rest = ((high % CHUNK) << LOW_BITS) | u128::from(low);
            high /= CHUNK;
            low = (rest / CHUNK) as u64;
            chunks.push(rest % CHUNK);
        }
        let sign = if negative { "-" } else { "" };
        let (first, rest) = chunks
            .split_last()
            .expect("a value beyond i128 is not zero");
        write!(f, "{sign}{first}")?;
        rest.iter().rev().try_for_each(|c| write!(f, "{c:019}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_sums_are_plain_integers() {
        let mut t = Total::default();
        t.add_product(-3, 7);
        t.add_product(2, 4);
        assert_eq!(t.to_i128(), Some(-13));
        assert_eq!(t.to_string(), "-13");
    }

    #[test]
    fn sums_beyond_i128_are_printed_exactly() {
        // 4 × (2^63 − 1) × (2^63 − 1) = 4 × 85070591730234615847396907784232501249.
        let mut t = Total::default();
        for _ in 0..4 {
            t.add_product(i64::MAX, i128::from(i64::MAX));
        }
        assert_eq!(t.to_i128(), None);
        assert_eq!(t.to_string(), "340282366920938463389587631136930004996");
        let mut n = Total::default();
        for _ in 0..4 {
            n.add_product(i64::MIN + 1, i128::from(i64::MAX));
        }
        assert_eq!(n.to_string(), "-340282366920938463389587631136930004996");
    }

    #[test]
    fn negative_and_positive_terms_cancel_exactly() {
        let mut t = Total::default();
        t.add_product(i64::MAX, i128::from(i64::MAX));
        t.add_product(i64::MAX, i128::from(i64::MAX));
        t.add_product(i64::MIN + 1, i128::from(i64::MAX));
        t.add_product(i64::MIN + 1, i128::from(i64::MAX));
        t.add_term(5);
        assert_eq!(t, Total::from(5));
    }
}
