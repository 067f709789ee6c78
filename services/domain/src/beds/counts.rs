use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::schema::{FieldSchema, Message, MessageSchema};

/// A pool's bed counts, which always satisfy occupied ≤ staffed ≤ total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawBedCounts")]
// Serde reads through `RawBedCounts`, which denies unknown fields; said again here
// (a no-op for serde under `try_from`) so the OpenAPI schema closes the object too.
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(
    example = json!({"total": 40, "staffed": 36, "occupied": 21})
))]
pub struct BedCounts {
    /// Beds in the pool.
    #[cfg_attr(feature = "openapi", schema(example = 40))]
    total: u32,
    /// Beds with staff to run them; at most `total`.
    #[cfg_attr(feature = "openapi", schema(example = 36))]
    staffed: u32,
    /// Staffed beds with a patient in them; at most `staffed`.
    #[cfg_attr(feature = "openapi", schema(example = 21))]
    occupied: u32,
}

impl Message for BedCounts {
    const SCHEMA: MessageSchema = MessageSchema {
        name: "BedCounts",
        fields: &[
            FieldSchema {
                number: 1,
                name: "total",
            },
            FieldSchema {
                number: 2,
                name: "staffed",
            },
            FieldSchema {
                number: 3,
                name: "occupied",
            },
        ],
    };
}

impl BedCounts {
    pub fn new(total: u32, staffed: u32, occupied: u32) -> Result<Self, DomainError> {
        if staffed > total {
            return Err(DomainError::invalid(
                "staffed",
                format!("{staffed} staffed beds exceed the {total} in total"),
            ));
        }
        if occupied > staffed {
            return Err(DomainError::invalid(
                "occupied",
                format!("{occupied} occupied beds exceed the {staffed} staffed"),
            ));
        }
        Ok(Self {
            total,
            staffed,
            occupied,
        })
    }

    pub fn total(self) -> u32 {
        self.total
    }

    pub fn staffed(self) -> u32 {
        self.staffed
    }

    pub fn occupied(self) -> u32 {
        self.occupied
    }

    /// Staffed beds nobody lies in (before reservations).
    pub fn free(self) -> u32 {
        self.staffed - self.occupied
    }

    /// How many of `reserved` promised beds these counts cannot hold: reserved − free,
    /// or 0 when the free beds cover them.
    pub fn shortfall(self, reserved: u32) -> u32 {
        reserved.saturating_sub(self.free())
    }

    /// The counts with a different occupancy, if it still fits the staffed beds.
    pub fn with_occupied(self, occupied: u32) -> Result<Self, DomainError> {
        Self::new(self.total, self.staffed, occupied)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBedCounts {
    total: u32,
    staffed: u32,
    occupied: u32,
}

impl TryFrom<RawBedCounts> for BedCounts {
    type Error = DomainError;
    fn try_from(raw: RawBedCounts) -> Result<Self, Self::Error> {
        Self::new(raw.total, raw.staffed, raw.occupied)
    }
}
