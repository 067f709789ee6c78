//! Query strings, parsed by hand so that every bad parameter is named in the
//! problem it gets, and an unknown one is refused rather than silently ignored.

use std::collections::BTreeMap;
use std::str::FromStr;

use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use ercs_domain::area::{AreaCode, Tier};
use ercs_eventlog::Position;
use ercs_projections::AsOf;
use ercs_projections::one_network::{BoundingBox, ResourceFilter, ResourceKind};

use crate::problem::Problem;

/// A request's query parameters, each taken once by name.
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    pub fn of(request: &HttpRequest) -> Result<Self, Problem> {
        Self::parse(request.query_string())
    }

    pub fn parse(query: &str) -> Result<Self, Problem> {
        let mut values = BTreeMap::new();
        for (name, value) in form_urlencoded(query) {
            if values.insert(name.clone(), value).is_some() {
                return Err(bad(&name, "may be given only once"));
            }
        }
        Ok(Self { values })
    }

    /// The raw value of `name`, if given.
    pub fn take_raw(&mut self, name: &str) -> Option<String> {
        self.values.remove(name)
    }

    /// The value of `name` parsed as `T`; `rule` says what a valid value is.
    pub fn take<T: FromStr>(&mut self, name: &str, rule: &str) -> Result<Option<T>, Problem> {
        self.take_raw(name)
            .map(|raw| raw.parse::<T>().map_err(|_| bad(name, rule)))
            .transpose()
    }

    /// The value of `name` as a whole number within `range`: every numeric
    /// parameter is range-checked here, so none can overflow what it feeds
    /// (chrono panics on durations beyond its range).
    pub fn take_within(
        &mut self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
        unit: &str,
    ) -> Result<Option<u64>, Problem> {
        let rule = format!(
            "must be a whole number of {unit} from {} to {}",
            range.start(),
            range.end()
        );
        match self.take::<u64>(name, &rule)? {
            Some(value) if !range.contains(&value) => Err(bad(name, &rule)),
            value => Ok(value),
        }
    }

    /// Refuses whatever parameter was not taken: a typo must not widen a query.
    pub fn finish(self) -> Result<(), Problem> {
        match self.values.keys().next() {
            Some(name) => Err(bad(name, "is not a parameter of this endpoint")),
            None => Ok(()),
        }
    }

    /// `min_position` and `as_of`: which state of the view a read wants.
    pub fn read_options(&mut self) -> Result<ReadOptions, Problem> {
        let min_position = self
            .take::<u64>(
                "min_position",
                "must be a log position (a whole number ≥ 0)",
            )?
            .map(Position);
        let as_of = match self.take_raw("as_of") {
            None => None,
            Some(raw) => Some(parse_as_of(&raw)?),
        };
        Ok(ReadOptions {
            min_position,
            as_of,
        })
    }

    /// `tier`, `area`, `kind`, `status` and `bbox`.
    pub fn resource_filter(
        &mut self,
        kind: Option<ResourceKind>,
    ) -> Result<ResourceFilter, Problem> {
        let tier = match self.take_raw("tier") {
            None => None,
            Some(raw) => Some(parse_tier(&raw)?),
        };
        let area = match self.take_raw("area") {
            None => None,
            Some(raw) => Some(AreaCode::parse(&raw).map_err(|e| bad("area", &e.to_string()))?),
        };
        let bbox = match self.take_raw("bbox") {
            None => None,
            Some(raw) => Some(BoundingBox::parse(&raw).map_err(|rule| bad("bbox", rule))?),
        };
        Ok(ResourceFilter {
            kind,
            tier,
            area,
            subkind: self.take_raw("kind"),
            status: self.take_raw("status"),
            bbox,
        })
    }

    /// `limit` (1..=`max`, default `default`) and `cursor`.
    pub fn page(&mut self, default: usize, max: usize) -> Result<Page, Problem> {
        let limit = self
            .take_within("limit", 1..=max as u64, "items")?
            .map_or(default, |limit| limit as usize);
        Ok(Page {
            limit,
            cursor: self.take_raw("cursor"),
        })
    }
}

pub use ercs_network::{READ_WAIT, ReadOptions};

/// A page of a list: at most `limit` items after `cursor` (an item id).
#[derive(Debug, Clone)]
pub struct Page {
    pub limit: usize,
    pub cursor: Option<String>,
}

fn parse_as_of(raw: &str) -> Result<AsOf, Problem> {
    if let Ok(position) = raw.parse::<u64>() {
        return Ok(AsOf::Position(Position(position)));
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| AsOf::Time(t.with_timezone(&Utc)))
        .map_err(|_| {
            bad(
                "as_of",
                "must be a log position (a whole number) or an RFC 3339 time such as 2026-11-23T08:00:00Z",
            )
        })
}

fn parse_tier(raw: &str) -> Result<Tier, Problem> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(|_| {
        bad(
            "tier",
            "must be one of city, region, district, township, institution",
        )
    })
}

/// A 400 naming the parameter and its rule.
pub fn bad(name: &str, rule: &str) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-parameter",
        "Invalid query parameter",
        format!("`{name}` {rule}"),
    )
    .with_field(name)
}

/// `application/x-www-form-urlencoded` pairs, percent- and plus-decoded.
fn form_urlencoded(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
}

fn decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_percent_decoded_and_an_unknown_one_is_refused() {
        let mut params = Params::parse("area=500101&kind=medical%5Frescue&q=%E4%B8%87+x").unwrap();
        assert_eq!(params.take_raw("kind").as_deref(), Some("medical_rescue"));
        assert_eq!(params.take_raw("q").as_deref(), Some("万 x"));
        let unknown = params.finish().unwrap_err();
        assert_eq!(unknown.field.as_deref(), Some("area"));
    }

    #[test]
    fn a_repeated_or_malformed_parameter_names_itself() {
        assert_eq!(
            Params::parse("limit=1&limit=2")
                .err()
                .unwrap()
                .field
                .as_deref(),
            Some("limit")
        );
        let mut params = Params::parse("limit=0").unwrap();
        let problem = params.page(100, 1000).unwrap_err();
        assert_eq!(
            (problem.status, problem.field.as_deref()),
            (400, Some("limit"))
        );
        let mut params = Params::parse("as_of=yesterday").unwrap();
        assert_eq!(
            params.read_options().unwrap_err().field.as_deref(),
            Some("as_of")
        );
    }

    #[test]
    fn as_of_takes_a_position_or_an_rfc_3339_time() {
        let mut params = Params::parse("as_of=42").unwrap();
        assert_eq!(
            params.read_options().unwrap().as_of,
            Some(AsOf::Position(Position(42)))
        );
        let mut params = Params::parse("as_of=2026-11-23T08%3A00%3A00%2B08%3A00").unwrap();
        let Some(AsOf::Time(at)) = params.read_options().unwrap().as_of else {
            panic!("a time")
        };
        assert_eq!(at.to_rfc3339(), "2026-11-23T00:00:00+00:00");
    }

    /// Every parameter a read endpoint takes, to aim arbitrary values at.
    const NAMES: [&str; 12] = [
        "min_position",
        "as_of",
        "tier",
        "area",
        "kind",
        "status",
        "bbox",
        "limit",
        "cursor",
        "stale_after_minutes",
        "last_event_id",
        "x",
    ];

    /// Values shaped like numbers, times and boxes as well as any text at all.
    fn value() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::prop_oneof![
            "-?[0-9]{0,30}",
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})",
            "(-?[0-9.e]{0,12},){0,4}-?[0-9.e]{0,12}",
            "(%[0-9A-Fa-f]{0,2}|[+&=]|.){0,12}",
            ".*",
        ]
    }

    fn query() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            ".*",
            proptest::collection::vec((proptest::sample::select(&NAMES[..]), value()), 0..5)
                .prop_map(|pairs| {
                    pairs
                        .iter()
                        .map(|(name, value)| format!("{name}={value}"))
                        .collect::<Vec<_>>()
                        .join("&")
                }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever the query string, parsing it and taking every parameter
        /// never panics, and a refusal is a 400 naming the parameter.
        #[test]
        fn no_query_string_panics_and_every_refusal_names_its_parameter(query in query()) {
            let refusals = match Params::parse(&query) {
                Err(problem) => vec![problem],
                Ok(mut params) => [
                    params.read_options().err(),
                    params.resource_filter(None).err(),
                    params.page(100, 1000).err(),
                    params.take_within("stale_after_minutes", 1..=5_256_000, "minutes").err(),
                    params.take::<u64>("last_event_id", "must be a log position").err(),
                    params.finish().err(),
                ]
                .into_iter()
                .flatten()
                .collect(),
            };
            for problem in refusals {
                proptest::prop_assert_eq!(problem.status, 400);
                proptest::prop_assert!(problem.field.is_some(), "{:?}", problem);
            }
        }
    }
}
