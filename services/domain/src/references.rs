//! What a command names outside its own aggregate.
//!
//! A township in a demand, the depot a transfer goes to, the incident a team is
//! mobilised for: the decider cannot see whether these exist, since it sees only
//! its own aggregate. So each command says what it refers to, and the edge (which
//! holds the area tree and can read the other aggregates) checks every reference
//! before the command is decided. A command naming something that does not exist
//! is refused then, with the field at fault, instead of being accepted and
//! silently dropped later.

use crate::area::{AreaCode, DivisionCode};
use crate::beds::FacilityCommand;
use crate::convertible::ConvertibleCommand;
use crate::ids::{DepotId, FacilityId, IncidentId, ShipmentId, TransferId};
use crate::incident::IncidentCommand;
use crate::supply::ItemCode;
use crate::supply::ItemCommand;
use crate::supply::depot::DepotCommand;
use crate::team::TeamCommand;

/// One thing a command names, and the field that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// An area of the hierarchy (a division or a region).
    Area { field: String, code: AreaCode },
    /// A catalogued supply item.
    Item { field: &'static str, code: ItemCode },
    /// A registered depot.
    Depot { field: &'static str, id: DepotId },
    /// A registered facility or 平急两用 venue.
    Facility { field: &'static str, id: FacilityId },
    /// An incident that is declared and still open: resources are committed only
    /// to an open incident.
    OpenIncident { field: &'static str, id: IncidentId },
    /// The id of a new transfer: no transfer under it has been settled. A depot
    /// keeps no record of its settled transfers (its state would grow with every
    /// one), so only the log can tell, by the settlement's key.
    NewTransfer { field: &'static str, id: TransferId },
    /// The id of a new consignment: no depot issued one under it. A depot
    /// refuses an id it issued itself; only the edge sees the other depots.
    NewShipment { field: &'static str, id: ShipmentId },
}

impl Reference {
    fn area(field: impl Into<String>, code: impl Into<AreaCode>) -> Self {
        Self::Area {
            field: field.into(),
            code: code.into(),
        }
    }

    fn item(code: &ItemCode) -> Self {
        Self::Item {
            field: "item",
            code: code.clone(),
        }
    }

    fn areas<'a>(field: &str, codes: impl IntoIterator<Item = &'a DivisionCode>) -> Vec<Self> {
        codes
            .into_iter()
            .enumerate()
            .map(|(i, code)| Self::area(format!("{field}.{i}"), code.clone()))
            .collect()
    }
}

/// A command that names things outside its aggregate.
pub trait Refers {
    /// Everything the command names that the edge must find before deciding it.
    fn references(&self) -> Vec<Reference>;
}

impl Refers for TeamCommand {
    fn references(&self) -> Vec<Reference> {
        match self {
            Self::Register { home_area, .. } => {
                vec![Reference::area("home_area", home_area.clone())]
            }
            Self::Mobilise { incident, .. } => vec![Reference::OpenIncident {
                field: "incident",
                id: *incident,
            }],
            Self::Deploy { area, .. } => vec![Reference::area("area", area.clone())],
            _ => Vec::new(),
        }
    }
}

impl Refers for IncidentCommand {
    fn references(&self) -> Vec<Reference> {
        match self {
            Self::Declare { affected_areas, .. } => {
                Reference::areas("affected_areas", affected_areas)
            }
            Self::ExtendAffectedAreas { areas } => Reference::areas("areas", areas),
            Self::RecordBedDemand { township, .. } => {
                vec![Reference::area("township", township.clone())]
            }
            Self::RecordSupplyDemand { item, area, .. } => {
                vec![Reference::item(item), Reference::area("area", area.clone())]
            }
            _ => Vec::new(),
        }
    }
}

impl Refers for DepotCommand {
    fn references(&self) -> Vec<Reference> {
        match self {
            Self::Register { area, .. } => vec![Reference::area("area", area.clone())],
            Self::DispatchTransfer {
                transfer,
                to,
                item,
                incident,
                ..
            } => {
                let mut named = vec![
                    Reference::Depot {
                        field: "to",
                        id: *to,
                    },
                    Reference::item(item),
                    Reference::NewTransfer {
                        field: "transfer",
                        id: *transfer,
                    },
                ];
                named.extend(incident.map(|id| Reference::OpenIncident {
                    field: "incident",
                    id,
                }));
                named
            }
            Self::Issue {
                item,
                incident,
                delivery,
                ..
            } => {
                let mut named = vec![Reference::item(item)];
                named.extend(incident.map(|id| Reference::OpenIncident {
                    field: "incident",
                    id,
                }));
                if let Some(delivery) = delivery {
                    named.push(Reference::NewShipment {
                        field: "delivery.shipment",
                        id: delivery.shipment,
                    });
                    named.push(Reference::area("delivery.area", delivery.area.clone()));
                    named.extend(delivery.facility.map(|id| Reference::Facility {
                        field: "delivery.facility",
                        id,
                    }));
                }
                named
            }
            Self::SignTransfer { from, .. } | Self::RefuseTransfer { from, .. } => {
                vec![Reference::Depot {
                    field: "from",
                    id: *from,
                }]
            }
            Self::ReceiveTransfer { from, item, .. } => vec![
                Reference::Depot {
                    field: "from",
                    id: *from,
                },
                Reference::item(item),
            ],
            Self::Reserve { item, incident, .. } | Self::MoveReservation { item, incident, .. } => {
                let mut named = vec![Reference::item(item)];
                named.extend(incident.map(|id| Reference::OpenIncident {
                    field: "incident",
                    id,
                }));
                named
            }
            Self::ReceiveLot { item, .. }
            | Self::Release { item, .. }
            | Self::WriteOff { item, .. }
            | Self::AdjustCount { item, .. }
            | Self::SetReserveNorm { item, .. } => vec![Reference::item(item)],
            Self::ReturnTransfer { .. }
            | Self::CompleteTransfer { .. }
            | Self::SignDelivery { .. }
            | Self::RefuseDelivery { .. } => Vec::new(),
        }
    }
}

impl Refers for FacilityCommand {
    fn references(&self) -> Vec<Reference> {
        match self {
            Self::Register { area, .. } => vec![Reference::area("area", area.clone())],
            Self::Beds(_) => Vec::new(),
        }
    }
}

impl Refers for ConvertibleCommand {
    fn references(&self) -> Vec<Reference> {
        match self {
            Self::Register { area, .. } => vec![Reference::area("area", area.clone())],
            _ => Vec::new(),
        }
    }
}

impl Refers for ItemCommand {
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::Quantity;

    #[test]
    fn a_supply_demand_names_its_item_and_its_area() {
        let demand = IncidentCommand::RecordSupplyDemand {
            item: ItemCode::parse("N95").unwrap(),
            area: DivisionCode::parse("500101999").unwrap(),
            quantity: Quantity::new(10),
        };
        assert_eq!(
            demand.references(),
            vec![
                Reference::item(&ItemCode::parse("N95").unwrap()),
                Reference::area("area", DivisionCode::parse("500101999").unwrap()),
            ]
        );
    }

    #[test]
    fn each_affected_area_is_named_by_its_place_in_the_list() {
        let extend = IncidentCommand::ExtendAffectedAreas {
            areas: [
                DivisionCode::parse("500101").unwrap(),
                DivisionCode::parse("500102").unwrap(),
            ]
            .into(),
        };
        let fields: Vec<String> = extend
            .references()
            .into_iter()
            .map(|r| match r {
                Reference::Area { field, .. } => field,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(fields, ["areas.0", "areas.1"]);
    }
}
