use chrono::{DateTime, Utc};

use super::{ReserveTier, WriteOffCause};
use crate::area::AreaCode;
use crate::geo::GeoPoint;
use crate::ids::{DepotId, PlanId, TransferId};
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
    /// Stock left the depot for use.
    StockIssued (version 1) {
        1 depot_id: DepotId,
        2 item: ItemCode,
        3 plan: Option<PlanId>,
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
    /// Stock left for another depot; in flight until the destination receives it.
    TransferDispatched (version 1) {
        1 depot_id: DepotId,
        2 transfer: TransferId,
        3 to: DepotId,
        4 item: ItemCode,
        5 picks: Vec<LotPick>,
        6 reason: Reason,
        7 at: DateTime<Utc>,
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
        StockReserved,
        StockReservationReleased,
        TransferDispatched,
        TransferReceived,
        TransferReturned,
        StockWrittenOff,
        StockCounted,
        ReserveNormSet,
    }
);
