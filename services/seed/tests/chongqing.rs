//! The Chongqing geography seeds against the rules the issue sets for them.

use std::collections::{BTreeMap, BTreeSet};

use ercs_domain::area::{AreaCode, DivisionCode, RegionSlug, Tier};
use ercs_seed::{Geography, chongqing};
use geo::{
    Area, BooleanOps, BoundingRect, Contains, Intersects, LineString, Point, Validation, Winding,
};

/// Chongqing's extent with a small margin (105.29–110.19E, 28.16–32.20N).
const LON: (f64, f64) = (105.2, 110.2);
const LAT: (f64, f64) = (28.1, 32.3);

fn geography() -> Geography {
    chongqing::geography().expect("the embedded seeds load")
}

fn code(raw: &str) -> DivisionCode {
    DivisionCode::parse(raw).unwrap()
}

#[test]
fn there_are_38_districts_and_1031_townships() {
    let g = geography();
    assert_eq!(g.districts.len(), 38);
    assert_eq!(g.townships.len(), 1031);
    let districts: BTreeSet<_> = g.districts.iter().map(|d| &d.code).collect();
    let townships: BTreeSet<_> = g.townships.iter().map(|t| &t.code).collect();
    assert_eq!(
        (districts.len(), townships.len()),
        (38, 1031),
        "codes repeat"
    );
    assert_eq!(g.district(&code("500101")).unwrap().name.as_str(), "万州区");
}

#[test]
fn every_township_point_lies_inside_its_county() {
    let g = geography();
    for township in &g.townships {
        let county = g.district(&township.county).unwrap();
        let point = Point::new(township.location.lon(), township.location.lat());
        assert!(
            county.boundary.contains(&point),
            "{} {} at {point:?} is outside {}",
            township.code,
            township.name,
            county.name
        );
    }
}

#[test]
fn no_two_townships_share_a_point_and_every_point_is_marked_synthetic() {
    let g = geography();
    let points: BTreeSet<_> = g
        .townships
        .iter()
        .map(|t| (t.location.lon().to_bits(), t.location.lat().to_bits()))
        .collect();
    assert_eq!(points.len(), g.townships.len());
    assert!(g.townships.iter().all(|t| t.synthetic));
}

fn check_ring(ring: &LineString<f64>, counter_clockwise: bool, what: &str) {
    assert!(ring.0.len() >= 4, "{what}: {} positions", ring.0.len());
    assert!(ring.is_closed(), "{what}: not closed");
    assert_eq!(ring.is_ccw(), counter_clockwise, "{what}: wrong winding");
    for c in &ring.0 {
        assert!(c.x.is_finite() && c.y.is_finite(), "{what}: {c:?}");
        assert!((LON.0..=LON.1).contains(&c.x), "{what}: lon {}", c.x);
        assert!((LAT.0..=LAT.1).contains(&c.y), "{what}: lat {}", c.y);
    }
}

#[test]
fn district_polygons_are_valid_with_counter_clockwise_exterior_rings() {
    for district in geography().districts {
        let what = format!("{} {}", district.code, district.name);
        assert!(!district.boundary.0.is_empty(), "{what}: no polygon");
        assert!(district.boundary.is_valid(), "{what}: invalid geometry");
        for polygon in &district.boundary {
            check_ring(polygon.exterior(), true, &what);
            for hole in polygon.interiors() {
                check_ring(hole, false, &what);
            }
        }
    }
}

#[test]
fn district_polygons_do_not_overlap() {
    let districts = geography().districts;
    // The measure sees an overlap where there is one: a district against itself.
    let wanzhou = &districts[0].boundary;
    let own = wanzhou.intersection(wanzhou).unsigned_area();
    assert!((own - wanzhou.unsigned_area()).abs() < 1e-9);
    for (i, a) in districts.iter().enumerate() {
        for b in &districts[i + 1..] {
            let (Some(box_a), Some(box_b)) =
                (a.boundary.bounding_rect(), b.boundary.bounding_rect())
            else {
                panic!("a district has an empty boundary");
            };
            if !box_a.intersects(&box_b) {
                continue;
            }
            let overlap = a.boundary.intersection(&b.boundary).unsigned_area();
            let smaller = a.boundary.unsigned_area().min(b.boundary.unsigned_area());
            assert!(
                overlap < 1e-6 * smaller,
                "{} and {} overlap by {:.2e} of the smaller",
                a.name,
                b.name,
                overlap / smaller
            );
        }
    }
}

#[test]
fn every_township_belongs_to_a_district_by_its_code_prefix() {
    let g = geography();
    for township in &g.townships {
        assert!(township.code.is_township(), "{}", township.code);
        assert_eq!(township.code.county(), township.county, "{}", township.code);
        assert!(g.district(&township.county).is_some(), "{}", township.code);
    }
    let empty: Vec<_> = g
        .districts
        .iter()
        .filter(|d| g.townships_of(&d.code).is_empty())
        .map(|d| &d.code)
        .collect();
    assert!(empty.is_empty(), "districts without townships: {empty:?}");
}

#[test]
fn the_regions_cover_every_district_once() {
    let g = geography();
    let sizes: BTreeMap<&str, usize> = g
        .regions
        .iter()
        .map(|r| (r.slug.as_str(), r.districts.len()))
        .collect();
    let expected = [
        ("yudongbei", 11),
        ("yudongnan", 6),
        ("zhongxin-chengqu", 9),
        ("zhucheng-xinqu", 12),
    ];
    assert_eq!(sizes, BTreeMap::from(expected));
    let mut covered: Vec<&DivisionCode> = g.regions.iter().flat_map(|r| &r.districts).collect();
    covered.sort();
    let all: Vec<&DivisionCode> = g.districts.iter().map(|d| &d.code).collect();
    assert_eq!(covered, all);
    let group = &g.groups[..];
    assert_eq!(group.len(), 1);
    assert_eq!(group[0].name.as_str(), "主城都市区");
    assert_eq!(group[0].regions.len(), 2);
}

#[test]
fn the_hierarchy_answers_which_district_and_region_a_township_is_in() {
    let g = geography();
    let hierarchy = g.hierarchy().unwrap();
    assert_eq!(hierarchy.len(), 1 + 4 + 38 + 1031);

    let first = &g.townships_of(&code("500101"))[0];
    assert_eq!(first.code, code("500101001"));
    let township = AreaCode::from(first.code.clone());
    let district = hierarchy.district_of(&township).unwrap();
    assert_eq!(district.code, AreaCode::from(code("500101")));
    assert_eq!(district.name.as_str(), "万州区");
    let region = hierarchy.region_of(&township).unwrap();
    assert_eq!(region.code, AreaCode::parse("yudongbei").unwrap());
    assert_eq!(region.name.as_str(), "渝东北三峡库区城镇群");
    let city = hierarchy.ancestor_at(&township, Tier::City).unwrap();
    assert_eq!(city.name.as_str(), "重庆市");

    let yudongbei = RegionSlug::parse("yudongbei").unwrap();
    let hubs: Vec<_> = g.hubs_in(&yudongbei).map(|h| h.slug.as_str()).collect();
    assert_eq!(hubs, ["wanzhou-sanxia"]);
}

#[test]
fn the_hubs_sit_in_wanzhou_yongchuan_and_qianjiang() {
    let g = geography();
    let seats: BTreeMap<&str, &str> = g
        .hubs
        .iter()
        .map(|h| (h.slug.as_str(), g.district(&h.seat).unwrap().name.as_str()))
        .collect();
    let expected = [
        ("qianjiang-wulingshan", "黔江区"),
        ("wanzhou-sanxia", "万州区"),
        ("yongchuan-yuxi", "永川区"),
    ];
    assert_eq!(seats, BTreeMap::from(expected));
}
