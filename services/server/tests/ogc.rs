//! The GIS API as OGC API – Features over HTTP against the real server on a
//! random port: the landing page, conformance and collections, GeoJSON that map
//! clients read as it is, `bbox` and paging, GCJ-02 / BD-09 output, and bad input.

mod support;

use std::collections::BTreeSet;

use ercs_server::gis::Crs;
use serde_json::Value;
use support::{TestServer, problem_type};

const GIS: &str = "/api/v1/gis";
const WANZHOU: &str = "500101";
const POINT_COLLECTIONS: [&str; 5] = ["teams", "facilities", "depots", "convertibles", "townships"];

/// A GET with its status, `Content-Type` and JSON body.
async fn fetch(server: &TestServer, url: &str) -> (u16, String, Value) {
    let response = server.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, response.json().await.unwrap_or(Value::Null))
}

/// The items of a collection, checked to be a GeoJSON page.
async fn items(server: &TestServer, collection: &str, query: &str) -> Value {
    let url = server.url(&format!("{GIS}/collections/{collection}/items?{query}"));
    let (status, media, page) = fetch(server, &url).await;
    assert_eq!(status, 200, "{collection}?{query}: {page}");
    assert_eq!(media, "application/geo+json", "{collection}");
    assert_eq!(page["type"], "FeatureCollection");
    page
}

fn features(page: &Value) -> &Vec<Value> {
    page["features"].as_array().expect("features")
}

fn ids(page: &Value) -> Vec<String> {
    features(page)
        .iter()
        .map(|f| f["id"].as_str().expect("a string id").to_owned())
        .collect()
}

fn position(value: &Value) -> [f64; 2] {
    let pair = value.as_array().expect("a position");
    assert_eq!(pair.len(), 2, "{value}");
    [
        pair[0].as_f64().expect("a number"),
        pair[1].as_f64().expect("a number"),
    ]
}

/// A point feature's `[lon, lat]`.
fn point(feature: &Value) -> [f64; 2] {
    assert_eq!(feature["geometry"]["type"], "Point", "{feature}");
    position(&feature["geometry"]["coordinates"])
}

/// Every ring of a MultiPolygon feature, exterior first in each polygon.
fn polygons(feature: &Value) -> Vec<Vec<Vec<[f64; 2]>>> {
    assert_eq!(
        feature["geometry"]["type"], "MultiPolygon",
        "{}",
        feature["id"]
    );
    let rings = |polygon: &Value| {
        let rings = polygon.as_array().unwrap().iter();
        rings
            .map(|ring| ring.as_array().unwrap().iter().map(position).collect())
            .collect()
    };
    feature["geometry"]["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(rings)
        .collect()
}

/// Twice the signed area (shoelace): positive for a counter-clockwise ring.
fn signed_area(ring: &[[f64; 2]]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum()
}

fn inside(bbox: [f64; 4], [lon, lat]: [f64; 2]) -> bool {
    (bbox[0]..=bbox[2]).contains(&lon) && (bbox[1]..=bbox[3]).contains(&lat)
}

fn link<'a>(page: &'a Value, rel: &str) -> Option<&'a str> {
    page["links"]
        .as_array()?
        .iter()
        .find(|l| l["rel"] == rel)
        .and_then(|l| l["href"].as_str())
}

/// Every team id, through the REST list's own cursor.
async fn rest_team_ids(server: &TestServer) -> BTreeSet<String> {
    let (status, page) = server.get(&server.url("/api/v1/teams?limit=1000")).await;
    assert_eq!(status, 200);
    assert!(page.get("next_cursor").is_none(), "more than 1000 teams");
    let items = page["items"].as_array().unwrap();
    items
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_landing_page_links_the_api_definition_the_conformance_classes_and_the_data() {
    let server = TestServer::seeded().await;
    let (status, _, landing) = fetch(&server, &server.url(GIS)).await;
    assert_eq!(status, 200, "{landing}");
    assert!(landing["title"].is_string() && landing["description"].is_string());
    for (rel, path) in [
        ("self", GIS.to_owned()),
        ("service-desc", "/api/v1/openapi.json".to_owned()),
        ("conformance", format!("{GIS}/conformance")),
        ("data", format!("{GIS}/collections")),
    ] {
        assert_eq!(
            link(&landing, rel),
            Some(server.url(&path).as_str()),
            "{rel}"
        );
    }

    let (status, _, conformance) = fetch(&server, &server.url(&format!("{GIS}/conformance"))).await;
    assert_eq!(status, 200);
    let classes: Vec<&str> = conformance["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for class in ["core", "geojson", "oas30"] {
        let uri = format!("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{class}");
        assert!(classes.contains(&uri.as_str()), "{classes:?} lacks {class}");
    }
}

#[tokio::test]
async fn each_collection_describes_its_extent_crs_and_links() {
    let server = TestServer::seeded().await;
    let (status, _, body) = fetch(&server, &server.url(&format!("{GIS}/collections"))).await;
    assert_eq!(status, 200, "{body}");
    let collections = body["collections"].as_array().unwrap();
    let names: Vec<&str> = collections
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "teams",
            "facilities",
            "depots",
            "convertibles",
            "incidents",
            "areas",
            "townships"
        ]
    );
    let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
    for collection in collections {
        let id = collection["id"].as_str().unwrap();
        assert_eq!(collection["itemType"], "feature", "{id}");
        assert!(
            collection["crs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == crs84),
            "{id}"
        );
        let bbox = &collection["extent"]["spatial"]["bbox"][0];
        let [west, south, east, north] = [0, 1, 2, 3].map(|i| bbox[i].as_f64().unwrap());
        // Chongqing spans about 105.3–110.2 E, 28.2–32.2 N.
        assert!(105.0 < west && west <= east && east < 110.5, "{id}: {bbox}");
        assert!(
            28.0 < south && south <= north && north < 32.5,
            "{id}: {bbox}"
        );
        let here = server.url(&format!("{GIS}/collections/{id}"));
        assert_eq!(link(collection, "self"), Some(here.as_str()));
        assert_eq!(
            link(collection, "items"),
            Some(format!("{here}/items").as_str())
        );
        let (status, _, alone) = fetch(&server, &here).await;
        assert_eq!((status, &alone), (200, collection));
    }
}

#[tokio::test]
async fn every_collection_is_geojson_with_numeric_positions_and_string_ids() {
    let server = TestServer::seeded().await;
    for collection in POINT_COLLECTIONS {
        let page = items(&server, collection, "limit=1000").await;
        assert!(!features(&page).is_empty(), "{collection} is empty");
        assert_eq!(
            page["numberReturned"].as_u64(),
            Some(features(&page).len() as u64)
        );
        assert!(page["timeStamp"].is_string());
        for feature in features(&page) {
            assert_eq!(feature["type"], "Feature");
            assert!(feature["id"].is_string() && feature["properties"].is_object());
            let [lon, lat] = point(feature);
            assert!(
                (105.0..110.5).contains(&lon) && (28.0..32.5).contains(&lat),
                "{feature}"
            );
        }
    }
    let team = features(&items(&server, "teams", "limit=1").await)[0].clone();
    let (_, rest) = server
        .get(&server.url(&format!("/api/v1/teams/{}", team["id"].as_str().unwrap())))
        .await;
    assert_eq!(
        team["properties"]["state"], rest["state"],
        "the map and the REST API agree"
    );
}

#[tokio::test]
async fn areas_are_the_38_districts_as_closed_counter_clockwise_polygons_carrying_their_rollups() {
    let server = TestServer::seeded().await;
    let page = items(&server, "areas", "").await;
    assert_eq!(features(&page).len(), 38);
    assert_eq!(page["numberMatched"], 38);
    let mut beds = 0;
    for feature in features(&page) {
        let code = feature["id"].as_str().unwrap();
        let properties = &feature["properties"];
        assert_eq!(properties["code"], code);
        assert!(
            properties["name"].is_string() && properties["region"].is_string(),
            "{code}"
        );
        beds += properties["rollup"]["beds"]["total"]
            .as_u64()
            .expect("rollup beds");
        for polygon in polygons(feature) {
            for (i, ring) in polygon.iter().enumerate() {
                assert!(
                    ring.len() >= 4,
                    "{code}: a ring of {} positions",
                    ring.len()
                );
                assert_eq!(ring.first(), ring.last(), "{code}: an open ring");
                let exterior = i == 0;
                assert_eq!(
                    signed_area(ring) > 0.0,
                    exterior,
                    "{code}: ring {i} winds wrongly"
                );
            }
        }
    }
    assert!(beds > 0, "no district counts a bed");
    let wanzhou = fetch(
        &server,
        &server.url(&format!("{GIS}/collections/areas/items/{WANZHOU}")),
    )
    .await;
    assert_eq!(
        (wanzhou.0, wanzhou.1.as_str()),
        (200, "application/geo+json")
    );
    assert_eq!(wanzhou.2["properties"]["name"], "万州区");
}

/// The bounding box of 万州's polygons, WGS-84.
async fn wanzhou_bbox(server: &TestServer) -> [f64; 4] {
    let url = server.url(&format!("{GIS}/collections/areas/items/{WANZHOU}"));
    let (_, _, district) = fetch(server, &url).await;
    let positions = polygons(&district).into_iter().flatten().flatten();
    positions.fold([180.0, 90.0, -180.0, -90.0], |b, [lon, lat]| {
        [b[0].min(lon), b[1].min(lat), b[2].max(lon), b[3].max(lat)]
    })
}

#[tokio::test]
async fn a_bbox_around_wanzhou_keeps_only_what_lies_inside_it() {
    let server = TestServer::seeded().await;
    let bbox = wanzhou_bbox(&server).await;
    let query = format!(
        "limit=1000&bbox={},{},{},{}",
        bbox[0], bbox[1], bbox[2], bbox[3]
    );
    for collection in POINT_COLLECTIONS {
        let all = items(&server, collection, "limit=1000").await;
        let boxed = items(&server, collection, &query).await;
        assert!(
            !features(&boxed).is_empty(),
            "nothing of {collection} in 万州"
        );
        assert!(
            features(&boxed).len() < features(&all).len(),
            "{collection}"
        );
        for feature in features(&boxed) {
            assert!(inside(bbox, point(feature)), "{collection}: {feature}");
        }
        let outside = features(&all)
            .iter()
            .filter(|f| !inside(bbox, point(f)))
            .count();
        assert_eq!(
            features(&boxed).len() + outside,
            features(&all).len(),
            "{collection}"
        );
    }
    let areas = items(&server, "areas", &query).await;
    let codes = ids(&areas);
    assert!(
        codes.contains(&WANZHOU.to_owned()) && codes.len() < 38,
        "{codes:?}"
    );
    let response_bbox: Vec<f64> = serde_json::from_value(areas["bbox"].clone()).unwrap();
    assert!(
        response_bbox[0] <= bbox[0] && response_bbox[2] >= bbox[2],
        "{response_bbox:?}"
    );
}

#[tokio::test]
async fn next_links_page_through_every_team_with_no_gap_and_no_duplicate() {
    let server = TestServer::seeded().await;
    let mut seen = Vec::new();
    let mut url = server.url(&format!("{GIS}/collections/teams/items?limit=7"));
    let mut pages = Vec::new();
    loop {
        let (status, _, page) = fetch(&server, &url).await;
        assert_eq!(status, 200, "{url}: {page}");
        assert_eq!(link(&page, "self"), Some(url.as_str()));
        seen.extend(ids(&page));
        pages.push(page.clone());
        match link(&page, "next") {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a team came twice");
    assert_eq!(unique, rest_team_ids(&server).await);
    assert!(pages.len() > 2);
    assert!(link(&pages[0], "prev").is_none());
    let (_, _, back) = fetch(&server, link(&pages[2], "prev").unwrap()).await;
    assert_eq!(ids(&back), ids(&pages[1]), "prev leads back a page");
}

#[tokio::test]
async fn next_links_keep_the_filters_and_the_crs() {
    let server = TestServer::seeded().await;
    let whole = items(&server, "teams", "tier=district&crs=gcj02&limit=1000").await;
    let matched = whole["numberMatched"].as_u64().unwrap();
    assert!(matched > 3, "{matched} district teams");
    let mut page = items(&server, "teams", "tier=district&crs=gcj02&limit=3").await;
    let mut seen = ids(&page);
    while let Some(next) = link(&page, "next") {
        assert!(
            next.contains("tier=district") && next.contains("crs=gcj02"),
            "{next}"
        );
        let (_, _, following) = fetch(&server, next).await;
        assert_eq!(following["numberMatched"].as_u64(), Some(matched));
        seen.extend(ids(&following));
        page = following;
    }
    assert_eq!(seen, ids(&whole));
    assert!(
        features(&whole)
            .iter()
            .all(|f| f["properties"]["tier"] == "district")
    );
}

/// The largest difference between two positions' coordinates.
fn apart(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).abs().max((a[1] - b[1]).abs())
}

#[tokio::test]
async fn gcj02_and_bd09_move_every_output_coordinate_by_their_offsets() {
    let server = TestServer::seeded().await;
    let in_crs = |crs: &'static str| {
        let server = &server;
        async move { items(server, "facilities", &format!("limit=5&crs={crs}")).await }
    };
    let (wgs84, gcj02, bd09) = (
        in_crs("wgs84").await,
        in_crs("gcj02").await,
        in_crs("bd09").await,
    );
    for (i, feature) in features(&wgs84).iter().enumerate() {
        let [lon, lat] = point(feature);
        let gcj = point(&features(&gcj02)[i]);
        let bd = point(&features(&bd09)[i]);
        assert!(apart(gcj, Crs::Gcj02.convert(lon, lat)) < 1e-6, "{gcj:?}");
        assert!(apart(bd, Crs::Bd09.convert(lon, lat)) < 1e-6, "{bd:?}");
        // A few hundred metres each time.
        assert!(
            apart(gcj, [lon, lat]) > 1e-3 && apart(bd, gcj) > 1e-3,
            "{gcj:?} {bd:?}"
        );
    }
    let page_bbox =
        |page: &Value| -> [f64; 4] { serde_json::from_value(page["bbox"].clone()).unwrap() };
    let positions = |page: &Value| features(page).iter().map(point).collect::<Vec<_>>();
    for page in [&wgs84, &gcj02, &bd09] {
        let bbox = page_bbox(page);
        assert!(
            positions(page).iter().all(|p| inside(bbox, *p)),
            "the bbox is in the page's crs"
        );
    }
    let area = |crs: &'static str| {
        let url = server.url(&format!(
            "{GIS}/collections/areas/items/{WANZHOU}?crs={crs}"
        ));
        let server = &server;
        async move { polygons(&fetch(server, &url).await.2)[0][0][0] }
    };
    let [lon, lat] = area("wgs84").await;
    assert!(apart(area("gcj02").await, Crs::Gcj02.convert(lon, lat)) < 1e-6);
}

#[tokio::test]
async fn a_feature_alone_is_the_one_in_its_collection_with_its_revision_as_etag() {
    let server = TestServer::seeded().await;
    let listed = features(&items(&server, "depots", "limit=1").await)[0].clone();
    let url = server.url(&format!(
        "{GIS}/collections/depots/items/{}",
        listed["id"].as_str().unwrap()
    ));
    let response = server.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/geo+json");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let alone: Value = response.json().await.unwrap();
    assert_eq!(alone, listed);
    assert_eq!(etag, format!("\"{}\"", alone["properties"]["revision"]));
    let again = server
        .client
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn bad_parameters_are_400_problems_naming_the_parameter() {
    let server = TestServer::seeded().await;
    for (query, field) in [
        ("bbox=108,30", "bbox"),
        ("bbox=109,31,108,30", "bbox"),
        ("crs=mercator", "crs"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("colour=red", "colour"),
        ("tier=galaxy", "tier"),
    ] {
        let url = server.url(&format!("{GIS}/collections/teams/items?{query}"));
        let (status, media, problem) = fetch(&server, &url).await;
        assert_eq!(
            (status, media.as_str()),
            (400, "application/problem+json"),
            "{query}"
        );
        assert_eq!(problem["field"], field, "{query}: {problem}");
        assert_eq!(problem_type(&problem), "invalid-parameter");
    }
    let url = server.url(&format!("{GIS}/collections/areas/items?status=standby"));
    let (status, _, problem) = fetch(&server, &url).await;
    assert_eq!((status, problem["field"].as_str()), (400, Some("status")));
    let url = server.url(&format!("{GIS}/collections/teams/items/x?crs=utm"));
    assert_eq!(fetch(&server, &url).await.2["field"], "crs");
}

#[tokio::test]
async fn an_unknown_collection_or_feature_is_a_404_problem() {
    let server = TestServer::seeded().await;
    for path in [
        "/collections/items",
        "/collections/hospitals/items",
        "/collections/teams/items/00000000-0000-0000-0000-000000000000",
        "/collections/teams/items/not-a-uuid",
        "/collections/areas/items/500199",
        "/collections/townships/items/500101",
    ] {
        let (status, media, problem) = fetch(&server, &server.url(&format!("{GIS}{path}"))).await;
        assert_eq!(
            (status, media.as_str()),
            (404, "application/problem+json"),
            "{path}"
        );
        assert_eq!(problem_type(&problem), "not-found", "{path}");
    }
}

#[tokio::test]
async fn an_incident_is_on_the_map_where_it_was_declared_in_every_crs() {
    let server = TestServer::seeded().await;
    let scene = [108.4057, 30.8075];
    for (id, location) in [
        ("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c01", Some(scene)),
        ("7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c02", None),
    ] {
        let mut declare = serde_json::json!({
            "incident_id": id, "kind": "mass_casualty", "level": "III",
            "title": "万州区长江大桥交通事故", "affected_areas": [WANZHOU]
        });
        if let Some([lon, lat]) = location {
            declare["location"] = serde_json::json!({"lon": lon, "lat": lat});
        }
        assert_eq!(
            server.post("/api/v1/incidents", &declare).await.status(),
            201
        );
    }
    let head = server.head().await;
    let page = items(&server, "incidents", &format!("min_position={head}")).await;
    let located: Vec<&Value> = features(&page)
        .iter()
        .filter(|f| !f["geometry"].is_null())
        .collect();
    assert_eq!((features(&page).len(), located.len()), (2, 1), "{page}");
    assert_eq!(point(located[0]), scene);
    assert_eq!(located[0]["properties"]["name"], "万州区长江大桥交通事故");
    let amap = items(&server, "incidents", "crs=gcj02").await;
    let shifted = features(&amap)
        .iter()
        .find(|f| !f["geometry"].is_null())
        .map(point)
        .unwrap();
    let expected = Crs::Gcj02.convert(scene[0], scene[1]);
    assert!(
        apart(shifted, expected) < 1e-6,
        "{shifted:?} vs {expected:?}"
    );
}
