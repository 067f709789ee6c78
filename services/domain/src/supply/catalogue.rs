//! The item catalogue: what can be stocked, in which unit, and for how long it keeps.
//! One aggregate per item, stream `item-<code>`, so catalogue edits never contend.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::decider::{Decider, Stamped, registered, unregistered};
use crate::lifecycle::Lifecycle;
use crate::values::{Name, Reason, Unit, code_char};

text_newtype!(
    /// A catalogue item code, e.g. `N95-1860`; ASCII so it can name a stream.
    ItemCode, field = "item", max = 64, chars = code_char,
    pattern = "^[A-Za-z0-9._-]+$", example = "N95-1860"
);

/// 物资类别 — the kind of supply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "protective_equipment")
)]
pub enum SupplyCategory {
    /// 药品
    Medicine,
    /// 医疗器械
    MedicalDevice,
    /// 防护用品
    ProtectiveEquipment,
    /// 消杀用品
    Disinfectant,
    /// 检测试剂
    TestReagent,
    /// 疫苗
    Vaccine,
    Other,
}

all_values!(SupplyCategory {
    Medicine,
    MedicalDevice,
    ProtectiveEquipment,
    Disinfectant,
    TestReagent,
    Vaccine,
    Other
});

/// How long an item keeps after manufacture, in days (1 to 100 years' worth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(minimum = 1, maximum = 36500, example = 1825)
)]
pub struct ShelfLife(u32);

impl ShelfLife {
    pub const fn days(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for ShelfLife {
    type Error = DomainError;
    fn try_from(days: u32) -> Result<Self, Self::Error> {
        if (1..=36_500).contains(&days) {
            Ok(Self(days))
        } else {
            Err(DomainError::invalid(
                "shelf_life_days",
                "must be between 1 and 36500 days",
            ))
        }
    }
}

impl From<ShelfLife> for u32 {
    fn from(s: ShelfLife) -> u32 {
        s.0
    }
}

message!(
    /// What the catalogue says about an item.
    #[serde(deny_unknown_fields)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    ItemDetails {
        1 name: Name,
        2 unit: Unit,
        3 category: SupplyCategory,
        /// `None` for items that do not expire (most equipment).
        4 shelf_life_days: Option<ShelfLife>,
    }
);

/// What can be done to a catalogue item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ItemCommand {
    Catalogue {
        item: ItemCode,
        details: ItemDetails,
    },
    Revise {
        details: ItemDetails,
    },
    /// No longer stocked; existing lots stay until used or written off.
    Retire {
        reason: Reason,
    },
}

message!(
    /// An item entered the catalogue.
    ItemCatalogued (version 1) {
        1 item: ItemCode,
        2 details: ItemDetails,
        3 at: DateTime<Utc>,
    }
);

message!(
    /// The catalogue's description of an item changed.
    ItemRevised (version 1) {
        1 item: ItemCode,
        2 details: ItemDetails,
        3 at: DateTime<Utc>,
    }
);

message!(
    /// The item is no longer stocked.
    ItemRetired (version 1) {
        1 item: ItemCode,
        2 reason: Reason,
        3 at: DateTime<Utc>,
    }
);

event_enum!(
    /// Facts on a catalogue item's stream, `item-<code>`.
    pub enum ItemEvent {
        ItemCatalogued,
        ItemRevised,
        ItemRetired,
    }
);

/// Whether an item is still stocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(example = "active")
)]
pub enum ItemPhase {
    Active,
    Retired,
}

impl Lifecycle for ItemPhase {
    const AGGREGATE: &'static str = "catalogue item";
    const TRANSITIONS: &'static [(Self, &'static str, Self)] = &[
        (Self::Active, "revise", Self::Active),
        (Self::Active, "retire", Self::Retired),
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Retired => "retired",
        }
    }
}

/// A catalogued item.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemState {
    pub item: ItemCode,
    pub details: ItemDetails,
    pub phase: ItemPhase,
}

/// The catalogue item aggregate; stream `item-<code>`.
pub struct CatalogueItem;

impl Decider for CatalogueItem {
    type State = Option<ItemState>;
    type Command = Stamped<ItemCommand>;
    type Event = ItemEvent;
    type Error = DomainError;
    type Id = ItemCode;
    const STREAM_PREFIX: &'static str = "item";

    fn decide(state: &Self::State, stamped: Self::Command) -> Result<Vec<ItemEvent>, DomainError> {
        let at = stamped.context.at;
        if let ItemCommand::Catalogue { item, details } = stamped.command {
            unregistered(state, "catalogue item", &item)?;
            return Ok(vec![ItemCatalogued { item, details, at }.into()]);
        }
        let current = registered(state, "catalogue item")?;
        let item = current.item.clone();
        let event = match stamped.command {
            ItemCommand::Revise { details } => {
                current.phase.step("revise")?;
                ItemRevised { item, details, at }.into()
            }
            ItemCommand::Retire { reason } => {
                current.phase.step("retire")?;
                ItemRetired { item, reason, at }.into()
            }
            ItemCommand::Catalogue { item, .. } => {
                return Err(DomainError::already_exists("catalogue item", item));
            }
        };
        Ok(vec![event])
    }

    fn evolve(state: Self::State, event: &ItemEvent) -> Self::State {
        match (state, event) {
            (_, ItemEvent::ItemCatalogued(e)) => Some(ItemState {
                item: e.item.clone(),
                details: e.details.clone(),
                phase: ItemPhase::Active,
            }),
            (Some(s), ItemEvent::ItemRevised(e)) => Some(ItemState {
                details: e.details.clone(),
                ..s
            }),
            (Some(s), ItemEvent::ItemRetired(_)) => Some(ItemState {
                phase: ItemPhase::Retired,
                ..s
            }),
            (None, _) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{stamp, t0};
    use crate::testing::given;

    fn code() -> ItemCode {
        ItemCode::parse("N95-1860").unwrap()
    }

    fn details(name: &str) -> ItemDetails {
        ItemDetails {
            name: Name::parse(name).unwrap(),
            unit: Unit::parse("只").unwrap(),
            category: SupplyCategory::ProtectiveEquipment,
            shelf_life_days: Some(ShelfLife::try_from(1825).unwrap()),
        }
    }

    fn catalogued() -> ItemEvent {
        ItemCatalogued {
            item: code(),
            details: details("N95 口罩"),
            at: t0(),
        }
        .into()
    }

    #[test]
    fn an_item_is_catalogued_once() {
        given::<CatalogueItem>([])
            .when(stamp(ItemCommand::Catalogue {
                item: code(),
                details: details("N95 口罩"),
            }))
            .then([catalogued()]);
        given::<CatalogueItem>([catalogued()])
            .when(stamp(ItemCommand::Catalogue {
                item: code(),
                details: details("N95 口罩"),
            }))
            .then_err_code("already-exists");
    }

    #[test]
    fn a_retired_item_cannot_be_revised() {
        let retired = ItemRetired {
            item: code(),
            reason: Reason::parse("replaced").unwrap(),
            at: t0(),
        };
        let err = given::<CatalogueItem>([catalogued(), retired.into()])
            .when(stamp(ItemCommand::Revise {
                details: details("N95"),
            }))
            .then_err_code("illegal-transition");
        assert!(err.to_string().contains("retired"));
    }

    #[test]
    fn a_revision_replaces_the_details() {
        let state = given::<CatalogueItem>([catalogued()])
            .when(stamp(ItemCommand::Revise {
                details: details("N95 医用防护口罩"),
            }))
            .then([ItemRevised {
                item: code(),
                details: details("N95 医用防护口罩"),
                at: t0(),
            }
            .into()]);
        assert_eq!(state.unwrap().details.name.as_str(), "N95 医用防护口罩");
    }

    #[test]
    fn a_shelf_life_is_at_least_a_day() {
        assert!(serde_json::from_str::<ShelfLife>("0").is_err());
    }
}
