//! Property tests: random command sequences against the deciders, checking the
//! invariants after every accepted command.
//!
//! The replay check is what it says and no more: every event is stored as the log
//! would (type, version, JSON) and decoded, and folding the decoded events rebuilds
//! exactly the state the live run reached. That proves the JSON round trip is
//! lossless and `evolve` is deterministic; it says nothing about whether the events
//! were right, which the invariant checks (each against the state before the event)
//! and the independent lists of legal lifecycle steps below do.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_domain::beds::*;
use ercs_domain::convertible::*;
use ercs_domain::geo::GeoPoint;
use ercs_domain::ids::*;
use ercs_domain::incident::*;
use ercs_domain::supply::*;
use ercs_domain::team::*;
use ercs_domain::values::*;
use ercs_domain::{CommandContext, Decider, DomainEvent, Stamped};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 7, 1, 8, 0, 0).single().unwrap()
}

fn stamp<C>(at: DateTime<Utc>, command: C) -> Stamped<C> {
    CommandContext::new(Actor::parse("prop").unwrap(), at).stamp(command)
}

fn reason() -> Reason {
    Reason::parse("prop").unwrap()
}

fn point() -> GeoPoint {
    GeoPoint::new(106.55, 29.56).unwrap()
}

/// Stores each event as the log would (type, version, JSON) and folds the decoded ones.
fn replay_through_the_log<D>(events: &[D::Event]) -> D::State
where
    D: Decider,
    D::Event: DomainEvent + Debug,
{
    events.iter().fold(D::State::default(), |state, event| {
        let data = event.data().unwrap();
        let decoded = D::Event::decode(event.event_type(), event.schema_version(), data).unwrap();
        D::evolve(state, &decoded)
    })
}

/// An aggregate under test: its state and every event it accepted.
struct Stream<D: Decider> {
    state: D::State,
    events: Vec<D::Event>,
}

impl<D: Decider> Stream<D>
where
    D::Event: Clone,
{
    fn new() -> Self {
        Self {
            state: D::State::default(),
            events: Vec::new(),
        }
    }

    /// Decides and, if accepted, applies; returns the new events.
    fn run(&mut self, command: D::Command) -> Vec<D::Event> {
        match D::decide(&self.state, command) {
            Ok(events) => {
                for e in &events {
                    self.state = D::evolve(self.state.clone(), e);
                }
                self.events.extend(events.iter().cloned());
                events
            }
            Err(_) => Vec::new(),
        }
    }
}

// ---------------------------------------------------------------- depots

#[derive(Debug, Clone)]
enum StockOp {
    Receive {
        depot: usize,
        lot: u8,
        quantity: u32,
        expiry_day: i64,
    },
    Issue {
        depot: usize,
        quantity: u32,
        plan: Option<u8>,
        /// Sent as a consignment (in transit until signed for or refused).
        consigned: bool,
    },
    /// The destination signs for consignment `shipment` (of all ever issued).
    SignDelivery {
        shipment: usize,
    },
    /// The destination refuses it; it goes back into its depot's lots.
    RefuseDelivery {
        shipment: usize,
    },
    Reserve {
        depot: usize,
        plan: u8,
        quantity: u32,
    },
    Release {
        depot: usize,
        plan: u8,
    },
    Dispatch {
        depot: usize,
        quantity: u32,
    },
    Deliver {
        transfer: usize,
    },
    Return {
        transfer: usize,
    },
    WriteOff {
        depot: usize,
        lot: u8,
        quantity: u32,
    },
    Count {
        depot: usize,
        lot: u8,
        counted: u32,
    },
    Advance {
        days: i64,
    },
}

fn stock_op() -> impl Strategy<Value = StockOp> {
    let depot = 0..2usize;
    prop_oneof![
        (depot.clone(), 0..4u8, 0..60u32, 0..90i64).prop_map(
            |(depot, lot, quantity, expiry_day)| StockOp::Receive {
                depot,
                lot,
                quantity,
                expiry_day
            }
        ),
        (
            depot.clone(),
            0..40u32,
            prop::option::of(0..2u8),
            any::<bool>()
        )
            .prop_map(|(depot, quantity, plan, consigned)| StockOp::Issue {
                depot,
                quantity,
                plan,
                consigned,
            }),
        (0..8usize).prop_map(|shipment| StockOp::SignDelivery { shipment }),
        (0..8usize).prop_map(|shipment| StockOp::RefuseDelivery { shipment }),
        (depot.clone(), 0..2u8, 0..40u32).prop_map(|(depot, plan, quantity)| StockOp::Reserve {
            depot,
            plan,
            quantity
        }),
        (depot.clone(), 0..2u8).prop_map(|(depot, plan)| StockOp::Release { depot, plan }),
        (depot.clone(), 0..40u32)
            .prop_map(|(depot, quantity)| StockOp::Dispatch { depot, quantity }),
        (0..8usize).prop_map(|transfer| StockOp::Deliver { transfer }),
        (0..8usize).prop_map(|transfer| StockOp::Return { transfer }),
        (depot.clone(), 0..4u8, 0..30u32).prop_map(|(depot, lot, quantity)| StockOp::WriteOff {
            depot,
            lot,
            quantity
        }),
        (depot, 0..4u8, 0..60u32).prop_map(|(depot, lot, counted)| StockOp::Count {
            depot,
            lot,
            counted
        }),
        (0..20i64).prop_map(|days| StockOp::Advance { days }),
    ]
}

/// How a dispatched transfer was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    Received,
    Returned,
}

/// One run of the cross-aggregate transfer process, as the server must run it: it
/// settles each dispatched transfer exactly once, by ReceiveTransfer at the
/// destination or ReturnTransfer at the source, built from the dispatch event, both
/// under one key in the log. The two depots are separate aggregates and keep no
/// record of settled transfers, so only this rule stops a transfer being received
/// twice, or both received and returned (either would duplicate its stock).
#[derive(Debug, Clone)]
struct TransferProcess {
    source: usize,
    dispatched: TransferDispatched,
    settled: Option<Settled>,
}

struct Network {
    depots: [Stream<Depot>; 2],
    ids: [DepotId; 2],
    /// Every dispatched transfer, settled or not; ops may try to settle any of them again.
    transfers: Vec<TransferProcess>,
    /// Every consignment issued: its depot, id, units, and whether still in transit.
    shipments: Vec<(usize, ShipmentId, i64, bool)>,
    /// Units that entered minus units that left the network (receipts, issues, write-offs, counts).
    ledger: i64,
    now: DateTime<Utc>,
}

fn item() -> ItemCode {
    ItemCode::parse("N95").unwrap()
}

fn units(picks: &[LotPick]) -> i64 {
    picks.iter().map(|p| i64::from(p.quantity.get())).sum()
}

impl Network {
    fn new() -> Self {
        let ids = [
            DepotId::from_uuid(Uuid::from_u128(1)),
            DepotId::from_uuid(Uuid::from_u128(2)),
        ];
        let mut depots = [Stream::new(), Stream::new()];
        for (stream, depot_id) in depots.iter_mut().zip(ids) {
            let register = DepotCommand::Register {
                depot_id,
                name: Name::parse("d").unwrap(),
                tier: ReserveTier::District,
                area: AreaCode::parse("500101").unwrap(),
                location: point(),
            };
            stream.run(stamp(t0(), register));
        }
        Self {
            depots,
            ids,
            transfers: Vec::new(),
            shipments: Vec::new(),
            ledger: 0,
            now: t0(),
        }
    }

    fn run(&mut self, depot: usize, command: DepotCommand) -> Vec<DepotEvent> {
        self.depots[depot].run(stamp(self.now, command))
    }

    fn apply(&mut self, op: StockOp) -> Result<(), TestCaseError> {
        let lot = |n: u8| LotNumber::parse(format!("L{n}")).unwrap();
        let plan = |n: u8| PlanId::from_uuid(Uuid::from_u128(100 + u128::from(n)));
        match op {
            StockOp::Receive {
                depot,
                lot: n,
                quantity,
                expiry_day,
            } => {
                let expiry = Some(t0() + TimeDelta::days(expiry_day));
                let command = DepotCommand::ReceiveLot {
                    item: item(),
                    lot_number: lot(n),
                    quantity: Quantity::new(quantity),
                    expiry,
                    reason: reason(),
                };
                let events = self.run(depot, command);
                self.ledger += if events.is_empty() {
                    0
                } else {
                    i64::from(quantity)
                };
            }
            StockOp::Issue {
                depot,
                quantity,
                plan: p,
                consigned,
            } => {
                let shipment =
                    ShipmentId::from_uuid(Uuid::from_u128(5000 + self.shipments.len() as u128));
                let delivery = consigned.then(|| Delivery {
                    shipment,
                    area: AreaCode::parse("500101001").unwrap(),
                    facility: None,
                    location: None,
                    expected_arrival: self.now + TimeDelta::hours(3),
                });
                let command = DepotCommand::Issue {
                    item: item(),
                    quantity: Quantity::new(quantity),
                    plan: p.map(plan),
                    reason: reason(),
                    incident: None,
                    delivery,
                };
                for e in self.run(depot, command) {
                    if let DepotEvent::StockIssued(e) = e {
                        match e.delivery {
                            // In transit: still the network's until signed for.
                            Some(_) => {
                                self.shipments
                                    .push((depot, shipment, units(&e.picks), true))
                            }
                            None => self.ledger -= units(&e.picks),
                        }
                    }
                }
            }
            StockOp::SignDelivery { shipment } => {
                let Some(&(depot, id, quantity, in_transit)) = self.shipments.get(shipment) else {
                    return Ok(());
                };
                let command = DepotCommand::SignDelivery {
                    shipment: id,
                    received_by: Name::parse("药房").unwrap(),
                };
                let signed = !self.run(depot, command).is_empty();
                prop_assert_eq!(
                    signed,
                    in_transit,
                    "signed for a consignment not in transit"
                );
                if signed {
                    self.ledger -= quantity;
                    self.shipments[shipment].3 = false;
                }
            }
            StockOp::RefuseDelivery { shipment } => {
                let Some(&(depot, id, _, in_transit)) = self.shipments.get(shipment) else {
                    return Ok(());
                };
                let command = DepotCommand::RefuseDelivery {
                    shipment: id,
                    reason: reason(),
                };
                let refused = !self.run(depot, command).is_empty();
                prop_assert!(
                    !refused || in_transit,
                    "refused a consignment not in transit"
                );
                if refused {
                    self.shipments[shipment].3 = false;
                }
            }
            StockOp::Reserve {
                depot,
                plan: p,
                quantity,
            } => {
                self.run(
                    depot,
                    DepotCommand::Reserve {
                        incident: None,
                        plan: plan(p),
                        item: item(),
                        quantity: Quantity::new(quantity),
                        reason: reason(),
                        expiry_margin_days: None,
                    },
                );
            }
            StockOp::Release { depot, plan: p } => {
                self.run(
                    depot,
                    DepotCommand::Release {
                        plan: plan(p),
                        item: item(),
                        reason: reason(),
                    },
                );
            }
            StockOp::Dispatch { depot, quantity } => {
                let n = self.transfers.len() as u128 + 1;
                let transfer = TransferId::from_uuid(Uuid::from_u128(1000 + n));
                let to = self.ids[1 - depot];
                let command = DepotCommand::DispatchTransfer {
                    transfer,
                    to,
                    item: item(),
                    quantity: Quantity::new(quantity),
                    reason: reason(),
                    expected_arrival: None,
                    incident: None,
                };
                for e in self.run(depot, command) {
                    if let DepotEvent::TransferDispatched(dispatched) = e {
                        self.transfers.push(TransferProcess {
                            source: depot,
                            dispatched,
                            settled: None,
                        });
                    }
                }
            }
            StockOp::Deliver { transfer } => self.settle(transfer, Settled::Received)?,
            StockOp::Return { transfer } => self.settle(transfer, Settled::Returned)?,
            StockOp::WriteOff {
                depot,
                lot: n,
                quantity,
            } => {
                let command = DepotCommand::WriteOff {
                    item: item(),
                    lot_number: lot(n),
                    quantity: Quantity::new(quantity),
                    cause: WriteOffCause::Damaged,
                    reason: reason(),
                };
                if !self.run(depot, command).is_empty() {
                    self.ledger -= i64::from(quantity);
                }
            }
            StockOp::Count {
                depot,
                lot: n,
                counted,
            } => {
                let command = DepotCommand::AdjustCount {
                    item: item(),
                    lot_number: lot(n),
                    counted: Quantity::new(counted),
                    reason: reason(),
                };
                for e in self.run(depot, command) {
                    if let DepotEvent::StockCounted(e) = e {
                        self.ledger += i64::from(e.counted.get()) - i64::from(e.previous.get());
                    }
                }
            }
            StockOp::Advance { days } => self.now += TimeDelta::days(days),
        }
        Ok(())
    }

    /// The process settling transfer `index` (of all ever dispatched) as `how`.
    fn settle(&mut self, index: usize, how: Settled) -> Result<(), TestCaseError> {
        let Some(process) = self.transfers.get(index).cloned() else {
            return Ok(());
        };
        let e = &process.dispatched;
        let (depot, command) = match how {
            Settled::Received => (
                1 - process.source,
                DepotCommand::ReceiveTransfer {
                    transfer: e.transfer,
                    from: e.depot_id,
                    item: e.item.clone(),
                    lots: e.picks.clone(),
                    reason: e.reason.clone(),
                },
            ),
            Settled::Returned => (
                process.source,
                DepotCommand::ReturnTransfer {
                    transfer: e.transfer,
                    reason: reason(),
                },
            ),
        };
        // `settled` stands for the log's one settlement key of the transfer
        // (`transfer/<id>/settle`): once taken, the process appends no other
        // settlement. A return is refused by the source itself as well (the
        // transfer is no longer open there, received and completed or returned);
        // a depot keeps no record of what it received, so a second receipt is
        // stopped by the key alone.
        match process.settled {
            Some(_) if how == Settled::Returned => {
                prop_assert!(
                    self.run(depot, command).is_empty(),
                    "a return after the transfer was settled was accepted"
                );
            }
            Some(_) => {}
            None => {
                if !self.run(depot, command).is_empty() {
                    self.transfers[index].settled = Some(how);
                    // A receipt is completed at the source, which closes its record.
                    if how == Settled::Received {
                        let complete = DepotCommand::CompleteTransfer {
                            transfer: e.transfer,
                        };
                        prop_assert!(
                            !self.run(process.source, complete).is_empty(),
                            "a received transfer could not be completed"
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// A depot's state holds the transfers it has open, and none it settled.
    fn check_open_transfers(&self) -> Result<(), TestCaseError> {
        for (index, depot) in self.depots.iter().enumerate() {
            let Some(state) = depot.state.as_ref() else {
                continue;
            };
            let open: BTreeSet<TransferId> = self
                .transfers
                .iter()
                .filter(|t| t.source == index && t.settled.is_none())
                .map(|t| t.dispatched.transfer)
                .collect();
            let held: BTreeSet<TransferId> = state.outbound.keys().copied().collect();
            prop_assert_eq!(held, open, "depot {}'s open transfers", index);
        }
        Ok(())
    }

    fn total(&self) -> i64 {
        let held: u64 = self
            .depots
            .iter()
            .filter_map(|d| d.state.as_ref())
            .map(|d| d.total_on_hand())
            .sum();
        let flying: i64 = self
            .transfers
            .iter()
            .filter(|t| t.settled.is_none())
            .map(|t| units(&t.dispatched.picks))
            .sum();
        let consigned: i64 = self.shipments.iter().filter(|s| s.3).map(|s| s.2).sum();
        held as i64 + flying + consigned
    }
}

fn check_lots(depot: &DepotState) -> Result<(), TestCaseError> {
    for (item, lots) in &depot.stock {
        for (number, lot) in lots {
            prop_assert!(!lot.quantity.is_zero(), "an empty lot lingers");
            prop_assert!(
                depot.reserved_in(item, number) <= lot.quantity,
                "more reserved than held in {number}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn stock_never_goes_negative_and_transfers_conserve_the_total(ops in prop::collection::vec(stock_op(), 1..80)) {
        let mut network = Network::new();
        for op in ops {
            network.apply(op)?;
            network.check_open_transfers()?;
            for depot in network.depots.iter().filter_map(|d| d.state.as_ref()) {
                check_lots(depot)?;
            }
            prop_assert_eq!(network.total(), network.ledger);
        }
        for stream in &network.depots {
            prop_assert_eq!(&replay_through_the_log::<Depot>(&stream.events), &stream.state);
        }
    }
}

// ---------------------------------------------------------------- beds

fn bed_command() -> impl Strategy<Value = BedCommand> {
    let bed_type = prop::sample::select(vec![BedType::AdultIcu, BedType::NegativeFlowIsolation]);
    let class = prop::sample::select(vec![
        BedClass::Designated,
        BedClass::RapidExpansion,
        BedClass::RapidVacate,
    ]);
    let plan = (0..2u128).prop_map(|n| PlanId::from_uuid(Uuid::from_u128(200 + n)));
    let counts = (0..40u32, 0..40u32, 0..40u32).prop_filter_map("ordered counts", |(a, b, c)| {
        let mut v = [a, b, c];
        v.sort_unstable();
        BedCounts::new(v[2], v[1], v[0]).ok()
    });
    prop_oneof![
        (bed_type.clone(), class.clone(), counts, 0..120u32).prop_map(
            |(bed_type, class, counts, lead_time_minutes)| BedCommand::Report {
                bed_type,
                class,
                counts,
                lead_time_minutes
            }
        ),
        bed_type
            .clone()
            .prop_map(|bed_type| BedCommand::ActivateExpansion { bed_type }),
        bed_type
            .clone()
            .prop_map(|bed_type| BedCommand::StandDownExpansion { bed_type }),
        (bed_type.clone(), 0..10u32)
            .prop_map(|(bed_type, beds)| BedCommand::Vacate { bed_type, beds }),
        (
            bed_type.clone(),
            class.clone(),
            0..10u32,
            prop::option::of(plan.clone())
        )
            .prop_map(|(bed_type, class, patients, plan)| BedCommand::Admit {
                bed_type,
                class,
                patients,
                plan
            }),
        (bed_type.clone(), class.clone(), 0..10u32).prop_map(|(bed_type, class, patients)| {
            BedCommand::Discharge {
                bed_type,
                class,
                patients,
                plan: None,
            }
        }),
        (plan.clone(), bed_type.clone(), class.clone(), 0..10u32).prop_map(
            |(plan, bed_type, class, beds)| BedCommand::Reserve {
                incident: None,
                plan,
                bed_type,
                class,
                beds
            }
        ),
        (plan.clone(), bed_type.clone(), class.clone()).prop_map(|(plan, bed_type, class)| {
            BedCommand::Release {
                plan,
                bed_type,
                class,
            }
        }),
        (plan.clone(), plan, bed_type, class, 0..10u32).prop_map(
            |(from, to, bed_type, class, beds)| BedCommand::MoveReservation {
                from,
                to,
                bed_type,
                class,
                beds,
                incident: None,
            }
        ),
    ]
}

/// Counts stay ordered; plans may hold more than the free beds only as an explicit
/// over-commitment (after a report), and availability never goes below zero.
fn check_pools(pools: &BedPools) -> Result<(), TestCaseError> {
    let mut short = 0;
    for (key, pool) in pools.iter() {
        let c = pool.counts;
        prop_assert!(
            c.occupied() <= c.staffed() && c.staffed() <= c.total(),
            "{key}: {c:?}"
        );
        let (free, reserved) = (i64::from(c.free()), i64::from(pool.reserved_total()));
        prop_assert_eq!(
            i64::from(pool.available()),
            (free - reserved).max(0),
            "{}",
            key
        );
        prop_assert_eq!(
            i64::from(pool.over_committed()),
            (reserved - free).max(0),
            "{}",
            key
        );
        short += pool.over_committed();
    }
    prop_assert_eq!(pools.over_committed(), short);
    Ok(())
}

/// The alarm a report must bring, judged from the pool it left behind.
fn alarm_for(report: &BedsReported, after: &BedPools) -> Option<BedEvent> {
    let pool = after.get(report.bed_type, report.class)?;
    let (reserved, free) = (pool.reserved_total(), pool.counts.free());
    (reserved > free).then(|| {
        ReservationsOverCommitted {
            facility_id: report.facility_id,
            bed_type: report.bed_type,
            class: report.class,
            reserved,
            free,
            short_by: reserved - free,
            at: report.at,
        }
        .into()
    })
}

/// Checks one accepted decision's bed events, each against the pools just before
/// it, and that every report is followed by `ReservationsOverCommitted` exactly
/// when it leaves plans holding more than the free beds (and no alarm comes alone).
fn check_bed_decision(
    before: &BedPools,
    events: &[BedEvent],
    after: &BedPools,
) -> Result<(), TestCaseError> {
    let mut pools = before.clone();
    for event in events {
        let previous = pools.clone();
        pools.apply(event);
        check_bed_event(&previous, &pools, event)?;
    }
    prop_assert_eq!(&pools, after);
    let reports_and_alarms: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                BedEvent::BedsReported(_) | BedEvent::ReservationsOverCommitted(_)
            )
        })
        .cloned()
        .collect();
    let expected: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            BedEvent::BedsReported(r) => {
                Some(std::iter::once(e.clone()).chain(alarm_for(r, after)))
            }
            _ => None,
        })
        .flatten()
        .collect();
    prop_assert_eq!(reports_and_alarms, expected);
    Ok(())
}

/// One pool's numbers, before or after an event.
fn numbers(pools: &BedPools, bed_type: BedType, class: BedClass) -> (u32, u32, u32, u32) {
    pools.get(bed_type, class).map_or((0, 0, 0, 0), |p| {
        (
            p.counts.occupied(),
            p.counts.free(),
            p.available(),
            p.reserved_total(),
        )
    })
}

fn held(pools: &BedPools, bed_type: BedType, class: BedClass, plan: PlanId) -> u32 {
    pools
        .get(bed_type, class)
        .and_then(|p| p.reserved.get(&plan).copied())
        .unwrap_or(0)
}

/// Checks what one bed event did against the state before it: it only used beds
/// that were there, and it moved the numbers by exactly what it says.
fn check_bed_event(
    before: &BedPools,
    after: &BedPools,
    event: &BedEvent,
) -> Result<(), TestCaseError> {
    match event {
        BedEvent::PatientsAdmitted(e) => {
            let (occupied, free, available, reserved) = numbers(before, e.bed_type, e.class);
            let from_plan = e.plan.map_or(0, |p| held(before, e.bed_type, e.class, p));
            prop_assert!(
                e.patients <= free,
                "admitted {} into {free} free beds",
                e.patients
            );
            prop_assert!(
                e.patients <= available + from_plan,
                "admitted {} beyond {available} available + {from_plan} held",
                e.patients
            );
            let (occupied_after, _, _, reserved_after) = numbers(after, e.bed_type, e.class);
            prop_assert_eq!(occupied_after, occupied + e.patients);
            prop_assert_eq!(reserved_after, reserved - e.patients.min(from_plan));
        }
        BedEvent::PatientsDischarged(e) => {
            let (occupied, ..) = numbers(before, e.bed_type, e.class);
            prop_assert!(e.patients <= occupied);
            prop_assert_eq!(numbers(after, e.bed_type, e.class).0, occupied - e.patients);
        }
        BedEvent::BedsVacated(e) => {
            let (occupied, ..) = numbers(before, e.bed_type, BedClass::RapidVacate);
            prop_assert!(e.beds <= occupied);
            prop_assert_eq!(
                numbers(after, e.bed_type, BedClass::RapidVacate).0,
                occupied - e.beds
            );
        }
        BedEvent::BedsReserved(e) => {
            let (_, _, available, reserved) = numbers(before, e.bed_type, e.class);
            prop_assert!(
                e.beds <= available,
                "reserved {} of {available} available",
                e.beds
            );
            prop_assert_eq!(numbers(after, e.bed_type, e.class).3, reserved + e.beds);
        }
        BedEvent::BedReservationReleased(e) => {
            prop_assert_eq!(e.beds, held(before, e.bed_type, e.class, e.plan));
            prop_assert_eq!(held(after, e.bed_type, e.class, e.plan), 0);
        }
        BedEvent::BedReservationMoved(e) => {
            // Only what the first plan held moves, and the pool holds as much as before.
            let (from, to) = (e.from, e.to);
            prop_assert_ne!(from, to);
            let from_before = held(before, e.bed_type, e.class, from);
            prop_assert!(
                e.beds <= from_before,
                "moved {} of {from_before} held",
                e.beds
            );
            prop_assert_eq!(held(after, e.bed_type, e.class, from), from_before - e.beds);
            prop_assert_eq!(
                held(after, e.bed_type, e.class, to),
                held(before, e.bed_type, e.class, to) + e.beds
            );
            prop_assert_eq!(
                numbers(after, e.bed_type, e.class).3,
                numbers(before, e.bed_type, e.class).3
            );
        }
        BedEvent::BedsReported(e) => {
            // Never refused, and the reservations survive it, stranded or not.
            let pool = after.get(e.bed_type, e.class);
            prop_assert_eq!(pool.map(|p| p.counts), Some(e.counts));
            let reserved = numbers(before, e.bed_type, e.class).3;
            prop_assert_eq!(numbers(after, e.bed_type, e.class).3, reserved);
        }
        BedEvent::ReservationsOverCommitted(_) => prop_assert_eq!(before, after),
        BedEvent::ExpansionActivated(_) | BedEvent::ExpansionStoodDown(_) => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn occupied_never_exceeds_staffed_nor_staffed_total(commands in prop::collection::vec((bed_command(), 0..60i64), 1..60)) {
        let facility_id = FacilityId::from_uuid(Uuid::from_u128(3));
        let mut stream = Stream::<Facility>::new();
        let register = FacilityCommand::Register { facility_id, name: Name::parse("h").unwrap(), kind: FacilityKind::Hospital, tier: Tier::District, area: DivisionCode::parse("500101").unwrap(), location: point() };
        stream.run(stamp(t0(), register));
        let mut now = t0();
        for (command, minutes) in commands {
            now += TimeDelta::minutes(minutes);
            let before = stream.state.as_ref().unwrap().pools.clone();
            let events: Vec<_> = stream
                .run(stamp(now, FacilityCommand::Beds(command)))
                .into_iter()
                .filter_map(|e| match e {
                    FacilityEvent::Beds(e) => Some(e),
                    FacilityEvent::FacilityRegistered(_) => None,
                })
                .collect();
            let after = &stream.state.as_ref().unwrap().pools;
            check_bed_decision(&before, &events, after)?;
            check_pools(after)?;
        }
        prop_assert_eq!(&replay_through_the_log::<Facility>(&stream.events), &stream.state);
    }
}

// ---------------------------------------------------------------- lifecycles

/// The legal team steps, written out again from the issue and DESIGN.md rather than
/// read from `TeamPhase::TRANSITIONS`, so a wrong table row fails this test:
/// standby → mobilising → deployed → returning → resting → standby; a team recalled
/// while still mobilising turns back (returning); out of service (unavailable) only
/// from standby or resting, and back to standby.
const TEAM_STEPS: &[(TeamPhase, TeamPhase)] = &[
    (TeamPhase::Standby, TeamPhase::Mobilising),
    (TeamPhase::Mobilising, TeamPhase::Deployed),
    (TeamPhase::Mobilising, TeamPhase::Returning),
    (TeamPhase::Deployed, TeamPhase::Returning),
    (TeamPhase::Returning, TeamPhase::Resting),
    (TeamPhase::Resting, TeamPhase::Standby),
    (TeamPhase::Standby, TeamPhase::Unavailable),
    (TeamPhase::Resting, TeamPhase::Unavailable),
    (TeamPhase::Unavailable, TeamPhase::Standby),
];

/// The legal convertible steps, from the issue: peacetime → converting → emergency
/// active → recovering (消杀) → peacetime, and a conversion may be cancelled while
/// converting. Emergency use never returns to peacetime without recovery.
const CONVERSION_STEPS: &[(ConversionPhase, ConversionPhase)] = &[
    (ConversionPhase::Peacetime, ConversionPhase::Converting),
    (
        ConversionPhase::Converting,
        ConversionPhase::EmergencyActive,
    ),
    (ConversionPhase::Converting, ConversionPhase::Peacetime),
    (
        ConversionPhase::EmergencyActive,
        ConversionPhase::Recovering,
    ),
    (ConversionPhase::Recovering, ConversionPhase::Peacetime),
];

fn is_legal_step<P: PartialEq + Copy>(steps: &[(P, P)], from: P, to: P) -> bool {
    from == to || steps.contains(&(from, to))
}

fn team_command() -> impl Strategy<Value = TeamCommand> {
    let incident = IncidentId::from_uuid(Uuid::from_u128(4));
    prop_oneof![
        Just(TeamCommand::Mobilise {
            incident,
            destination: None,
            expected_arrival: None
        }),
        Just(TeamCommand::Deploy {
            area: DivisionCode::parse("500101001").unwrap(),
            location: point()
        }),
        Just(TeamCommand::Demobilise),
        Just(TeamCommand::ArriveAtBase),
        Just(TeamCommand::ResumeStandby),
        Just(TeamCommand::MarkUnavailable { reason: reason() }),
        Just(TeamCommand::MarkAvailable),
        (1..50u32).prop_map(|n| TeamCommand::UpdateRoster {
            headcount: Headcount::try_from(n).unwrap(),
            capabilities: BTreeSet::new()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_team_moves_only_along_legal_paths(commands in prop::collection::vec(team_command(), 1..60)) {
        let mut stream = Stream::<Team>::new();
        let register = TeamCommand::Register {
            team_id: TeamId::from_uuid(Uuid::from_u128(5)),
            name: Name::parse("t").unwrap(),
            kind: TeamKind::BackpackRapidResponse,
            tier: Tier::Township,
            home_area: AreaCode::parse("500101001").unwrap(),
            base: point(),
            headcount: Headcount::try_from(8).unwrap(),
            capabilities: BTreeSet::new(),
        };
        stream.run(stamp(t0(), register));
        for command in commands {
            let before = stream.state.as_ref().unwrap().status.phase();
            stream.run(stamp(t0(), command));
            let after = stream.state.as_ref().unwrap().status.phase();
            prop_assert!(is_legal_step(TEAM_STEPS, before, after), "{before:?} -> {after:?}");
        }
        prop_assert_eq!(&replay_through_the_log::<Team>(&stream.events), &stream.state);
    }
}

fn convertible_command() -> impl Strategy<Value = ConvertibleCommand> {
    let item = || ChecklistItem::parse("staff_rostered").unwrap();
    prop_oneof![
        (0..600u32).prop_map(move |lead| ConvertibleCommand::StartConversion {
            lead_time_minutes: lead,
            target_beds: BTreeMap::from([(BedType::GeneralIsolation, 50)]),
            checklist: BTreeSet::from([item()]),
        }),
        Just(ConvertibleCommand::CompleteReadinessItem { item: item() }),
        Just(ConvertibleCommand::CancelConversion { reason: reason() }),
        prop::option::of(Just(reason()))
            .prop_map(|early| ConvertibleCommand::ActivateEmergencyUse { early }),
        Just(ConvertibleCommand::StartRecovery),
        Just(ConvertibleCommand::CompleteRecovery),
        bed_command()
            .prop_map(|c| match c {
                // Aim bed commands at the pool emergency use opens, so some succeed.
                BedCommand::Admit { patients, plan, .. } => BedCommand::Admit {
                    bed_type: BedType::GeneralIsolation,
                    class: BedClass::Designated,
                    patients,
                    plan
                },
                BedCommand::Discharge { patients, .. } => BedCommand::Discharge {
                    bed_type: BedType::GeneralIsolation,
                    class: BedClass::Designated,
                    patients,
                    plan: None,
                },
                BedCommand::Report { counts, .. } => BedCommand::Report {
                    bed_type: BedType::GeneralIsolation,
                    class: BedClass::Designated,
                    counts,
                    lead_time_minutes: 0
                },
                other => other,
            })
            .prop_map(ConvertibleCommand::Beds),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_convertible_facility_moves_only_along_legal_paths(commands in prop::collection::vec((convertible_command(), 0..240i64), 1..60)) {
        let mut stream = Stream::<ConvertibleFacility>::new();
        let register = ConvertibleCommand::Register {
            facility_id: FacilityId::from_uuid(Uuid::from_u128(6)),
            name: Name::parse("c").unwrap(),
            peacetime_use: PeacetimeUse::Hotel,
            area: DivisionCode::parse("500101").unwrap(),
            location: point(),
            planned_beds: BTreeMap::from([(BedType::GeneralIsolation, 200)]),
            lead_time_minutes: 24 * 60,
        };
        stream.run(stamp(t0(), register));
        let mut now = t0();
        for (command, minutes) in commands {
            now += TimeDelta::minutes(minutes);
            let before = stream.state.as_ref().unwrap().clone();
            let mut bed_events = Vec::new();
            for event in stream.run(stamp(now, command)) {
                if let ConvertibleEvent::Beds(e) = &event {
                    bed_events.push(e.clone());
                }
                if let ConvertibleEvent::EmergencyUseActivated(e) = &event {
                    let ready_by = before.conversion.as_ref().map(|c| c.ready_by);
                    prop_assert!(e.early.is_some() || ready_by <= Some(e.at), "opened before {ready_by:?}");
                }
            }
            let facility = stream.state.as_ref().unwrap();
            if !bed_events.is_empty() {
                check_bed_decision(&before.pools, &bed_events, &facility.pools)?;
            }
            let (from, to) = (before.phase, facility.phase);
            prop_assert!(is_legal_step(CONVERSION_STEPS, from, to), "{from:?} -> {to:?}");
            if matches!(facility.phase, ConversionPhase::Peacetime | ConversionPhase::Converting) {
                prop_assert!(facility.pools.is_empty(), "beds held outside emergency use");
            }
            check_pools(&facility.pools)?;
            if facility.phase == ConversionPhase::Recovering {
                prop_assert_eq!(facility.pools.occupied(), 0);
            }
        }
        prop_assert_eq!(&replay_through_the_log::<ConvertibleFacility>(&stream.events), &stream.state);
    }
}

// ---------------------------------------------------------------- incidents and items

fn incident_command() -> impl Strategy<Value = IncidentCommand> {
    let level = prop::sample::select(vec![
        ResponseLevel::I,
        ResponseLevel::II,
        ResponseLevel::III,
        ResponseLevel::IV,
    ]);
    let township = prop::sample::select(vec!["500101001", "500101002", "500102001"])
        .prop_map(|code| DivisionCode::parse(code).unwrap());
    prop_oneof![
        level.clone().prop_map(|level| IncidentCommand::RaiseLevel {
            level,
            reason: reason()
        }),
        level.prop_map(|level| IncidentCommand::LowerLevel {
            level,
            reason: reason()
        }),
        township
            .clone()
            .prop_map(|area| IncidentCommand::ExtendAffectedAreas {
                areas: BTreeSet::from([area])
            }),
        (township.clone(), 0..20u32).prop_map(|(township, beds)| {
            IncidentCommand::RecordBedDemand {
                bed_type: BedType::GeneralIsolation,
                township,
                beds,
            }
        }),
        (township, 0..50u32).prop_map(|(area, n)| IncidentCommand::RecordSupplyDemand {
            item: item(),
            area,
            quantity: Quantity::new(n)
        }),
        (0..5u32).prop_map(|teams| IncidentCommand::RecordTeamDemand {
            kind: TeamKind::MedicalRescue,
            teams
        }),
        Just(IncidentCommand::Close {
            reason: reason(),
            release_all: false
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn replaying_an_incident_rebuilds_its_state(commands in prop::collection::vec(incident_command(), 1..40)) {
        let mut stream = Stream::<Incident>::new();
        let declare = IncidentCommand::Declare {
            incident_id: IncidentId::from_uuid(Uuid::from_u128(7)),
            kind: IncidentKind::InfectiousDisease,
            level: ResponseLevel::III,
            title: Name::parse("i").unwrap(),
            affected_areas: BTreeSet::from([DivisionCode::parse("500101").unwrap()]),
            location: None,
        };
        stream.run(stamp(t0(), declare));
        for command in commands {
            stream.run(stamp(t0(), command));
        }
        prop_assert_eq!(&replay_through_the_log::<Incident>(&stream.events), &stream.state);
    }

    #[test]
    fn replaying_a_catalogue_item_rebuilds_its_state(commands in prop::collection::vec((0..3u8, 0..2u8), 1..20)) {
        let details = |n: u8| ItemDetails {
            name: Name::parse(format!("item {n}")).unwrap(),
            unit: Unit::parse("box").unwrap(),
            category: SupplyCategory::ProtectiveEquipment,
            shelf_life_days: None,
        };
        let mut stream = Stream::<CatalogueItem>::new();
        for (op, n) in commands {
            let command = match op {
                0 => ItemCommand::Catalogue { item: item(), details: details(n) },
                1 => ItemCommand::Revise { details: details(n) },
                _ => ItemCommand::Retire { reason: reason() },
            };
            stream.run(stamp(t0(), command));
        }
        prop_assert_eq!(&replay_through_the_log::<CatalogueItem>(&stream.events), &stream.state);
    }
}
