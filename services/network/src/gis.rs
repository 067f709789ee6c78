//! GeoJSON (RFC 7946) for maps, and the coordinate systems of Chinese web maps.
//!
//! The log stores WGS-84. AMap and Tencent maps draw GCJ-02 (国测局坐标, the
//! state-mandated offset) and Baidu draws BD-09 (GCJ-02 offset again), so a
//! dashboard on those maps asks for `crs=gcj02` or `crs=bd09` and every output
//! coordinate is converted here; nothing converted is ever written back.

use ercs_domain::geo::GeoPoint;
use ercs_projections::one_network::Resource;
use serde_json::{Value, json};

/// The coordinate system of output coordinates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Crs {
    /// WGS-84, as stored and as RFC 7946 requires by default.
    #[default]
    Wgs84,
    /// GCJ-02: AMap (高德), Tencent.
    Gcj02,
    /// BD-09: Baidu.
    Bd09,
}

impl Crs {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.to_ascii_lowercase().as_str() {
            "wgs84" | "wgs-84" | "epsg:4326" | "crs84" => Some(Self::Wgs84),
            "gcj02" | "gcj-02" => Some(Self::Gcj02),
            "bd09" | "bd-09" => Some(Self::Bd09),
            _ => None,
        }
    }

    pub const RULE: &'static str = "must be wgs84, gcj02 or bd09";

    /// `[lon, lat]` in this system, from WGS-84.
    pub fn convert(self, lon: f64, lat: f64) -> [f64; 2] {
        match self {
            Self::Wgs84 => [lon, lat],
            Self::Gcj02 => wgs84_to_gcj02(lon, lat),
            Self::Bd09 => {
                let [lon, lat] = wgs84_to_gcj02(lon, lat);
                gcj02_to_bd09(lon, lat)
            }
        }
    }

    /// A GeoJSON position, rounded to 7 decimals (about 1 cm).
    pub fn position(self, lon: f64, lat: f64) -> Value {
        let [lon, lat] = self.convert(lon, lat);
        json!([round7(lon), round7(lat)])
    }
}

fn round7(x: f64) -> f64 {
    (x * 1e7).round() / 1e7
}

// Krasovsky 1940, the ellipsoid GCJ-02's offset is computed on.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// GCJ-02 applies only inside China; elsewhere it equals WGS-84.
fn outside_china(lon: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn wgs84_to_gcj02(lon: f64, lat: f64) -> [f64; 2] {
    use std::f64::consts::PI;
    if outside_china(lon, lat) {
        return [lon, lat];
    }
    let (x, y) = (lon - 105.0, lat - 35.0);
    let mut d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    d_lat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d_lat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    d_lon += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d_lon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    d_lon = (d_lon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    [lon + d_lon, lat + d_lat]
}

fn gcj02_to_bd09(lon: f64, lat: f64) -> [f64; 2] {
    let x_pi = std::f64::consts::PI * 3000.0 / 180.0;
    let z = (lon * lon + lat * lat).sqrt() + 0.000_02 * (lat * x_pi).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * x_pi).cos();
    [z * theta.cos() + 0.0065, z * theta.sin() + 0.006]
}

/// A point geometry in `crs`.
pub fn point(point: &GeoPoint, crs: Crs) -> Value {
    json!({"type": "Point", "coordinates": crs.position(point.lon(), point.lat())})
}

/// A resource as a GeoJSON Feature: its point (null for incidents and catalogue
/// items), and as properties what lists show plus its state.
pub fn feature(resource: &Resource, crs: Crs) -> Value {
    json!({
        "type": "Feature",
        "id": resource.id,
        "geometry": resource.point.as_ref().map(|p| point(p, crs)),
        "properties": {
            "collection": resource.kind,
            "name": resource.name,
            "tier": resource.tier,
            "areas": resource.areas,
            "kind": resource.subkind,
            "status": resource.status,
            "revision": resource.mark.map(|m| m.revision),
            "updated_at": resource.mark.map(|m| m.at),
            "held_for": resource.held_for,
            "state": resource.state,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values computed independently with the PyPI package
    /// `coord-convert` 0.2.1 (`wgs2gcj`, `wgs2bd`).
    /// A WGS-84 point, and it in GCJ-02 and in BD-09.
    type Reference = ((f64, f64), [f64; 2], [f64; 2]);

    const REFERENCE: [Reference; 2] = [
        // 天安门, Beijing
        (
            (116.391349, 39.907375),
            [116.397590191, 39.908776294],
            [116.403963025, 39.915119834],
        ),
        // 解放碑, Chongqing
        (
            (106.55, 29.56),
            [106.553720337, 29.557153429],
            [106.560154352, 29.563460941],
        ),
    ];

    #[test]
    fn gcj02_and_bd09_match_an_independent_implementation() {
        for ((lon, lat), gcj, bd) in REFERENCE {
            for (crs, want) in [(Crs::Gcj02, gcj), (Crs::Bd09, bd)] {
                let got = crs.convert(lon, lat);
                assert!(
                    (got[0] - want[0]).abs() < 1e-8 && (got[1] - want[1]).abs() < 1e-8,
                    "{crs:?} of ({lon}, {lat}): {got:?}, want {want:?}"
                );
            }
        }
    }

    #[test]
    fn the_offset_in_chongqing_is_a_few_hundred_metres_and_none_outside_china() {
        let [lon, lat] = Crs::Gcj02.convert(106.55, 29.56);
        let metres = ((lon - 106.55) * 96_800.0).hypot((lat - 29.56) * 111_000.0);
        assert!((100.0..800.0).contains(&metres), "{metres} m");
        assert_eq!(Crs::Gcj02.convert(2.35, 48.85), [2.35, 48.85]);
        assert_eq!(Crs::Wgs84.convert(106.55, 29.56), [106.55, 29.56]);
    }
}
