//! WGS-84 locations. The log stores WGS-84 only; conversion to GCJ-02 or BD-09 for
//! Chinese web maps happens at the GIS surface, never here.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::schema::{FieldSchema, Message, MessageSchema};

/// A WGS-84 longitude/latitude, checked at the edge: finite and in range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawGeoPoint")]
// Serde reads through `RawGeoPoint`, which denies unknown fields; said again here
// (a no-op for serde under `try_from`) so the OpenAPI schema closes the object too.
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(
    example = json!({"lon": 106.55, "lat": 29.56})
))]
pub struct GeoPoint {
    /// Longitude in degrees east, WGS-84.
    #[cfg_attr(feature = "openapi", schema(minimum = -180, maximum = 180, example = 106.55))]
    lon: f64,
    /// Latitude in degrees north, WGS-84.
    #[cfg_attr(feature = "openapi", schema(minimum = -90, maximum = 90, example = 29.56))]
    lat: f64,
}

impl Message for GeoPoint {
    const SCHEMA: MessageSchema = MessageSchema {
        name: "GeoPoint",
        fields: &[
            FieldSchema {
                number: 1,
                name: "lon",
            },
            FieldSchema {
                number: 2,
                name: "lat",
            },
        ],
    };
}

impl GeoPoint {
    pub fn new(lon: f64, lat: f64) -> Result<Self, DomainError> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(DomainError::invalid(
                "location",
                format!("longitude {lon} is not in [-180, 180]"),
            ));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(DomainError::invalid(
                "location",
                format!("latitude {lat} is not in [-90, 90]"),
            ));
        }
        Ok(Self { lon, lat })
    }

    pub fn lon(&self) -> f64 {
        self.lon
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }
}

/// The unchecked wire shape that deserialization parses into a [`GeoPoint`].
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawGeoPoint {
    lon: f64,
    lat: f64,
}

impl TryFrom<RawGeoPoint> for GeoPoint {
    type Error = DomainError;
    fn try_from(raw: RawGeoPoint) -> Result<Self, Self::Error> {
        Self::new(raw.lon, raw.lat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_finite_and_in_range() {
        assert!(GeoPoint::new(108.38, 30.81).is_ok());
        assert!(GeoPoint::new(180.0, -90.0).is_ok());
        for (lon, lat) in [
            (180.1, 0.0),
            (0.0, 90.5),
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
        ] {
            assert_eq!(
                GeoPoint::new(lon, lat).unwrap_err().field(),
                Some("location")
            );
        }
    }

    #[test]
    fn a_location_deserializes_only_through_the_check() {
        assert!(serde_json::from_str::<GeoPoint>(r#"{"lon":200,"lat":0}"#).is_err());
        let p: GeoPoint = serde_json::from_str(r#"{"lon":106.55,"lat":29.56}"#).unwrap();
        assert_eq!(p, GeoPoint::new(106.55, 29.56).unwrap());
    }
}
