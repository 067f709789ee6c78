use serde::{Deserialize, Serialize};

use crate::area::Tier;

/// 响应级别 — the response level. Ⅰ is the most severe (特别重大), Ⅳ the least (一般).
/// Ordering follows the numerals, so `I < IV` means "Ⅰ is more severe than Ⅳ".
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(example = "III"))]
pub enum ResponseLevel {
    /// Ⅰ级 — 特别重大.
    I,
    /// Ⅱ级 — 重大.
    II,
    /// Ⅲ级 — 较大.
    III,
    /// Ⅳ级 — 一般.
    IV,
}

all_values!(ResponseLevel { I, II, III, IV });

impl ResponseLevel {
    pub fn is_more_severe_than(self, other: Self) -> bool {
        self < other
    }

    /// The highest tier whose resources this level may draw on: a Ⅳ级 response is met
    /// by the district, Ⅲ级 calls in the region, Ⅱ级 and Ⅰ级 the whole city.
    pub fn highest_tier(self) -> Tier {
        match self {
            Self::I | Self::II => Tier::City,
            Self::III => Tier::Region,
            Self::IV => Tier::District,
        }
    }

    /// Whether resources held at `tier` may be drawn on at this level.
    pub fn may_draw_on(self, tier: Tier) -> bool {
        tier >= self.highest_tier()
    }
}
