use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Delivery, LotNumber, LotPick};
use crate::area::AreaCode;
use crate::geo::GeoPoint;
use crate::ids::{DepotId, IncidentId, PlanId, ShipmentId, TransferId};
use crate::supply::ItemCode;
use crate::values::{Name, Quantity, Reason};

/// 储备层级 — the reserve tier a depot belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "district")
)]
pub enum ReserveTier {
    /// 市级 — city reserve.
    City,
    /// 区域 — regional reserve.
    Regional,
    /// 区县 — district reserve.
    District,
    /// 机构 — an institution's own reserve.
    Institution,
}

all_values!(ReserveTier {
    City,
    Regional,
    District,
    Institution
});

/// Why stock is written off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "expired")
)]
pub enum WriteOffCause {
    /// Past its expiry; only an expired lot may be written off for this cause.
    Expired,
    Damaged,
    Lost,
    Recalled,
}

all_values!(WriteOffCause {
    Expired,
    Damaged,
    Lost,
    Recalled
});

/// How close to expiry a lot may be before a reservation spares it: stock held
/// for a plan may wait days before it is issued, and must still be usable then.
pub const EXPIRY_MARGIN_DAYS: u32 = 7;

/// What can be done at a depot. Every stock movement carries a reason for audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DepotCommand {
    Register {
        depot_id: DepotId,
        name: Name,
        tier: ReserveTier,
        area: AreaCode,
        location: GeoPoint,
    },
    /// Stock arrives from a supplier or donor.
    ReceiveLot {
        item: ItemCode,
        lot_number: LotNumber,
        quantity: Quantity,
        #[cfg_attr(feature = "openapi", schema(example = "2027-06-30T00:00:00Z"))]
        expiry: Option<DateTime<Utc>>,
        reason: Reason,
    },
    /// Stock leaves for use; from a plan's reservation when `plan` is given. With
    /// `delivery` it is in transit to a township, facility or incident site until
    /// the destination signs for it (`sign_delivery`) or refuses it.
    Issue {
        item: ItemCode,
        quantity: Quantity,
        plan: Option<PlanId>,
        reason: Reason,
        /// The incident it is for; a plan's issue may leave it out (the plan says).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident: Option<IncidentId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivery: Option<Delivery>,
    },
    /// 签收 — the destination signed for a consignment in transit.
    SignDelivery {
        shipment: ShipmentId,
        /// Who signed, as on the delivery note (e.g. 高笋塘街道社区卫生服务中心 药房).
        received_by: Name,
    },
    /// 拒收 — the destination refused a consignment; it comes back into its lots.
    RefuseDelivery {
        shipment: ShipmentId,
        reason: Reason,
    },
    /// Hold stock for an approved plan.
    Reserve {
        plan: PlanId,
        item: ItemCode,
        quantity: Quantity,
        reason: Reason,
        /// Lots expiring within this many days are held only after every
        /// later-expiring one (default [`EXPIRY_MARGIN_DAYS`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expiry_margin_days: Option<u32>,
        /// The incident the plan serves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident: Option<IncidentId>,
    },
    /// Give back everything a plan holds of an item.
    Release {
        plan: PlanId,
        item: ItemCode,
        reason: Reason,
    },
    /// Hand `quantity` of what plan `from` holds of an item over to plan `to`,
    /// the plan that supersedes it: the lots stay held throughout, so nobody
    /// else can take them between a release and a new reservation. The soonest
    /// expiring held lots move first. Sent by the plan process.
    MoveReservation {
        from: PlanId,
        to: PlanId,
        item: ItemCode,
        quantity: Quantity,
        reason: Reason,
        /// The incident both plans serve.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident: Option<IncidentId>,
    },
    /// The source half of a transfer. Without `expected_arrival` the destination
    /// receives it at once; with one it is in transit until the destination signs
    /// for it (`sign_transfer`) or refuses it (`refuse_transfer`).
    DispatchTransfer {
        transfer: TransferId,
        to: DepotId,
        item: ItemCode,
        quantity: Quantity,
        reason: Reason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(example = "2026-11-23T14:00:00Z"))]
        expected_arrival: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        incident: Option<IncidentId>,
    },
    /// 签收, sent to the destination: it received a transfer in transit from `from`.
    /// The transfer process turns it into `ReceiveTransfer` built from the dispatch;
    /// a depot never decides it itself.
    SignTransfer {
        transfer: TransferId,
        from: DepotId,
        received_by: Name,
    },
    /// 拒收, sent to the destination: it will not take a transfer in transit, which
    /// goes back to its source (the transfer process returns it there).
    RefuseTransfer {
        transfer: TransferId,
        from: DepotId,
        reason: Reason,
    },
    /// The destination half: the lots the source dispatched, each lot once. Sent only
    /// by the transfer process, from the `TransferDispatched` event (see the module doc).
    ReceiveTransfer {
        transfer: TransferId,
        from: DepotId,
        item: ItemCode,
        lots: Vec<LotPick>,
        reason: Reason,
    },
    /// Compensation: the destination could not take the transfer, so the source takes
    /// it back. Never after the destination received it (see the module doc).
    ReturnTransfer {
        transfer: TransferId,
        reason: Reason,
    },
    /// Closes the source's record of a transfer its destination received. Sent
    /// only by the transfer process, after `ReceiveTransfer` (see the module doc).
    CompleteTransfer { transfer: TransferId },
    WriteOff {
        item: ItemCode,
        lot_number: LotNumber,
        quantity: Quantity,
        cause: WriteOffCause,
        reason: Reason,
    },
    /// A stocktake found a different quantity in a lot.
    AdjustCount {
        item: ItemCode,
        lot_number: LotNumber,
        counted: Quantity,
        reason: Reason,
    },
    /// 储备定额 — the minimum this depot should hold of an item (zero clears it).
    SetReserveNorm {
        item: ItemCode,
        minimum: Quantity,
        reason: Reason,
    },
}
