//! Depots (储备库) in the view: the domain's own `DepotState`, folded with
//! `Depot::evolve`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use ercs_domain::area::AreaCode;
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::{DepotState, ReserveTier};

/// Which stock: reserve tier (市级—区域—区县—机构), area and item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct SupplyKey {
    pub tier: ReserveTier,
    pub area: AreaCode,
    pub item: ItemCode,
}

/// Stock of one key, in units, summed over depots. The expiry buckets split
/// `on_hand` (reserved units included) by days left at `now`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SupplyRollup {
    pub on_hand: u64,
    /// Unexpired and not held for a plan: what could be issued now.
    pub usable: u64,
    pub expired: u64,
    pub within_30_days: u64,
    pub within_90_days: u64,
    pub beyond_90_days: u64,
    pub no_expiry: u64,
    /// 储备定额 — the depots' reserve norms for the item.
    pub norm: u64,
    /// How far usable stock falls short of the norm, depot by depot.
    pub shortfall: u64,
}

impl std::ops::AddAssign for SupplyRollup {
    fn add_assign(&mut self, o: Self) {
        self.on_hand += o.on_hand;
        self.usable += o.usable;
        self.expired += o.expired;
        self.within_30_days += o.within_30_days;
        self.within_90_days += o.within_90_days;
        self.beyond_90_days += o.beyond_90_days;
        self.no_expiry += o.no_expiry;
        self.norm += o.norm;
        self.shortfall += o.shortfall;
    }
}

/// Stock rolled up by reserve tier, area and item, as of `now`.
pub fn by_item<'a>(
    depots: impl Iterator<Item = &'a DepotState>,
    now: DateTime<Utc>,
) -> BTreeMap<SupplyKey, SupplyRollup> {
    let mut rollup = BTreeMap::new();
    for depot in depots {
        let items: BTreeSet<&ItemCode> = depot.stock.keys().chain(depot.norms.keys()).collect();
        for item in items {
            let key = SupplyKey {
                tier: depot.tier,
                area: depot.area.clone(),
                item: item.clone(),
            };
            *rollup.entry(key).or_default() += item_rollup(depot, item, now);
        }
    }
    rollup
}

/// A depot's stock of each item, as of `now`.
pub fn of_depot(depot: &DepotState, now: DateTime<Utc>) -> BTreeMap<ItemCode, SupplyRollup> {
    depot
        .stock
        .keys()
        .chain(depot.norms.keys())
        .map(|item| (item.clone(), item_rollup(depot, item, now)))
        .collect()
}

fn item_rollup(depot: &DepotState, item: &ItemCode, now: DateTime<Utc>) -> SupplyRollup {
    let mut rollup = SupplyRollup::default();
    for lot in depot
        .stock
        .get(item)
        .into_iter()
        .flat_map(|lots| lots.values())
    {
        let units = u64::from(lot.quantity.get());
        rollup.on_hand += units;
        *expiry_bucket(&mut rollup, lot.expiry, now) += units;
    }
    rollup.usable = u64::from(depot.usable(item, now).get());
    rollup.norm = depot.norms.get(item).map_or(0, |q| u64::from(q.get()));
    // This item's alone: every item's would make a depot's rollup quadratic in
    // its items (it was 5 % of the server's CPU under mixed load, the feed
    // rolling up a district per event).
    rollup.shortfall = depot
        .shortfall_of(item, now)
        .map_or(0, |s| u64::from(s.missing.get()));
    rollup
}

/// The bucket a lot falls in; expired as the depot decides it (expiry before `now`).
fn expiry_bucket(
    rollup: &mut SupplyRollup,
    expiry: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> &mut u64 {
    match expiry {
        None => &mut rollup.no_expiry,
        Some(expiry) if expiry < now => &mut rollup.expired,
        Some(expiry) if expiry - now <= Duration::days(30) => &mut rollup.within_30_days,
        Some(expiry) if expiry - now <= Duration::days(90) => &mut rollup.within_90_days,
        Some(_) => &mut rollup.beyond_90_days,
    }
}
