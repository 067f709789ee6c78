use chrono::{DateTime, Utc};

use super::{ReserveTier, WriteOffCause};
use crate::area::AreaCode;
use crate::geo::GeoPoint;
use crate::ids::{DepotId, FacilityId, IncidentId, PlanId, ShipmentId, TransferId};
use crate::supply::ItemCode;
use crate::values::{Name, Quantity, Reason};

text_newtype!(
    /// A lot (batch) number as printed by the manufacturer.
    LotNumber, field = "lot_number", max = 64, chars = lot_char,
    pattern = "^[A-Za-z0-9._/-]+$", example = "20250601A"
);

fn lot_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_./".contains(c)
}

message!(
    /// A quantity taken from (or put into) one lot, with the lot's expiry so the
    /// receiving side of a transfer can rebuild the lot.
    #[derive(Eq)]
    #[serde(deny_unknown_fields)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    LotPick {
        1 lot_number: LotNumber,
        2 quantity: Quantity,
        #[cfg_attr(feature = "openapi", schema(example = "2027-06-30T00:00:00Z"))]
        3 expiry: Option<DateTime<Utc>>,
    }
);

message!(
    /// A depot joined the one network.
    DepotRegistered (version 1) {
        1 depot_id: DepotId,
        2 name: Name,
        3 tier: ReserveTier,
        4 area: AreaCode,
        5 location: GeoPoint,
        6 at: DateTime<Utc>,
    }
);

message!(
    /// A lot arrived; `at` is its received-at time.
    LotReceived (version 1) {
        1 depot_id: DepotId,
        2 item: ItemCode,
        3 lot_number: LotNumber,
        4 quantity: Quantity,
        5 expiry: Option<DateTime<Utc>>,
        6 reason: Reason,
        7 at: DateTime<Utc>,
    }
);

message!(
    /// Where issued stock is going and when it is expected there (配送): a
    /// township, a facility in it, or an incident site.
    #[serde(deny_unknown_fields)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    Delivery {
        /// Names the consignment until it is signed for or returned.
        1 shipment: ShipmentId,
        /// The township (or district) it goes to.
        2 area: AreaCode,
        /// The facility in that area that receives it, if one does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        3 facility: Option<FacilityId>,
        /// Where it is unloaded, when that is not the facility (an incident site).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        4 location: Option<GeoPoint>,
        #[cfg_attr(feature = "openapi", schema(example = "2026-11-23T12:00:00Z"))]
        5 expected_arrival: DateTime<Utc>,
    }
);

message!(
    /// Stock left the depot for use; with a `delivery` it is in transit to its
    /// destination until signed for (`DeliverySigned`) or returned (`DeliveryReturned`).
    StockIssued (version 1) {
        1 depot_id: DepotId,
        2 item: ItemCode,
        3 plan: Option<PlanId>,
        4 picks: Vec<LotPick>,
        5 reason: Reason,
        6 at: DateTime<Utc>,
        /// The incident it was issued for (a plan's incident, when it has one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        7 incident: Option<IncidentId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        8 delivery: Option<Delivery>,
    }
);

message!(
    /// 签收 — the destination signed for an issued consignment: it is delivered.
    DeliverySigned (version 1) {
        1 depot_id: DepotId,
        2 shipment: ShipmentId,
        3 received_by: Name,
        4 at: DateTime<Utc>,
    }
);

message!(
    /// The destination refused a consignment (拒收) and it came back to the depot,
    /// into the lots it left.
    DeliveryReturned (version 1) {
        1 depot_id: DepotId,
        2 shipment: ShipmentId,
        3 item: ItemCode,
        4 picks: Vec<LotPick>,
        5 reason: Reason,
        6 at: DateTime<Utc>,
    }
);

message!(
    /// Lots were held for a plan.
    StockReserved (version 1) {
        1 depot_id: DepotId,
        2 plan: PlanId,
        3 item: ItemCode,
        4 picks: Vec<LotPick>,
        5 reason: Reason,
        6 at: DateTime<Utc>,
        /// The incident the plan serves, when it serves one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        7 incident: Option<IncidentId>,
    }
);

message!(
    /// A plan's hold on an item was given back.
    StockReservationReleased (version 1) {
        1 depot_id: DepotId,
        2 plan: PlanId,
        3 item: ItemCode,
        4 picks: Vec<LotPick>,
        5 reason: Reason,
        6 at: DateTime<Utc>,
    }
);

message!(
    /// Part of one plan's hold on an item passed to the plan superseding it, lot
    /// by lot; the depot's reserved total is unchanged.
    StockReservationMoved (version 1) {
        1 depot_id: DepotId,
        2 from: PlanId,
        3 to: PlanId,
        4 item: ItemCode,
        5 picks: Vec<LotPick>,
        6 reason: Reason,
        7 at: DateTime<Utc>,
        /// The incident both plans serve.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        8 incident: Option<IncidentId>,
    }
);

message!(
    /// Stock left for another depot; in transit until the destination receives it.
    /// Without `expected_arrival` it is received at once (the transfer process
    /// settles it); with one it travels until the destination signs for it.
    TransferDispatched (version 1) {
        1 depot_id: DepotId,
        2 transfer: TransferId,
        3 to: DepotId,
        4 item: ItemCode,
        5 picks: Vec<LotPick>,
        6 reason: Reason,
        7 at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        8 expected_arrival: Option<DateTime<Utc>>,
        /// The incident it moves stock for, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        9 incident: Option<IncidentId>,
    }
);

message!(
    /// Stock dispatched by another depot arrived here.
    TransferReceived (version 1) {
        1 depot_id: DepotId,
        2 transfer: TransferId,
        3 from: DepotId,
        4 item: ItemCode,
        5 lots: Vec<LotPick>,
        6 at: DateTime<Utc>,
        7 reason: Reason,
    }
);

message!(
    /// A dispatched transfer came back to its source (compensation).
    TransferReturned (version 1) {
        1 depot_id: DepotId,
        2 transfer: TransferId,
        3 item: ItemCode,
        4 picks: Vec<LotPick>,
        5 reason: Reason,
        6 at: DateTime<Utc>,
        /// The incident it moved stock for, if any (as the dispatch named it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        7 incident: Option<IncidentId>,
        /// The depot it was dispatched to, which refused it (as the dispatch
        /// named it; returns recorded before this was kept have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        8 to: Option<DepotId>,
    }
);

message!(
    /// The destination received a transfer this depot dispatched: the source's
    /// record of it is closed (the transfer process appends it after the receipt).
    TransferCompleted (version 1) {
        1 depot_id: DepotId,
        2 transfer: TransferId,
        3 to: DepotId,
        4 at: DateTime<Utc>,
        /// The incident it moved stock for, if any (as the dispatch named it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        5 incident: Option<IncidentId>,
    }
);

message!(
    /// Stock was removed as expired, damaged, lost or recalled.
    StockWrittenOff (version 1) {
        1 depot_id: DepotId,
        2 item: ItemCode,
        3 lot_number: LotNumber,
        4 quantity: Quantity,
        5 cause: WriteOffCause,
        6 reason: Reason,
        7 at: DateTime<Utc>,
    }
);

message!(
    /// A stocktake set a lot's quantity.
    StockCounted (version 1) {
        1 depot_id: DepotId,
        2 item: ItemCode,
        3 lot_number: LotNumber,
        4 previous: Quantity,
        5 counted: Quantity,
        6 reason: Reason,
        7 at: DateTime<Utc>,
    }
);

message!(
    /// 储备定额 — the minimum to hold of an item was set (zero: no norm).
    ReserveNormSet (version 1) {
        1 depot_id: DepotId,
        2 item: ItemCode,
        3 minimum: Quantity,
        4 reason: Reason,
        5 at: DateTime<Utc>,
    }
);

event_enum!(
    /// Facts on a depot's stream, `depot-<uuid>`.
    pub enum DepotEvent {
        DepotRegistered,
        LotReceived,
        StockIssued,
        DeliverySigned,
        DeliveryReturned,
        StockReserved,
        StockReservationReleased,
        StockReservationMoved,
        TransferDispatched,
        TransferReceived,
        TransferReturned,
        TransferCompleted,
        StockWrittenOff,
        StockCounted,
        ReserveNormSet,
    }
);
