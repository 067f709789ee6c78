//! The one network for GIS clients, laid out as OGC API – Features (Part 1: core,
//! GeoJSON, OpenAPI 3.0) under `/api/v1/gis`: a landing page, `/conformance`,
//! `/collections`, and each collection's `items` as RFC 7946 GeoJSON
//! (`application/geo+json`), so QGIS, OpenLayers or Leaflet read it as they are.
//!
//! The collections:
//! - `teams`, `facilities`, `depots`, `convertibles`: each resource at its point,
//!   rendered by [`gis::feature`] exactly as the REST feed renders it.
//! - `incidents`: each at the location it was declared with; one declared for
//!   areas only has no geometry (GeoJSON `null`), and `areas` counts it there.
//!   Catalogue items have no point and are left out.
//! - `areas`: the districts and counties (区县) as polygons, each carrying its
//!   rollup (teams, beds, 平急两用 venues, supply shortfall, open incidents).
//! - `townships`: the townships (乡镇/街道) as points.
//!
//! Pages are keyed, not counted: `cursor` is the id a page starts after, so a
//! resource registered while a client pages through cannot shift the pages
//! under it. `crs=gcj02|bd09` converts every output coordinate, the response's
//! `bbox` too, for AMap/Tencent and Baidu maps; `bbox` filters always take
//! WGS-84, as OGC API – Features requires.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use ercs_domain::area::{AreaCode, DivisionCode, Tier};
use ercs_eventlog::Position;
use ercs_projections::one_network::{AreaRollup, BoundingBox, ResourceFilter, ResourceKind};
use ercs_seed::geography::{District, Township};
use serde_json::{Value, json};

use crate::gis::{self, Crs};
use crate::problem::Problem;
use crate::query::{Page, Params, bad};
use crate::routes::resources::{POSITION_HEADER, etag};
use crate::state::{AppState, Net, PathId, View};

/// The GIS endpoints' path on the request's network: live, or its drill's.
fn prefix_of(request: &HttpRequest) -> String {
    format!("{}{GIS}", crate::drills::base_of(request))
}

/// Where the GIS endpoints sit under a network's base path.
const GIS: &str = "/gis";
const GEOJSON: &str = "application/geo+json";
const JSON: &str = "application/json";
/// WGS-84 with longitude first, the default CRS of OGC API – Features.
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
const CONFORMANCE: [&str; 3] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];
/// Every value `crs` takes; the collections list them.
const CRS_CHOICES: [&str; 3] = [CRS84, "gcj02", "bd09"];

pub fn configure(config: &mut web::ServiceConfig, base: &str) {
    let prefix = format!("{base}{GIS}");
    config
        .route(&prefix, web::get().to(landing))
        .route(&format!("{prefix}/conformance"), web::get().to(conformance))
        .route(&format!("{prefix}/collections"), web::get().to(collections))
        .route(
            &format!("{prefix}/collections/{{id}}"),
            web::get().to(collection),
        )
        .route(
            &format!("{prefix}/collections/{{id}}/items"),
            web::get().to(items),
        )
        .route(
            &format!("{prefix}/collections/{{id}}/items/{{feature}}"),
            web::get().to(item),
        );
}

/// A feature collection of the GIS API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collection {
    Resources(ResourceKind),
    /// 区县 — district and county polygons with their rollups.
    Areas,
    /// 乡镇/街道 — township points.
    Townships,
}

impl Collection {
    const ALL: [Self; 7] = [
        Self::Resources(ResourceKind::Teams),
        Self::Resources(ResourceKind::Facilities),
        Self::Resources(ResourceKind::Depots),
        Self::Resources(ResourceKind::Convertibles),
        Self::Resources(ResourceKind::Incidents),
        Self::Areas,
        Self::Townships,
    ];

    fn id(self) -> &'static str {
        match self {
            Self::Resources(kind) => kind.as_str(),
            Self::Areas => "areas",
            Self::Townships => "townships",
        }
    }

    fn parse(id: &str) -> Result<Self, Problem> {
        Self::ALL.into_iter().find(|c| c.id() == id).ok_or_else(|| {
            let known: Vec<&str> = Self::ALL.iter().map(|c| c.id()).collect();
            Problem::not_found(format!(
                "no collection `{id}`; the collections are {}",
                known.join(", ")
            ))
        })
    }

    fn title(self) -> &'static str {
        match self {
            Self::Resources(ResourceKind::Teams) => "卫生应急队伍 — emergency teams",
            Self::Resources(ResourceKind::Facilities) => {
                "医疗机构 — medical facilities and their beds"
            }
            Self::Resources(ResourceKind::Depots) => "物资储备库 — supply depots",
            Self::Resources(ResourceKind::Convertibles) => "平急两用 — convertible facilities",
            Self::Resources(ResourceKind::Incidents) => {
                "突发事件 — incidents, at their declared location (no geometry when declared for areas only)"
            }
            Self::Resources(_) => "resources",
            Self::Areas => "区县 — districts and counties with their rollups",
            Self::Townships => "乡镇/街道 — townships",
        }
    }

    fn resource_kind(self) -> Option<ResourceKind> {
        match self {
            Self::Resources(kind) => Some(kind),
            Self::Areas | Self::Townships => None,
        }
    }
}

/// A feature that matched, with its WGS-84 bounds, rendered only if it is on the page.
struct Candidate<'a> {
    id: String,
    bounds: Option<BoundingBox>,
    render: Box<dyn FnOnce(Crs) -> Value + 'a>,
}

/// What one read of a collection asks for.
struct Query<'q> {
    filter: ResourceFilter,
    /// Only the feature with this id.
    only: Option<&'q str>,
    now: DateTime<Utc>,
}

impl Query<'_> {
    fn all(now: DateTime<Utc>) -> Self {
        Self {
            filter: ResourceFilter::default(),
            only: None,
            now,
        }
    }

    /// Whether the area `code`, at `tier`, is wanted: by id, `tier`, and `area`
    /// (itself or an area containing it).
    fn wants(&self, state: &AppState, tier: Tier, code: &DivisionCode) -> bool {
        let area = AreaCode::from(code.clone());
        self.only.is_none_or(|only| only == code.as_str())
            && self.filter.tier.is_none_or(|t| t == tier)
            && self
                .filter
                .area
                .as_ref()
                .is_none_or(|wanted| state.areas.path(&area).any(|record| &record.code == wanted))
    }
}

/// The features of `collection` that `query` wants, in id order, and the log
/// position they reflect.
fn candidates<'a>(
    state: &'a AppState,
    view: &View<'_>,
    collection: Collection,
    query: &Query<'_>,
) -> (Vec<Candidate<'a>>, u64) {
    let mut areas_query = query.filter.clone();
    let bbox = areas_query.bbox.take();
    let areas_query = Query {
        filter: areas_query,
        ..*query
    };
    // Resources are points: the filter keeps those in the box before any is
    // rendered. Areas are judged by their bounds, so the box is applied below.
    let (mut found, position) = match collection {
        Collection::Resources(kind) => resources(state, view, kind, query),
        Collection::Areas => districts(state, view, &areas_query),
        Collection::Townships => (townships(state, &areas_query), view.read(|_| ()).1),
    };
    found.retain(|c| bbox.is_none_or(|b| c.bounds.is_some_and(|f| intersects(&b, &f))));
    found.sort_by(|a, b| a.id.cmp(&b.id));
    (found, position.0)
}

fn resources<'a>(
    state: &'a AppState,
    view: &View<'_>,
    kind: ResourceKind,
    query: &Query<'_>,
) -> (Vec<Candidate<'a>>, Position) {
    let (resources, position) = view.read(|view| match query.only {
        Some(id) => view.resource_by_id(kind, id).into_iter().collect(),
        None => view.resources_where(kind, |r| query.filter.matches(r, &state.areas)),
    });
    let found = resources
        .into_iter()
        .filter(|r| query.only.is_none() || query.filter.matches(r, &state.areas))
        .map(|r| Candidate {
            id: r.id.clone(),
            bounds: r.point.map(|p| point_bounds(p.lon(), p.lat())),
            render: Box::new(move |crs| gis::feature(&r, crs)),
        })
        .collect();
    (found, position)
}

fn districts<'a>(
    state: &'a AppState,
    view: &View<'_>,
    query: &Query<'_>,
) -> (Vec<Candidate<'a>>, Position) {
    let (mut rollups, position) = view.read(|view| view.area_rollups(&state.areas, query.now));
    let found = state
        .geography
        .districts
        .iter()
        .filter(|d| query.wants(state, Tier::District, &d.code))
        .map(|d| {
            let rollup = rollups.remove(&d.code).unwrap_or_default();
            Candidate {
                id: d.code.to_string(),
                bounds: district_bounds(d),
                render: Box::new(move |crs| district_feature(d, &rollup, crs)),
            }
        })
        .collect();
    (found, position)
}

fn townships<'a>(state: &'a AppState, query: &Query<'_>) -> Vec<Candidate<'a>> {
    state
        .geography
        .townships
        .iter()
        .filter(|t| query.wants(state, Tier::Township, &t.code))
        .map(|t| Candidate {
            id: t.code.to_string(),
            bounds: Some(point_bounds(t.location.lon(), t.location.lat())),
            render: Box::new(move |crs| township_feature(t, crs)),
        })
        .collect()
}

/// `kind` and `status` describe resources; on an area collection they are refused,
/// not ignored.
fn refuse_resource_only(collection: Collection, filter: &ResourceFilter) -> Result<(), Problem> {
    if collection.resource_kind().is_some() {
        return Ok(());
    }
    let given = [
        ("kind", filter.subkind.is_some()),
        ("status", filter.status.is_some()),
    ];
    match given.into_iter().find(|(_, given)| *given) {
        Some((name, _)) => Err(bad(
            name,
            "applies only to the resource collections (teams, facilities, depots, convertibles)",
        )),
        None => Ok(()),
    }
}

fn district_feature(district: &District, rollup: &AreaRollup, crs: Crs) -> Value {
    let polygons: Vec<Value> = district
        .boundary
        .0
        .iter()
        .map(|polygon| {
            std::iter::once(polygon.exterior())
                .chain(polygon.interiors())
                .map(|ring| {
                    ring.coords()
                        .map(|c| crs.position(c.x, c.y))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
                .into()
        })
        .collect();
    json!({
        "type": "Feature",
        "id": district.code,
        "geometry": {"type": "MultiPolygon", "coordinates": polygons},
        "properties": {
            "collection": Collection::Areas.id(),
            "code": district.code,
            "name": district.name,
            "tier": Tier::District,
            "region": district.region,
            "rollup": rollup,
        }
    })
}

fn township_feature(township: &Township, crs: Crs) -> Value {
    json!({
        "type": "Feature",
        "id": township.code,
        "geometry": gis::point(&township.location, crs),
        "properties": {
            "collection": Collection::Townships.id(),
            "code": township.code,
            "name": township.name,
            "tier": Tier::Township,
            "county": township.county,
            "synthetic": township.synthetic,
        }
    })
}

fn point_bounds(lon: f64, lat: f64) -> BoundingBox {
    BoundingBox {
        west: lon,
        south: lat,
        east: lon,
        north: lat,
    }
}

fn district_bounds(district: &District) -> Option<BoundingBox> {
    let exteriors = district
        .boundary
        .0
        .iter()
        .flat_map(|p| p.exterior().coords());
    exteriors.map(|c| point_bounds(c.x, c.y)).reduce(union)
}

fn union(a: BoundingBox, b: BoundingBox) -> BoundingBox {
    BoundingBox {
        west: a.west.min(b.west),
        south: a.south.min(b.south),
        east: a.east.max(b.east),
        north: a.north.max(b.north),
    }
}

fn intersects(a: &BoundingBox, b: &BoundingBox) -> bool {
    a.west <= b.east && b.west <= a.east && a.south <= b.north && b.south <= a.north
}

fn as_array(b: BoundingBox) -> [f64; 4] {
    [b.west, b.south, b.east, b.north]
}

/// The bounds of every position in GeoJSON `coordinates`, however deeply nested.
fn coordinates_bounds(coordinates: &Value) -> Option<BoundingBox> {
    match coordinates.as_array()?.as_slice() {
        [Value::Number(lon), Value::Number(lat)] => {
            Some(point_bounds(lon.as_f64()?, lat.as_f64()?))
        }
        nested => nested.iter().filter_map(coordinates_bounds).reduce(union),
    }
}

/// `crs`: `wgs84` (the default, also as the CRS84 URI), `gcj02` or `bd09`.
pub(crate) fn take_crs(params: &mut Params) -> Result<Crs, Problem> {
    match params.take_raw("crs") {
        None => Ok(Crs::Wgs84),
        Some(raw) if raw == CRS84 => Ok(Crs::Wgs84),
        Some(raw) => Crs::parse(&raw).ok_or_else(|| bad("crs", Crs::RULE)),
    }
}

/// The scheme and host the client reached us by, for absolute links.
fn origin(request: &HttpRequest) -> String {
    let info = request.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

fn link(href: String, rel: &str, media: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": media, "title": title})
}

async fn landing(request: HttpRequest) -> Result<HttpResponse, Problem> {
    Params::of(&request)?.finish()?;
    let base = format!("{}{}", origin(&request), prefix_of(&request));
    let api = format!("{}/api/v1/openapi.json", origin(&request));
    Ok(HttpResponse::Ok().json(json!({
        "title": "ERCS — Chongqing health-emergency one network (卫生应急资源“一张网”)",
        "description": "Teams, facilities, depots, 平急两用 venues, districts with their \
            rollups and townships as OGC API – Features; `crs=gcj02` or `crs=bd09` \
            converts coordinates for AMap/Tencent or Baidu maps.",
        "links": [
            link(base.clone(), "self", JSON, "This document"),
            link(api, "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition"),
            link(format!("{base}/conformance"), "conformance", JSON, "Conformance classes"),
            link(format!("{base}/collections"), "data", JSON, "The feature collections"),
        ],
    })))
}

async fn conformance(request: HttpRequest) -> Result<HttpResponse, Problem> {
    Params::of(&request)?.finish()?;
    Ok(HttpResponse::Ok().json(json!({ "conformsTo": CONFORMANCE })))
}

async fn collections(state: Net, request: HttpRequest) -> Result<HttpResponse, Problem> {
    let params = Params::of(&request)?;
    let described = describe_each(&state, &request, params, &Collection::ALL).await?;
    let base = format!("{}{}/collections", origin(&request), prefix_of(&request));
    Ok(HttpResponse::Ok().json(json!({
        "collections": described,
        "links": [link(base, "self", JSON, "The feature collections")],
    })))
}

async fn collection(state: Net, request: HttpRequest, id: PathId) -> Result<HttpResponse, Problem> {
    let (collection, params) = open(&id, &request)?;
    let described = describe_each(&state, &request, params, &[collection]).await?;
    Ok(HttpResponse::Ok().json(&described[0]))
}

/// The collection a path names, then the request's parameters: an unknown
/// collection is a 404 whatever the parameters.
fn open(id: &str, request: &HttpRequest) -> Result<(Collection, Params), Problem> {
    Ok((Collection::parse(id)?, Params::of(request)?))
}

/// The metadata of `collections`, from the view the parameters ask for.
async fn describe_each(
    state: &AppState,
    request: &HttpRequest,
    mut params: Params,
    collections: &[Collection],
) -> Result<Vec<Value>, Problem> {
    let options = params.read_options()?;
    params.finish()?;
    let view = state.view(options).await?;
    let base = format!("{}{}/collections", origin(request), prefix_of(request));
    let now = state.now();
    Ok(collections
        .iter()
        .map(|c| describe(state, &view, *c, &base, now))
        .collect())
}

/// A collection's metadata, its extent taken from what it holds now.
fn describe(
    state: &AppState,
    view: &View<'_>,
    collection: Collection,
    base: &str,
    now: DateTime<Utc>,
) -> Value {
    let extent_of = |collection| {
        let (found, _) = candidates(state, view, collection, &Query::all(now));
        found.iter().filter_map(|c| c.bounds).reduce(union)
    };
    // A collection with nothing located yet (no incident declared with a point)
    // may grow anywhere in the city: its extent is the city's.
    let extent = extent_of(collection).or_else(|| extent_of(Collection::Areas));
    let href = format!("{base}/{}", collection.id());
    json!({
        "id": collection.id(),
        "title": collection.title(),
        "itemType": "feature",
        "crs": CRS_CHOICES,
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": extent.map(as_array).into_iter().collect::<Vec<_>>(), "crs": CRS84}},
        "links": [
            link(href.clone(), "self", JSON, "This collection"),
            link(format!("{href}/items"), "items", GEOJSON, "Its features"),
        ],
    })
}

async fn items(state: Net, request: HttpRequest, id: PathId) -> Result<HttpResponse, Problem> {
    let (collection, mut params) = open(&id, &request)?;
    let options = params.read_options()?;
    let filter = params.resource_filter(collection.resource_kind())?;
    refuse_resource_only(collection, &filter)?;
    let page = params.page(100, 1000)?;
    let crs = take_crs(&mut params)?;
    params.finish()?;
    let view = state.view(options).await?;
    let now = state.now();
    let query = Query {
        filter,
        only: None,
        now,
    };
    let (mut found, position) = candidates(&state, &view, collection, &query);
    let window = Window::of(&found, &page);
    let features: Vec<Value> = found
        .drain(window.start..window.end)
        .map(|c| (c.render)(crs))
        .collect();
    let mut links = vec![link(
        page_url(&request, page.cursor.as_deref()),
        "self",
        GEOJSON,
        "This page",
    )];
    if let Some(cursor) = window.next {
        links.push(link(
            page_url(&request, Some(&cursor)),
            "next",
            GEOJSON,
            "The next page",
        ));
    }
    if let Some(cursor) = window.prev {
        links.push(link(
            page_url(&request, cursor.as_deref()),
            "prev",
            GEOJSON,
            "The previous page",
        ));
    }
    let collection_href = format!(
        "{}{}/collections/{}",
        origin(&request),
        prefix_of(&request),
        collection.id()
    );
    links.push(link(collection_href, "collection", JSON, "The collection"));
    let bbox = features
        .iter()
        .filter_map(|f| coordinates_bounds(&f["geometry"]["coordinates"]))
        .reduce(union);
    let mut body = json!({
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": window.matched,
        "numberReturned": window.end - window.start,
        "timeStamp": now,
        "links": links,
    });
    if let Some(bbox) = bbox {
        body["bbox"] = json!(as_array(bbox));
    }
    Ok(geojson(HttpResponse::Ok(), position, crs).json(body))
}

/// Which of the matching features a page shows, and where its neighbours start.
struct Window {
    matched: usize,
    start: usize,
    end: usize,
    /// The cursor of the next page, if there is one.
    next: Option<String>,
    /// The cursor of the previous page (`None` for the first), if there is one.
    prev: Option<Option<String>>,
}

impl Window {
    fn of(found: &[Candidate<'_>], page: &Page) -> Self {
        let matched = found.len();
        let start = page
            .cursor
            .as_deref()
            .map_or(0, |after| found.partition_point(|c| c.id.as_str() <= after));
        let end = (start + page.limit).min(matched);
        let cursor_before = |index: usize| (index > 0).then(|| found[index - 1].id.clone());
        Self {
            matched,
            start,
            end,
            next: (end < matched).then(|| cursor_before(end)).flatten(),
            prev: (start > 0).then(|| cursor_before(start.saturating_sub(page.limit))),
        }
    }
}

async fn item(
    state: Net,
    request: HttpRequest,
    collection: PathId,
) -> Result<HttpResponse, Problem> {
    let collection = collection.into_inner();
    let feature_id = request
        .match_info()
        .get("feature")
        .unwrap_or_default()
        .to_owned();
    let (collection, mut params) = open(&collection, &request)?;
    let options = params.read_options()?;
    let crs = take_crs(&mut params)?;
    params.finish()?;
    let view = state.view(options).await?;
    let query = Query {
        only: Some(&feature_id),
        ..Query::all(state.now())
    };
    let (found, position) = candidates(&state, &view, collection, &query);
    let feature = found
        .into_iter()
        .next()
        .map(|c| (c.render)(crs))
        .ok_or_else(|| {
            Problem::not_found(format!(
                "no feature `{feature_id}` in the collection `{}`",
                collection.id()
            ))
        })?;
    let etag = feature["properties"]["revision"].as_u64().map(etag);
    let mut response = geojson(HttpResponse::Ok(), position, crs);
    if let Some(etag) = etag {
        let unchanged = request
            .headers()
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == etag.as_bytes());
        if unchanged {
            return Ok(HttpResponse::NotModified()
                .insert_header((header::ETAG, etag))
                .finish());
        }
        response.insert_header((header::ETAG, etag));
    }
    Ok(response.json(feature))
}

/// A GeoJSON response: its media type, the log position and, in WGS-84, its CRS.
fn geojson(
    mut response: actix_web::HttpResponseBuilder,
    position: u64,
    crs: Crs,
) -> actix_web::HttpResponseBuilder {
    response
        .content_type(GEOJSON)
        .insert_header((POSITION_HEADER, position.to_string()));
    if crs == Crs::Wgs84 {
        response.insert_header(("Content-Crs", format!("<{CRS84}>")));
    }
    response
}

/// This request's URL with its `cursor` replaced, every other parameter kept as given.
fn page_url(request: &HttpRequest, cursor: Option<&str>) -> String {
    let mut pairs: Vec<String> = request
        .query_string()
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("cursor"))
        .map(str::to_owned)
        .collect();
    if let Some(cursor) = cursor {
        pairs.push(format!("cursor={}", encode(cursor)));
    }
    let query = if pairs.is_empty() {
        String::new()
    } else {
        format!("?{}", pairs.join("&"))
    };
    format!("{}{}{query}", origin(request), request.path())
}

/// Percent-encodes a query value; ids are ASCII, but nothing is assumed.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
