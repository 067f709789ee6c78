//! The depot's rules.

use chrono::{DateTime, Duration, Utc};

use super::command::EXPIRY_MARGIN_DAYS;
use super::picking::{Order, is_expired, pick};
use super::state::{Depot, DepotState, Outbound, Shipment};
use super::{DepotCommand, DepotEvent, LotNumber, LotPick, WriteOffCause, event::*};
use crate::DomainError;
use crate::decider::{Decider, Stamped, registered, unregistered};
use crate::ids::{DepotId, IncidentId, PlanId, ShipmentId, TransferId};
use crate::supply::ItemCode;
use crate::values::{Name, Quantity, Reason};

impl Decider for Depot {
    type State = Option<DepotState>;
    type Command = Stamped<DepotCommand>;
    type Event = DepotEvent;
    type Error = DomainError;
    type Id = DepotId;
    const STREAM_PREFIX: &'static str = "depot";

    fn decide(state: &Self::State, stamped: Self::Command) -> Result<Vec<DepotEvent>, DomainError> {
        let at = stamped.context.at;
        if let DepotCommand::Register {
            depot_id,
            name,
            tier,
            area,
            location,
        } = stamped.command
        {
            unregistered(state, "depot", depot_id)?;
            return Ok(vec![
                DepotRegistered {
                    depot_id,
                    name,
                    tier,
                    area,
                    location,
                    at,
                }
                .into(),
            ]);
        }
        let depot = registered(state, "depot")?;
        Rules { depot, at }
            .decide(stamped.command)
            .map(|event| vec![event])
    }

    fn evolve(state: Self::State, event: &DepotEvent) -> Self::State {
        match (state, event) {
            (_, DepotEvent::DepotRegistered(e)) => Some(DepotState::registered(e)),
            (Some(depot), event) => Some(depot.apply(event)),
            (None, _) => None,
        }
    }
}

/// A reservation's event, marked with the incident its plan serves.
fn with_incident(event: DepotEvent, incident: Option<IncidentId>) -> DepotEvent {
    match event {
        DepotEvent::StockReserved(reserved) => StockReserved {
            incident,
            ..reserved
        }
        .into(),
        other => other,
    }
}

/// Where a transfer goes, for whom and when it is due.
struct Dispatch {
    transfer: TransferId,
    to: DepotId,
    expected_arrival: Option<DateTime<Utc>>,
    incident: Option<IncidentId>,
}

/// One registered depot at the time of one command.
struct Rules<'a> {
    depot: &'a DepotState,
    at: DateTime<Utc>,
}

impl Rules<'_> {
    /// Dispatches one command to its rule.
    fn decide(&self, command: DepotCommand) -> Result<DepotEvent, DomainError> {
        match command {
            DepotCommand::ReceiveLot {
                item,
                lot_number,
                quantity,
                expiry,
                reason,
            } => self.receive_lot(item, lot_number, quantity, expiry, reason),
            DepotCommand::Issue {
                item,
                quantity,
                plan,
                reason,
                incident,
                delivery,
            } => self.issue(item, quantity, plan, reason, incident, delivery),
            DepotCommand::SignDelivery {
                shipment,
                received_by,
            } => self.sign_delivery(shipment, received_by),
            DepotCommand::RefuseDelivery { shipment, reason } => {
                self.refuse_delivery(shipment, reason)
            }
            DepotCommand::Reserve {
                plan,
                item,
                quantity,
                reason,
                expiry_margin_days,
                incident,
            } => {
                let margin = expiry_margin_days.unwrap_or(EXPIRY_MARGIN_DAYS);
                self.reserve(plan, item, quantity, reason, margin)
                    .map(|event| with_incident(event, incident))
            }
            DepotCommand::Release { plan, item, reason } => self.release(plan, item, reason),
            DepotCommand::MoveReservation {
                from,
                to,
                item,
                quantity,
                reason,
                incident,
            } => self.move_reservation((from, to), item, quantity, reason, incident),
            DepotCommand::DispatchTransfer {
                transfer,
                to,
                item,
                quantity,
                reason,
                expected_arrival,
                incident,
            } => self.dispatch_transfer(
                Dispatch {
                    transfer,
                    to,
                    expected_arrival,
                    incident,
                },
                item,
                quantity,
                reason,
            ),
            DepotCommand::SignTransfer { transfer, .. }
            | DepotCommand::RefuseTransfer { transfer, .. } => Err(DomainError::invalid(
                "transfer",
                format!(
                    "transfer {transfer} is signed for or refused through the transfer \
                     process, which receives or returns it; a depot does not decide it alone"
                ),
            )),
            DepotCommand::ReceiveTransfer {
                transfer,
                from,
                item,
                lots,
                reason,
            } => self.receive_transfer(transfer, from, item, lots, reason),
            DepotCommand::ReturnTransfer { transfer, reason } => {
                self.return_transfer(transfer, reason)
            }
            DepotCommand::CompleteTransfer { transfer } => self.complete_transfer(transfer),
            DepotCommand::WriteOff {
                item,
                lot_number,
                quantity,
                cause,
                reason,
            } => self.write_off(item, lot_number, quantity, cause, reason),
            DepotCommand::AdjustCount {
                item,
                lot_number,
                counted,
                reason,
            } => self.adjust_count(item, lot_number, counted, reason),
            DepotCommand::SetReserveNorm {
                item,
                minimum,
                reason,
            } => Ok(ReserveNormSet {
                depot_id: self.depot.id,
                item,
                minimum,
                reason,
                at: self.at,
            }
            .into()),
            DepotCommand::Register { depot_id, .. } => {
                Err(DomainError::already_exists("depot", depot_id))
            }
        }
    }

    fn receive_lot(
        &self,
        item: ItemCode,
        lot_number: LotNumber,
        quantity: Quantity,
        expiry: Option<DateTime<Utc>>,
        reason: Reason,
    ) -> Result<DepotEvent, DomainError> {
        let pick = LotPick {
            lot_number,
            quantity: quantity.positive("quantity")?,
            expiry,
        };
        self.check_fresh(&item, &pick)?;
        self.check_credits(&item, std::slice::from_ref(&pick))?;
        Ok(LotReceived {
            depot_id: self.depot.id,
            item,
            lot_number: pick.lot_number,
            quantity,
            expiry,
            reason,
            at: self.at,
        }
        .into())
    }

    fn issue(
        &self,
        item: ItemCode,
        quantity: Quantity,
        plan: Option<PlanId>,
        reason: Reason,
        incident: Option<IncidentId>,
        delivery: Option<Delivery>,
    ) -> Result<DepotEvent, DomainError> {
        if let Some(delivery) = &delivery {
            if self.depot.shipments.contains_key(&delivery.shipment) {
                return Err(DomainError::already_exists("shipment", delivery.shipment));
            }
            if delivery.expected_arrival < self.at {
                return Err(DomainError::invalid(
                    "delivery.expected_arrival",
                    "a consignment cannot be expected before it leaves",
                ));
            }
        }
        let picks = self.pick(&item, quantity, plan, Order::Fefo)?;
        Ok(StockIssued {
            depot_id: self.depot.id,
            item,
            plan,
            picks,
            reason,
            at: self.at,
            incident,
            delivery,
        }
        .into())
    }

    fn in_transit(&self, shipment: ShipmentId) -> Result<&Shipment, DomainError> {
        let found = self
            .depot
            .shipments
            .get(&shipment)
            .ok_or_else(|| DomainError::not_found("shipment", shipment))?;
        if !found.in_transit() {
            return Err(DomainError::invalid(
                "shipment",
                format!(
                    "shipment {shipment} is no longer in transit: it was signed for or returned"
                ),
            ));
        }
        Ok(found)
    }

    fn sign_delivery(
        &self,
        shipment: ShipmentId,
        received_by: Name,
    ) -> Result<DepotEvent, DomainError> {
        self.in_transit(shipment)?;
        Ok(DeliverySigned {
            depot_id: self.depot.id,
            shipment,
            received_by,
            at: self.at,
        }
        .into())
    }

    fn refuse_delivery(
        &self,
        shipment: ShipmentId,
        reason: Reason,
    ) -> Result<DepotEvent, DomainError> {
        let found = self.in_transit(shipment)?;
        self.check_credits(&found.item, &found.picks)?;
        Ok(DeliveryReturned {
            depot_id: self.depot.id,
            shipment,
            item: found.item.clone(),
            picks: found.picks.clone(),
            reason,
            at: self.at,
        }
        .into())
    }

    fn reserve(
        &self,
        plan: PlanId,
        item: ItemCode,
        quantity: Quantity,
        reason: Reason,
        margin_days: u32,
    ) -> Result<DepotEvent, DomainError> {
        let margin = Duration::days(i64::from(margin_days));
        let picks = self.pick(&item, quantity, None, Order::FefoSparing { margin })?;
        Ok(StockReserved {
            depot_id: self.depot.id,
            plan,
            item,
            picks,
            reason,
            at: self.at,
            incident: None,
        }
        .into())
    }

    fn dispatch_transfer(
        &self,
        dispatch: Dispatch,
        item: ItemCode,
        quantity: Quantity,
        reason: Reason,
    ) -> Result<DepotEvent, DomainError> {
        self.check_new_outbound(dispatch.transfer, dispatch.to)?;
        if dispatch.expected_arrival.is_some_and(|due| due < self.at) {
            return Err(DomainError::invalid(
                "expected_arrival",
                "a transfer cannot be expected before it leaves",
            ));
        }
        let picks = self.pick(&item, quantity, None, Order::Fefo)?;
        Ok(TransferDispatched {
            depot_id: self.depot.id,
            transfer: dispatch.transfer,
            to: dispatch.to,
            item,
            picks,
            reason,
            at: self.at,
            expected_arrival: dispatch.expected_arrival,
            incident: dispatch.incident,
        }
        .into())
    }

    fn receive_transfer(
        &self,
        transfer: TransferId,
        from: DepotId,
        item: ItemCode,
        lots: Vec<LotPick>,
        reason: Reason,
    ) -> Result<DepotEvent, DomainError> {
        self.check_inbound(from, &item, &lots)?;
        Ok(TransferReceived {
            depot_id: self.depot.id,
            transfer,
            from,
            item,
            lots,
            at: self.at,
            reason,
        }
        .into())
    }

    fn write_off(
        &self,
        item: ItemCode,
        lot_number: LotNumber,
        quantity: Quantity,
        cause: WriteOffCause,
        reason: Reason,
    ) -> Result<DepotEvent, DomainError> {
        self.check_write_off(&item, &lot_number, quantity, cause)?;
        Ok(StockWrittenOff {
            depot_id: self.depot.id,
            item,
            lot_number,
            quantity,
            cause,
            reason,
            at: self.at,
        }
        .into())
    }

    fn adjust_count(
        &self,
        item: ItemCode,
        lot_number: LotNumber,
        counted: Quantity,
        reason: Reason,
    ) -> Result<DepotEvent, DomainError> {
        let previous = self.check_count(&item, &lot_number, counted)?;
        Ok(StockCounted {
            depot_id: self.depot.id,
            item,
            lot_number,
            previous,
            counted,
            reason,
            at: self.at,
        }
        .into())
    }

    /// FEFO picks from free stock, or from what `plan` holds.
    fn pick(
        &self,
        item: &ItemCode,
        quantity: Quantity,
        plan: Option<PlanId>,
        order: Order,
    ) -> Result<Vec<LotPick>, DomainError> {
        let quantity = quantity.positive("quantity")?;
        let (candidates, held_for_plans) = match plan {
            None => (
                self.depot.free_candidates(item),
                self.depot.reserved_of(item),
            ),
            Some(plan) => (
                self.depot
                    .reserved_candidates(plan, item)
                    .ok_or_else(|| reservation_not_found(plan, item))?,
                Quantity::new(0),
            ),
        };
        pick(item, candidates, quantity, self.at, order, held_for_plans)
    }

    fn release(
        &self,
        plan: PlanId,
        item: ItemCode,
        reason: Reason,
    ) -> Result<DepotEvent, DomainError> {
        let held = self
            .depot
            .reservations
            .get(&(plan, item.clone()))
            .ok_or_else(|| reservation_not_found(plan, &item))?;
        let picks = held
            .iter()
            .map(|(number, &quantity)| {
                let expiry = self.depot.lot(&item, number).and_then(|lot| lot.expiry);
                LotPick {
                    lot_number: number.clone(),
                    quantity,
                    expiry,
                }
            })
            .collect();
        Ok(StockReservationReleased {
            depot_id: self.depot.id,
            plan,
            item,
            picks,
            reason,
            at: self.at,
        }
        .into())
    }

    fn move_reservation(
        &self,
        (from, to): (PlanId, PlanId),
        item: ItemCode,
        quantity: Quantity,
        reason: Reason,
        incident: Option<IncidentId>,
    ) -> Result<DepotEvent, DomainError> {
        if from == to {
            return Err(DomainError::invalid(
                "to",
                "a reservation moves to another plan, not to the plan holding it",
            ));
        }
        let picks = self.pick(&item, quantity, Some(from), Order::Fefo)?;
        Ok(StockReservationMoved {
            depot_id: self.depot.id,
            from,
            to,
            item,
            picks,
            reason,
            at: self.at,
            incident,
        }
        .into())
    }

    fn return_transfer(
        &self,
        transfer: TransferId,
        reason: Reason,
    ) -> Result<DepotEvent, DomainError> {
        let outbound = self.open_outbound(transfer)?;
        self.check_credits(&outbound.item, &outbound.picks)?;
        Ok(TransferReturned {
            depot_id: self.depot.id,
            transfer,
            item: outbound.item.clone(),
            picks: outbound.picks.clone(),
            reason,
            at: self.at,
            incident: outbound.incident,
            to: Some(outbound.to),
        }
        .into())
    }

    fn complete_transfer(&self, transfer: TransferId) -> Result<DepotEvent, DomainError> {
        let outbound = self.open_outbound(transfer)?;
        Ok(TransferCompleted {
            depot_id: self.depot.id,
            transfer,
            to: outbound.to,
            at: self.at,
            incident: outbound.incident,
        }
        .into())
    }

    /// A transfer this depot dispatched that is neither returned nor completed
    /// (a settled one is gone from the state; its settlement's key is in the log).
    fn open_outbound(&self, transfer: TransferId) -> Result<&Outbound, DomainError> {
        self.depot
            .outbound
            .get(&transfer)
            .ok_or_else(|| DomainError::not_found("open transfer", transfer))
    }

    fn check_new_outbound(&self, transfer: TransferId, to: DepotId) -> Result<(), DomainError> {
        if to == self.depot.id {
            return Err(DomainError::invalid(
                "to",
                "a depot cannot transfer to itself",
            ));
        }
        // Open here; one settled before is refused at the edge, by its key in the log.
        if self.depot.outbound.contains_key(&transfer) {
            return Err(DomainError::already_exists("transfer", transfer));
        }
        Ok(())
    }

    fn check_inbound(
        &self,
        from: DepotId,
        item: &ItemCode,
        lots: &[LotPick],
    ) -> Result<(), DomainError> {
        if from == self.depot.id {
            return Err(DomainError::invalid(
                "from",
                "a depot cannot receive from itself",
            ));
        }
        if lots.is_empty() {
            return Err(DomainError::invalid(
                "lots",
                "a transfer carries at least one lot",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for pick in lots {
            if !seen.insert(&pick.lot_number) {
                return Err(DomainError::invalid(
                    "lots",
                    format!(
                        "lot {} is listed twice; list each lot once",
                        pick.lot_number
                    ),
                ));
            }
            pick.quantity.positive("quantity")?;
        }
        self.check_credits(item, lots)
    }

    /// Stock from a supplier must not arrive already expired.
    fn check_fresh(&self, item: &ItemCode, pick: &LotPick) -> Result<(), DomainError> {
        match pick.expiry {
            Some(expiry) if is_expired(pick.expiry, self.at) => Err(DomainError::ExpiredLot {
                item: item.to_string(),
                lot: pick.lot_number.to_string(),
                expiry,
            }),
            _ => Ok(()),
        }
    }

    /// Every credit must fit: a lot number names one batch (same expiry), and the
    /// item's stock here stays within a [`Quantity`], so `evolve` adds exactly and
    /// every per-item total is exact. Overflow is a refusal, never a clamp.
    fn check_credits(&self, item: &ItemCode, picks: &[LotPick]) -> Result<(), DomainError> {
        for pick in picks {
            if let Some(lot) = self.depot.lot(item, &pick.lot_number)
                && lot.expiry != pick.expiry
            {
                return Err(DomainError::invalid(
                    "expiry",
                    format!(
                        "lot {} of {item} is already held with expiry {:?}",
                        pick.lot_number, lot.expiry
                    ),
                ));
            }
        }
        let incoming: u64 = picks.iter().map(|p| u64::from(p.quantity.get())).sum();
        self.check_room(item, incoming)
    }

    /// Refuses a credit of `incoming` units that would take the item past `u32::MAX` here.
    fn check_room(&self, item: &ItemCode, incoming: u64) -> Result<(), DomainError> {
        let held = u64::from(self.depot.on_hand(item).get());
        if held + incoming > u64::from(u32::MAX) {
            return Err(DomainError::invalid(
                "quantity",
                format!(
                    "{incoming} more units would take {item} here past {} (holding {held})",
                    u32::MAX
                ),
            ));
        }
        Ok(())
    }

    fn check_write_off(
        &self,
        item: &ItemCode,
        number: &LotNumber,
        quantity: Quantity,
        cause: WriteOffCause,
    ) -> Result<(), DomainError> {
        let lot = self
            .depot
            .lot(item, number)
            .ok_or_else(|| lot_not_found(item, number))?;
        quantity.positive("quantity")?;
        if cause == WriteOffCause::Expired && !is_expired(lot.expiry, self.at) {
            return Err(DomainError::invalid(
                "cause",
                format!("lot {number} has not expired"),
            ));
        }
        let free = lot
            .quantity
            .saturating_sub(self.depot.reserved_in(item, number));
        if quantity > free {
            return Err(DomainError::InsufficientStock {
                item: item.to_string(),
                requested: quantity.get(),
                usable: free.get(),
                expired: 0,
                reserved: self.depot.reserved_in(item, number).get(),
            });
        }
        Ok(())
    }

    /// A count may not fall below what plans hold; returns the previous quantity.
    fn check_count(
        &self,
        item: &ItemCode,
        number: &LotNumber,
        counted: Quantity,
    ) -> Result<Quantity, DomainError> {
        let lot = self
            .depot
            .lot(item, number)
            .ok_or_else(|| lot_not_found(item, number))?;
        let reserved = self.depot.reserved_in(item, number);
        if counted < reserved {
            return Err(DomainError::invalid(
                "counted",
                format!("{reserved} of lot {number} are reserved; release them first"),
            ));
        }
        let increase = counted.get().saturating_sub(lot.quantity.get());
        self.check_room(item, u64::from(increase))?;
        Ok(lot.quantity)
    }
}

fn reservation_not_found(plan: PlanId, item: &ItemCode) -> DomainError {
    DomainError::not_found("reservation", format!("{item} for plan {plan}"))
}

fn lot_not_found(item: &ItemCode, number: &LotNumber) -> DomainError {
    DomainError::not_found("lot", format!("{number} of {item}"))
}
