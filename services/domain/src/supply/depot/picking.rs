//! 先到期先出 — first-expiry-first-out picking, the rotation rule of the reserve.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, Utc};

use super::{LotNumber, LotPick};
use crate::DomainError;
use crate::supply::ItemCode;
use crate::values::Quantity;

/// A lot that some quantity could be taken from.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub lot_number: LotNumber,
    pub expiry: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    pub available: Quantity,
}

/// A lot is expired once its expiry lies before the command's time.
pub(crate) fn is_expired(expiry: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    expiry.is_some_and(|expiry| expiry < at)
}

/// Earliest expiry first; lots that never expire last; ties by arrival, then number.
fn fefo(a: &Candidate, b: &Candidate) -> Ordering {
    (a.expiry.is_none(), a.expiry, a.received_at, &a.lot_number).cmp(&(
        b.expiry.is_none(),
        b.expiry,
        b.received_at,
        &b.lot_number,
    ))
}

/// How a pick orders the lots it may take.
#[derive(Debug, Clone, Copy)]
pub(super) enum Order {
    /// Soonest expiry first: an issue uses stock before it expires.
    Fefo,
    /// Soonest expiry first, except that lots expiring within the margin come
    /// after every later-expiring one: stock held for a plan may wait days before
    /// it is issued, and must still be usable then.
    FefoSparing { margin: Duration },
}

/// Picks `wanted` units from unexpired lots in `order`. A refusal says how much
/// is usable, how much more is expired, and how much is `reserved` for plans.
pub(super) fn pick(
    item: &ItemCode,
    mut candidates: Vec<Candidate>,
    wanted: Quantity,
    at: DateTime<Utc>,
    order: Order,
    reserved: Quantity,
) -> Result<Vec<LotPick>, DomainError> {
    candidates.retain(|c| !c.available.is_zero());
    candidates.sort_by(fefo);
    if let Order::FefoSparing { margin } = order {
        // A stable sort keeps FEFO within each group.
        candidates.sort_by_key(|c| c.expiry.is_some_and(|expiry| expiry < at + margin));
    }
    let (usable, expired): (Vec<_>, Vec<_>) = candidates
        .into_iter()
        .partition(|c| !is_expired(c.expiry, at));
    let mut picks = Vec::new();
    let mut remaining = wanted;
    for lot in usable {
        if remaining.is_zero() {
            break;
        }
        let quantity = remaining.min(lot.available);
        remaining = remaining.saturating_sub(quantity);
        picks.push(LotPick {
            lot_number: lot.lot_number,
            quantity,
            expiry: lot.expiry,
        });
    }
    if remaining.is_zero() {
        return Ok(picks);
    }
    let expired: Quantity = expired.iter().map(|c| c.available).sum();
    Err(DomainError::InsufficientStock {
        item: item.to_string(),
        requested: wanted.get(),
        usable: wanted.saturating_sub(remaining).get(),
        expired: expired.get(),
        reserved: reserved.get(),
    })
}
