//! A depot's state and how each event changes it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::picking::{Candidate, is_expired};
use super::{Delivery, DepotEvent, LotNumber, LotPick, ReserveTier};
use crate::area::AreaCode;
use crate::decider::corrupt_stream;
use crate::geo::GeoPoint;
use crate::ids::{DepotId, IncidentId, PlanId, ShipmentId, TransferId};
use crate::supply::ItemCode;
use crate::values::{Name, Quantity};

/// The depot aggregate; stream `depot-<uuid>`.
pub struct Depot;

/// One lot (批次) of one item at a depot. Its quantity includes any reserved part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lot {
    pub quantity: Quantity,
    #[cfg_attr(feature = "openapi", schema(example = "2027-06-30T00:00:00Z"))]
    pub expiry: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(example = "2025-06-01T09:30:00Z"))]
    pub received_at: DateTime<Utc>,
}

/// A transfer this depot dispatched that is not settled yet: neither completed
/// (received at the destination) nor returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outbound {
    pub to: DepotId,
    pub item: ItemCode,
    pub picks: Vec<LotPick>,
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-23T09:40:00Z"))]
    pub dispatched_at: DateTime<Utc>,
    /// When it is expected at the destination; none for a transfer received at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-23T14:00:00Z"))]
    pub expected_arrival: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentId>,
}

/// Where a consignment of issued stock stands (EDXL-RM: dispatched → received).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "in_transit")
)]
pub enum ShipmentState {
    /// On its way; `delivery.expected_arrival` says when it is due.
    InTransit,
    /// 签收: the destination signed for it.
    Delivered,
    /// 拒收: refused and back in the depot's lots.
    Returned,
}

/// A consignment this depot issued to a destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shipment {
    pub item: ItemCode,
    pub picks: Vec<LotPick>,
    pub delivery: Delivery,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentId>,
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-23T09:40:00Z"))]
    pub dispatched_at: DateTime<Utc>,
    pub state: ShipmentState,
    /// Who signed for it, once delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_by: Option<Name>,
    /// When it was signed for or returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(example = "2026-11-23T11:40:00Z"))]
    pub settled_at: Option<DateTime<Utc>>,
}

impl Shipment {
    pub fn quantity(&self) -> u32 {
        self.picks.iter().map(|p| p.quantity.get()).sum()
    }

    pub fn in_transit(&self) -> bool {
        self.state == ShipmentState::InTransit
    }
}

/// How far an item's usable stock falls short of its reserve norm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    pub item: ItemCode,
    pub minimum: Quantity,
    pub usable: Quantity,
    pub missing: Quantity,
}

/// A registered depot as its events leave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepotState {
    pub id: DepotId,
    pub name: Name,
    pub tier: ReserveTier,
    pub area: AreaCode,
    pub location: GeoPoint,
    pub stock: BTreeMap<ItemCode, BTreeMap<LotNumber, Lot>>,
    /// What each plan holds, lot by lot; serialized as `[[plan, item], lots]` pairs.
    #[serde(with = "crate::map_as_pairs")]
    #[cfg_attr(feature = "openapi", schema(
        value_type = Vec<((PlanId, ItemCode), BTreeMap<LotNumber, Quantity>)>
    ))]
    pub reservations: BTreeMap<(PlanId, ItemCode), BTreeMap<LotNumber, Quantity>>,
    pub norms: BTreeMap<ItemCode, Quantity>,
    /// Transfers dispatched and not yet settled (returned, or received and
    /// completed). A settled transfer leaves nothing here: what it moved is in
    /// the log, and the log's key for its settlement is what refuses a second
    /// settlement or a reused id (see the module doc).
    pub outbound: BTreeMap<TransferId, Outbound>,
    /// Consignments issued to a destination, in transit or settled.
    #[serde(default)]
    pub shipments: BTreeMap<ShipmentId, Shipment>,
}

impl DepotState {
    pub(super) fn registered(e: &super::DepotRegistered) -> Self {
        Self {
            id: e.depot_id,
            name: e.name.clone(),
            tier: e.tier,
            area: e.area.clone(),
            location: e.location,
            stock: BTreeMap::new(),
            reservations: BTreeMap::new(),
            norms: BTreeMap::new(),
            outbound: BTreeMap::new(),
            shipments: BTreeMap::new(),
        }
    }

    pub fn lot(&self, item: &ItemCode, lot: &LotNumber) -> Option<&Lot> {
        self.stock.get(item)?.get(lot)
    }

    /// How much of a lot all plans together hold.
    pub fn reserved_in(&self, item: &ItemCode, lot: &LotNumber) -> Quantity {
        self.reservations
            .iter()
            .filter(|((_, i), _)| i == item)
            .filter_map(|(_, lots)| lots.get(lot))
            .copied()
            .sum()
    }

    /// Everything held of an item: expired, reserved and free. Exact: the deciders keep
    /// each item's stock at one depot within a [`Quantity`] (see `Rules::check_room`).
    pub fn on_hand(&self, item: &ItemCode) -> Quantity {
        self.stock
            .get(item)
            .map(|lots| lots.values().map(|l| l.quantity).sum())
            .unwrap_or_default()
    }

    /// Everything held, all items, in units (u64: many items may together pass u32::MAX).
    pub fn total_on_hand(&self) -> u64 {
        self.stock
            .values()
            .flat_map(|lots| lots.values())
            .map(|l| u64::from(l.quantity.get()))
            .sum()
    }

    /// What could be issued or reserved at `at`: unexpired and not held for a plan.
    pub fn usable(&self, item: &ItemCode, at: DateTime<Utc>) -> Quantity {
        self.free_candidates(item)
            .into_iter()
            .filter(|c| !is_expired(c.expiry, at))
            .map(|c| c.available)
            .sum()
    }

    /// Items whose usable stock is below their reserve norm (储备定额) at `at`.
    pub fn shortfalls(&self, at: DateTime<Utc>) -> Vec<Shortfall> {
        self.norms
            .keys()
            .filter_map(|item| self.shortfall_of(item, at))
            .collect()
    }

    /// How far `item`'s usable stock falls below its reserve norm at `at`, if
    /// it has a norm and falls below it.
    pub fn shortfall_of(&self, item: &ItemCode, at: DateTime<Utc>) -> Option<Shortfall> {
        let minimum = *self.norms.get(item)?;
        let usable = self.usable(item, at);
        let missing = minimum.checked_sub(usable).filter(|m| !m.is_zero())?;
        Some(Shortfall {
            item: item.clone(),
            minimum,
            usable,
            missing,
        })
    }

    /// Units of `item` held for plans, every lot and plan together.
    pub(super) fn reserved_of(&self, item: &ItemCode) -> Quantity {
        self.reservations
            .iter()
            .filter(|((_, held), _)| held == item)
            .flat_map(|(_, lots)| lots.values().copied())
            .sum()
    }

    /// Lots with their unreserved quantity.
    pub(super) fn free_candidates(&self, item: &ItemCode) -> Vec<Candidate> {
        let Some(lots) = self.stock.get(item) else {
            return Vec::new();
        };
        lots.iter()
            .map(|(number, lot)| {
                candidate(
                    number,
                    lot,
                    lot.quantity.saturating_sub(self.reserved_in(item, number)),
                )
            })
            .collect()
    }

    /// Lots with the quantity `plan` holds in each; `None` when it holds nothing.
    pub(super) fn reserved_candidates(
        &self,
        plan: PlanId,
        item: &ItemCode,
    ) -> Option<Vec<Candidate>> {
        let held = self.reservations.get(&(plan, item.clone()))?;
        Some(
            held.iter()
                .filter_map(|(number, &quantity)| {
                    Some(candidate(number, self.lot(item, number)?, quantity))
                })
                .collect(),
        )
    }

    pub(super) fn apply(mut self, event: &DepotEvent) -> Self {
        match event {
            DepotEvent::DepotRegistered(_) => {}
            DepotEvent::LotReceived(e) => {
                let pick = LotPick {
                    lot_number: e.lot_number.clone(),
                    quantity: e.quantity,
                    expiry: e.expiry,
                };
                self.credit(&e.item, &pick, e.at);
            }
            DepotEvent::StockIssued(e) => {
                self.debit(&e.item, &e.picks);
                if let Some(plan) = e.plan {
                    self.unreserve(plan, &e.item, &e.picks);
                }
                if let Some(delivery) = &e.delivery {
                    let shipment = Shipment {
                        item: e.item.clone(),
                        picks: e.picks.clone(),
                        delivery: delivery.clone(),
                        plan: e.plan,
                        incident: e.incident,
                        dispatched_at: e.at,
                        state: ShipmentState::InTransit,
                        received_by: None,
                        settled_at: None,
                    };
                    self.shipments.insert(delivery.shipment, shipment);
                }
            }
            DepotEvent::DeliverySigned(e) => {
                if let Some(shipment) = self.shipments.get_mut(&e.shipment) {
                    shipment.state = ShipmentState::Delivered;
                    shipment.received_by = Some(e.received_by.clone());
                    shipment.settled_at = Some(e.at);
                }
            }
            DepotEvent::DeliveryReturned(e) => {
                e.picks
                    .iter()
                    .for_each(|pick| self.credit(&e.item, pick, e.at));
                if let Some(shipment) = self.shipments.get_mut(&e.shipment) {
                    shipment.state = ShipmentState::Returned;
                    shipment.settled_at = Some(e.at);
                }
            }
            DepotEvent::StockReserved(e) => self.reserve(e.plan, &e.item, &e.picks),
            DepotEvent::StockReservationReleased(e) => self.unreserve(e.plan, &e.item, &e.picks),
            DepotEvent::StockReservationMoved(e) => {
                self.unreserve(e.from, &e.item, &e.picks);
                self.reserve(e.to, &e.item, &e.picks);
            }
            DepotEvent::TransferDispatched(e) => {
                self.debit(&e.item, &e.picks);
                let outbound = Outbound {
                    to: e.to,
                    item: e.item.clone(),
                    picks: e.picks.clone(),
                    dispatched_at: e.at,
                    expected_arrival: e.expected_arrival,
                    incident: e.incident,
                };
                self.outbound.insert(e.transfer, outbound);
            }
            DepotEvent::TransferReceived(e) => {
                e.lots
                    .iter()
                    .for_each(|pick| self.credit(&e.item, pick, e.at));
            }
            DepotEvent::TransferReturned(e) => {
                e.picks
                    .iter()
                    .for_each(|pick| self.credit(&e.item, pick, e.at));
                self.settle_outbound(e.transfer);
            }
            DepotEvent::TransferCompleted(e) => self.settle_outbound(e.transfer),
            DepotEvent::StockWrittenOff(e) => {
                let pick = LotPick {
                    lot_number: e.lot_number.clone(),
                    quantity: e.quantity,
                    expiry: None,
                };
                self.debit(&e.item, &[pick]);
            }
            DepotEvent::StockCounted(e) => self.set_count(&e.item, &e.lot_number, e.counted),
            DepotEvent::ReserveNormSet(e) if e.minimum.is_zero() => {
                self.norms.remove(&e.item);
            }
            DepotEvent::ReserveNormSet(e) => {
                self.norms.insert(e.item.clone(), e.minimum);
            }
        }
        self
    }

    /// A dispatched transfer is settled: nothing of it stays.
    fn settle_outbound(&mut self, transfer: TransferId) {
        if self.outbound.remove(&transfer).is_none() {
            corrupt_stream(format_args!("transfer {transfer} is not open"));
        }
    }

    fn credit(&mut self, item: &ItemCode, pick: &LotPick, at: DateTime<Utc>) {
        let lots = self.stock.entry(item.clone()).or_default();
        let lot = lots.entry(pick.lot_number.clone()).or_insert(Lot {
            quantity: Quantity::ZERO,
            expiry: pick.expiry,
            received_at: at,
        });
        lot.quantity = lot.quantity.checked_add(pick.quantity).unwrap_or_else(|| {
            corrupt_stream(format_args!("lot {} of {item} overflows", pick.lot_number));
            Quantity::new(u32::MAX)
        });
    }

    /// Takes picked quantities out; a lot that reaches zero is gone.
    fn debit(&mut self, item: &ItemCode, picks: &[LotPick]) {
        for pick in picks {
            let Some(lot) = self.lot(item, &pick.lot_number) else {
                corrupt_stream(format_args!(
                    "lot {} of {item} is not held",
                    pick.lot_number
                ));
                continue;
            };
            let remaining = lot.quantity.checked_sub(pick.quantity).unwrap_or_else(|| {
                corrupt_stream(format_args!(
                    "lot {} of {item} goes negative",
                    pick.lot_number
                ));
                Quantity::ZERO
            });
            self.set_count(item, &pick.lot_number, remaining);
        }
    }

    fn set_count(&mut self, item: &ItemCode, number: &LotNumber, quantity: Quantity) {
        let Some(lots) = self.stock.get_mut(item) else {
            return;
        };
        match lots.get_mut(number) {
            Some(lot) if !quantity.is_zero() => lot.quantity = quantity,
            Some(_) => {
                lots.remove(number);
            }
            None => {}
        }
        if lots.is_empty() {
            self.stock.remove(item);
        }
    }

    fn reserve(&mut self, plan: PlanId, item: &ItemCode, picks: &[LotPick]) {
        let held = self.reservations.entry((plan, item.clone())).or_default();
        for pick in picks {
            let q = held.entry(pick.lot_number.clone()).or_default();
            *q = q.checked_add(pick.quantity).unwrap_or_else(|| {
                corrupt_stream(format_args!("reservation of {item} overflows"));
                Quantity::new(u32::MAX)
            });
        }
    }

    fn unreserve(&mut self, plan: PlanId, item: &ItemCode, picks: &[LotPick]) {
        let key = (plan, item.clone());
        let Some(held) = self.reservations.get_mut(&key) else {
            corrupt_stream(format_args!("plan {plan} holds no {item}"));
            return;
        };
        for pick in picks {
            let left = held
                .get(&pick.lot_number)
                .and_then(|q| q.checked_sub(pick.quantity));
            match left {
                Some(left) => {
                    held.insert(pick.lot_number.clone(), left);
                }
                None => {
                    corrupt_stream(format_args!(
                        "plan {plan} holds less {item} than it gives back"
                    ));
                    held.remove(&pick.lot_number);
                }
            }
        }
        held.retain(|_, q| !q.is_zero());
        if held.is_empty() {
            self.reservations.remove(&key);
        }
    }
}

fn candidate(number: &LotNumber, lot: &Lot, available: Quantity) -> Candidate {
    Candidate {
        lot_number: number.clone(),
        expiry: lot.expiry,
        received_at: lot.received_at,
        available,
    }
}
