//! Travel times between sites, in whole seconds.
//!
//! Without a survey of the roads, a time is estimated from the great-circle
//! distance: `haversine × circuity`, driven at the speed of each distance band.
//! Short trips stay on urban streets, longer ones reach arterials, long ones the
//! expressway; the bands are cumulative, so a longer trip never takes less time.
//! Chongqing is a mountain city of rivers and bridges, hence a circuity well above
//! the 1.2–1.3 usual on flat ground. When the caller has a real travel-time matrix
//! (from a routing engine or a survey), its times replace the estimate pair by
//! pair; pairs it lacks keep the estimate.

use std::collections::BTreeMap;

use geo::{Distance, Haversine};
use serde::{Deserialize, Serialize};

use crate::model::Point;

/// One distance band: trips are driven at `kmh` from the previous band's end up
/// to `up_to_km` (the last band's end is ignored: it runs on forever).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeedBand {
    pub up_to_km: f64,
    pub kmh: f64,
}

/// How distances become times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoadModel {
    /// Road distance ÷ straight-line distance.
    pub circuity: f64,
    /// Road classes by distance, shortest first.
    pub bands: Vec<SpeedBand>,
}

impl Default for RoadModel {
    fn default() -> Self {
        RoadModel {
            circuity: 1.4,
            bands: vec![
                SpeedBand {
                    up_to_km: 3.0,
                    kmh: 20.0,
                }, // urban streets
                SpeedBand {
                    up_to_km: 25.0,
                    kmh: 40.0,
                }, // arterial roads
                SpeedBand {
                    up_to_km: 10_000.0,
                    kmh: 60.0,
                }, // expressways (the last band never ends)
            ],
        }
    }
}

impl RoadModel {
    pub fn is_valid(&self) -> bool {
        self.circuity.is_finite()
            && self.circuity >= 1.0
            && !self.bands.is_empty()
            && self
                .bands
                .iter()
                .all(|b| b.kmh.is_finite() && b.kmh > 0.0 && !b.up_to_km.is_nan())
    }

    /// Estimated driving time in whole seconds (rounded up, at least 1 apart).
    pub fn seconds(&self, from: Point, to: Point) -> u32 {
        self.seconds_for_km(straight_km(from, to))
    }

    /// The driving time over `straight_km` of straight line. It never falls as
    /// the distance grows, so a shorter distance gives a lower bound (pricing
    /// relies on that to rule pairs out).
    pub fn seconds_for_km(&self, straight_km: f64) -> u32 {
        let km = straight_km * self.circuity;
        let mut hours = 0.0;
        let mut start = 0.0;
        for (i, band) in self.bands.iter().enumerate() {
            let end = if i + 1 == self.bands.len() {
                f64::INFINITY
            } else {
                band.up_to_km.max(start)
            };
            hours += (km.min(end) - start).max(0.0) / band.kmh;
            if km <= end {
                break;
            }
            start = end;
        }
        (hours * 3600.0).ceil().min(f64::from(u32::MAX)) as u32
    }
}

/// Great-circle distance in kilometres.
pub fn straight_km(from: Point, to: Point) -> f64 {
    let a = geo::Point::new(from.lon, from.lat);
    let b = geo::Point::new(to.lon, to.lat);
    Haversine.distance(a, b) / 1000.0
}

/// Measured travel times by (source id, demand id), in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TravelMatrix {
    seconds: BTreeMap<String, BTreeMap<String, u32>>,
}

/// A line of a travel-time CSV that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("travel-time CSV line {line}: {message}")]
pub struct TravelMatrixError {
    pub line: usize,
    pub message: String,
}

impl TravelMatrix {
    /// Reads `source,demand,minutes` lines (a header line starting `source` is
    /// skipped, as are blank lines and `#` comments). Minutes may be fractional.
    pub fn parse_csv(text: &str) -> Result<TravelMatrix, TravelMatrixError> {
        let mut matrix = TravelMatrix::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let raw = raw.trim();
            if raw.is_empty() || raw.starts_with('#') || (line == 1 && raw.starts_with("source")) {
                continue;
            }
            let err = |message: String| TravelMatrixError { line, message };
            let fields: Vec<&str> = raw.split(',').map(str::trim).collect();
            let [source, demand, minutes] = fields[..] else {
                return Err(err(format!(
                    "expected 3 fields `source,demand,minutes`, found {}",
                    fields.len()
                )));
            };
            if source.is_empty() || demand.is_empty() {
                return Err(err("empty source or demand id".into()));
            }
            let minutes: f64 = minutes
                .parse()
                .map_err(|_| err(format!("`{minutes}` is not a number of minutes")))?;
            if !(0.0..=MAX_MINUTES).contains(&minutes) {
                return Err(err(format!(
                    "{minutes} minutes is outside 0..={MAX_MINUTES}"
                )));
            }
            if matrix.insert(source, demand, minutes).is_some() {
                return Err(err(format!("a second time for {source} → {demand}")));
            }
        }
        Ok(matrix)
    }

    /// Sets one pair's time; returns the time it replaces, in seconds.
    pub fn insert(&mut self, source: &str, demand: &str, minutes: f64) -> Option<u32> {
        let seconds = (minutes.clamp(0.0, MAX_MINUTES) * 60.0).round() as u32;
        self.seconds
            .entry(source.to_owned())
            .or_default()
            .insert(demand.to_owned(), seconds)
    }

    pub fn seconds(&self, source: &str, demand: &str) -> Option<u32> {
        self.seconds.get(source)?.get(demand).copied()
    }

    /// The demands with a measured time from `source`, in id order.
    pub fn demands_from(&self, source: &str) -> impl Iterator<Item = &str> {
        self.seconds
            .get(source)
            .into_iter()
            .flat_map(|row| row.keys().map(String::as_str))
    }

    pub fn len(&self) -> usize {
        self.seconds.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A week: longer times are data errors, not plans.
const MAX_MINUTES: f64 = 7.0 * 24.0 * 60.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_longer_trip_never_takes_less_time() {
        let roads = RoadModel::default();
        let from = Point::new(106.55, 29.56);
        let mut last = 0;
        for step in 0..400 {
            let to = Point::new(106.55 + f64::from(step) * 0.002, 29.56);
            let t = roads.seconds(from, to);
            assert!(t >= last);
            last = t;
        }
    }

    #[test]
    fn ten_straight_kilometres_take_about_twenty_five_minutes() {
        // 10 km × 1.4 = 14 km: 3 km at 20 km/h (9 min) + 11 km at 40 km/h (16.5 min).
        let from = Point::new(106.55, 29.56);
        let to = Point::new(
            106.55 + 10.0 / (111.195 * 29.56f64.to_radians().cos()),
            29.56,
        );
        let minutes = f64::from(RoadModel::default().seconds(from, to)) / 60.0;
        assert!((minutes - 25.5).abs() < 0.2, "{minutes}");
    }

    #[test]
    fn the_matrix_reads_minutes_and_names_bad_lines() {
        let m = TravelMatrix::parse_csv("source,demand,minutes\ns1,d1,12.5\n\n# note\ns2,d1,3\n")
            .unwrap();
        assert_eq!(
            (m.seconds("s1", "d1"), m.seconds("s2", "d1"), m.len()),
            (Some(750), Some(180), 2)
        );
        let line = |t: &str| TravelMatrix::parse_csv(t).unwrap_err().line;
        assert_eq!(line("s1,d1,1\ns1,d1,2\n"), 2);
        assert_eq!(line("s1,d1\n"), 1);
        assert_eq!(line("a,b,c\n"), 1);
        assert_eq!(line("x,y,1\na,b,-1\n"), 2);
        assert_eq!(line("a,b,NaN\n"), 1);
    }
}
