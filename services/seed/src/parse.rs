//! Reading the two non-JSON-record files: the district GeoJSON and the township CSV.

use ercs_domain::area::{DivisionCode, RegionSlug};
use ercs_domain::geo::GeoPoint;
use ercs_domain::values::Name;
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde::Deserialize;

use crate::SeedError;
use crate::geography::{District, Source, Township};

#[derive(Deserialize)]
struct FeatureCollection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    properties: DistrictProperties,
    geometry: MultiPolygonGeometry,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DistrictProperties {
    code: DivisionCode,
    name: Name,
    region: RegionSlug,
}

/// Only `MultiPolygon`: the generator writes every boundary as one.
#[derive(Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
enum MultiPolygonGeometry {
    MultiPolygon {
        coordinates: Vec<Vec<Vec<[f64; 2]>>>,
    },
}

/// The districts of a GeoJSON FeatureCollection. Rings must be closed and hold at
/// least four positions; `geo` would silently close an open ring otherwise.
pub(crate) fn districts(source: Source<'_>) -> Result<Vec<District>, SeedError> {
    let collection: FeatureCollection =
        serde_json::from_str(source.text).map_err(|e| SeedError::Json {
            file: source.file,
            source: e,
        })?;
    collection
        .features
        .into_iter()
        .map(|feature| {
            let DistrictProperties { code, name, region } = feature.properties;
            let MultiPolygonGeometry::MultiPolygon { coordinates } = feature.geometry;
            let boundary = multipolygon(coordinates).map_err(|reason| SeedError::Malformed {
                file: source.file,
                at: format!("district {code}"),
                reason,
            })?;
            Ok(District {
                code,
                name,
                region,
                boundary,
            })
        })
        .collect()
}

fn multipolygon(polygons: Vec<Vec<Vec<[f64; 2]>>>) -> Result<MultiPolygon<f64>, String> {
    let polygons = polygons
        .into_iter()
        .map(|rings| {
            let mut rings = rings.into_iter().map(ring);
            let exterior = rings.next().ok_or("a polygon has no ring")??;
            Ok(Polygon::new(
                exterior,
                rings.collect::<Result<_, String>>()?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(MultiPolygon::new(polygons))
}

fn ring(positions: Vec<[f64; 2]>) -> Result<LineString<f64>, String> {
    if positions.len() < 4 {
        return Err(format!(
            "a ring has {} positions; 4 at least",
            positions.len()
        ));
    }
    if positions.first() != positions.last() {
        return Err("a ring is not closed".to_owned());
    }
    Ok(positions.into_iter().map(|[x, y]| Coord { x, y }).collect())
}

const TOWNSHIP_HEADER: &str = "code,name,county_code,lon,lat,synthetic";

/// The townships of the CSV. Names never hold commas or quotes (the generator
/// refuses them), so a row is six plain comma-separated fields.
pub(crate) fn townships(source: Source<'_>) -> Result<Vec<Township>, SeedError> {
    let mut lines = source.text.lines().enumerate();
    match lines.next() {
        Some((_, TOWNSHIP_HEADER)) => {}
        _ => {
            return Err(SeedError::Malformed {
                file: source.file,
                at: "line 1".to_owned(),
                reason: format!("the header must be {TOWNSHIP_HEADER}"),
            });
        }
    }
    lines
        .filter(|(_, line)| !line.is_empty())
        .map(|(index, line)| {
            township(line).map_err(|reason| SeedError::Malformed {
                file: source.file,
                at: format!("line {}", index + 1),
                reason,
            })
        })
        .collect()
}

fn township(line: &str) -> Result<Township, String> {
    let fields: Vec<&str> = line.split(',').collect();
    let [code, name, county, lon, lat, synthetic] = fields[..] else {
        return Err(format!("{} fields; 6 expected", fields.len()));
    };
    let code = DivisionCode::parse(code).map_err(|e| e.to_string())?;
    let county = DivisionCode::parse(county).map_err(|e| e.to_string())?;
    if !code.is_township() || code.county() != county {
        return Err(format!("{code} is not a township of county {county}"));
    }
    let number = |raw: &str| raw.parse::<f64>().map_err(|e| format!("{raw:?}: {e}"));
    Ok(Township {
        name: Name::parse(name).map_err(|e| e.to_string())?,
        location: GeoPoint::new(number(lon)?, number(lat)?).map_err(|e| e.to_string())?,
        synthetic: synthetic
            .parse()
            .map_err(|_| format!("synthetic must be true or false, not {synthetic:?}"))?,
        code,
        county,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> Source<'_> {
        Source { file: "test", text }
    }

    fn collection(ring: &str) -> String {
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature",
            "properties":{{"code":"500101","name":"万州区","region":"yudongbei"}},
            "geometry":{{"type":"MultiPolygon","coordinates":[[{ring}]]}}}}]}}"#
        )
    }

    #[test]
    fn a_closed_ring_of_four_positions_loads() {
        let text = collection("[[108,30],[109,30],[109,31],[108,30]]");
        let districts = districts(source(&text)).unwrap();
        assert_eq!(districts[0].boundary.0[0].exterior().0.len(), 4);
    }

    #[test]
    fn an_open_or_short_ring_is_refused() {
        for ring in [
            "[[108,30],[109,30],[109,31],[108,31]]",
            "[[108,30],[109,30],[108,30]]",
        ] {
            let text = collection(ring);
            assert!(
                matches!(districts(source(&text)), Err(SeedError::Malformed { .. })),
                "{ring}"
            );
        }
    }

    #[test]
    fn a_township_row_must_name_the_county_its_code_is_in() {
        let ok = format!("{TOWNSHIP_HEADER}\n500101001,高笋塘街道,500101,108.5,30.6,true\n");
        assert_eq!(townships(source(&ok)).unwrap()[0].county.as_str(), "500101");
        for row in [
            "500101001,高笋塘街道,500102,108.5,30.6,true",
            "500101,万州区,500101,108.5,30.6,true",
            "500101001,高笋塘街道,500101,108.5,95,true",
            "500101001,高笋塘街道,500101,108.5,30.6,yes",
            "500101001,高笋塘街道,500101,108.5,30.6",
        ] {
            let text = format!("{TOWNSHIP_HEADER}\n{row}\n");
            assert!(
                matches!(townships(source(&text)), Err(SeedError::Malformed { .. })),
                "{row}"
            );
        }
    }
}
