//! A small JSON Schema (2020-12) checker for the subset utoipa emits. A keyword it does
//! not know fails the check, so a schema can never pass by saying something unread.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

type Map = serde_json::Map<String, Value>;

const REF_PREFIX: &str = "#/components/schemas/";

/// Keywords that only annotate: they constrain nothing.
const ANNOTATIONS: &[&str] = &[
    "description",
    "example",
    "examples",
    "title",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// The named schemas, as JSON, that `$ref`s point into.
pub struct Components {
    pub schemas: BTreeMap<String, Value>,
}

/// Which branch of which component's top-level `oneOf` a value took.
pub type Branch = (String, usize);

impl Components {
    pub fn new(named: Vec<(String, RefOr<Schema>)>) -> Self {
        let schemas = named
            .into_iter()
            .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
            .collect();
        Self { schemas }
    }

    pub fn schema(&self, name: &str) -> &Value {
        self.schemas
            .get(name)
            .unwrap_or_else(|| panic!("no schema named {name}"))
    }

    /// The errors of `value` against the named schema, and the `oneOf` branches it took.
    pub fn check(&self, name: &str, value: &Value) -> (Vec<String>, Vec<Branch>) {
        let mut walk = Walk::new(self);
        walk.component(name, value, "$");
        (walk.errors, walk.branches)
    }

    pub fn accepts(&self, name: &str, value: &Value) -> bool {
        self.check(name, value).0.is_empty()
    }
}

struct Walk<'c> {
    components: &'c Components,
    errors: Vec<String>,
    branches: Vec<Branch>,
}

/// One keyword of a schema object, with the object it stands in.
struct Keyword<'s> {
    name: &'s str,
    rule: &'s Value,
    schema: &'s Map,
}

impl<'c> Walk<'c> {
    fn new(components: &'c Components) -> Self {
        Self {
            components,
            errors: Vec::new(),
            branches: Vec::new(),
        }
    }

    fn fail(&mut self, at: &str, what: impl std::fmt::Display) {
        self.errors.push(format!("{at}: {what}"));
    }

    fn component(&mut self, name: &str, value: &Value, at: &str) {
        let schema = self.components.schema(name);
        self.schema(schema, value, at, Some(name));
    }

    /// `name` is set when `schema` is a whole component, to record its `oneOf` branch.
    fn schema(&mut self, schema: &Value, value: &Value, at: &str, name: Option<&str>) {
        let schema = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return self.fail(at, "no value is allowed here"),
            Value::Object(schema) => schema,
            other => panic!("not a schema: {other}"),
        };
        for (keyword, rule) in schema {
            match keyword.as_str() {
                "$ref" => {
                    let target = rule.as_str().unwrap();
                    let target = target
                        .strip_prefix(REF_PREFIX)
                        .unwrap_or_else(|| panic!("$ref outside the components: {target}"));
                    self.component(target, value, at);
                }
                "type" => self.type_(rule, value, at),
                "enum" => {
                    if !rule.as_array().unwrap().contains(value) {
                        self.fail(at, format!("{value} is not one of {rule}"));
                    }
                }
                "const" => {
                    if rule != value {
                        self.fail(at, format!("{value} is not {rule}"));
                    }
                }
                "oneOf" => self.one_of(rule, value, at, name),
                "anyOf" => self.any_of(rule, value, at),
                "allOf" => {
                    for part in rule.as_array().unwrap() {
                        self.schema(part, value, at, None);
                    }
                }
                "properties"
                | "required"
                | "additionalProperties"
                | "propertyNames"
                | "minProperties"
                | "maxProperties"
                | "items"
                | "prefixItems"
                | "minItems"
                | "maxItems"
                | "uniqueItems" => {
                    let name = keyword;
                    let keyword = Keyword { name, rule, schema };
                    match value {
                        Value::Object(object) => self.object(keyword, object, at),
                        Value::Array(items) => self.array(keyword, items, at),
                        _ => {}
                    }
                }
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                    number_bound(self, keyword, rule, value, at)
                }
                "minLength" | "maxLength" | "pattern" => {
                    string_rule(self, keyword, rule, value, at)
                }
                "format" => format(self, rule.as_str().unwrap(), value, at),
                annotation if ANNOTATIONS.contains(&annotation) => {}
                unknown => panic!("the checker does not know the keyword {unknown:?}"),
            }
        }
    }

    fn type_(&mut self, rule: &Value, value: &Value, at: &str) {
        let allowed: Vec<&str> = match rule {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().map(|t| t.as_str().unwrap()).collect(),
            other => panic!("bad type {other}"),
        };
        let fits = |t: &str| match t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.is_i64() || value.is_u64(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            other => panic!("unknown type {other}"),
        };
        if !allowed.iter().any(|t| fits(t)) {
            self.fail(at, format!("{value} is not of type {rule}"));
        }
    }

    fn one_of(&mut self, rule: &Value, value: &Value, at: &str, name: Option<&str>) {
        let passing = self.branches_passing(rule, value, at);
        match passing.as_slice() {
            [(index, branches)] => {
                self.branches.extend(branches.iter().cloned());
                if let Some(name) = name {
                    self.branches.push((name.to_owned(), *index));
                }
            }
            [] => self.fail(at, format!("{value} matches no branch of oneOf")),
            many => self.fail(at, format!("{value} matches {} oneOf branches", many.len())),
        }
    }

    fn any_of(&mut self, rule: &Value, value: &Value, at: &str) {
        let passing = self.branches_passing(rule, value, at);
        if passing.is_empty() {
            self.fail(at, format!("{value} matches no branch of anyOf"));
        }
        for (_, branches) in passing {
            self.branches.extend(branches);
        }
    }

    /// The branches `value` fits, each with the branches it took inside.
    fn branches_passing(&self, rule: &Value, value: &Value, at: &str) -> Vec<(usize, Vec<Branch>)> {
        let branches = rule.as_array().unwrap().iter().enumerate();
        branches
            .filter_map(|(index, branch)| {
                let mut walk = Walk::new(self.components);
                walk.schema(branch, value, at, None);
                walk.errors.is_empty().then_some((index, walk.branches))
            })
            .collect()
    }

    fn object(&mut self, keyword: Keyword, object: &Map, at: &str) {
        let (rule, schema) = (keyword.rule, keyword.schema);
        match keyword.name {
            "properties" => {
                for (key, sub) in rule.as_object().unwrap() {
                    if let Some(field) = object.get(key) {
                        self.schema(sub, field, &format!("{at}.{key}"), None);
                    }
                }
            }
            "required" => {
                for key in rule.as_array().unwrap() {
                    if !object.contains_key(key.as_str().unwrap()) {
                        self.fail(at, format!("required {key} is missing"));
                    }
                }
            }
            "additionalProperties" => {
                let declared = schema.get("properties").and_then(Value::as_object);
                for (key, field) in object {
                    if declared.is_none_or(|d| !d.contains_key(key)) {
                        self.schema(rule, field, &format!("{at}.{key}"), None);
                    }
                }
            }
            "propertyNames" => {
                for key in object.keys() {
                    let name = Value::String(key.clone());
                    self.schema(rule, &name, &format!("{at}[{key:?}]"), None);
                }
            }
            "minProperties" if object.len() < as_usize(rule) => {
                self.fail(at, format!("fewer than {rule} properties"))
            }
            "maxProperties" if object.len() > as_usize(rule) => {
                self.fail(at, format!("more than {rule} properties"))
            }
            _ => {}
        }
    }

    fn array(&mut self, keyword: Keyword, items: &[Value], at: &str) {
        let (rule, schema) = (keyword.rule, keyword.schema);
        match keyword.name {
            "prefixItems" => {
                for (index, (sub, item)) in rule.as_array().unwrap().iter().zip(items).enumerate() {
                    self.schema(sub, item, &format!("{at}[{index}]"), None);
                }
            }
            "items" => {
                let prefix = schema
                    .get("prefixItems")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                for (index, item) in items.iter().enumerate().skip(prefix) {
                    self.schema(rule, item, &format!("{at}[{index}]"), None);
                }
            }
            "minItems" if items.len() < as_usize(rule) => {
                self.fail(at, format!("fewer than {rule} items"))
            }
            "maxItems" if items.len() > as_usize(rule) => {
                self.fail(at, format!("more than {rule} items"))
            }
            "uniqueItems" if rule == &Value::Bool(true) => {
                for (index, item) in items.iter().enumerate() {
                    if items[..index].contains(item) {
                        self.fail(at, format!("{item} appears twice"));
                    }
                }
            }
            _ => {}
        }
    }
}

fn as_usize(rule: &Value) -> usize {
    usize::try_from(rule.as_u64().unwrap()).unwrap()
}

fn number_bound(walk: &mut Walk, keyword: &str, rule: &Value, value: &Value, at: &str) {
    let Some(n) = value.as_f64() else {
        return;
    };
    let bound = rule.as_f64().unwrap();
    let ok = match keyword {
        "minimum" => n >= bound,
        "maximum" => n <= bound,
        "exclusiveMinimum" => n > bound,
        "exclusiveMaximum" => n < bound,
        _ => unreachable!(),
    };
    if !ok {
        walk.fail(at, format!("{value} breaks {keyword} {rule}"));
    }
}

fn string_rule(walk: &mut Walk, keyword: &str, rule: &Value, value: &Value, at: &str) {
    let Some(text) = value.as_str() else {
        return;
    };
    // JSON Schema counts characters (code points), as the Rust parses do.
    let chars = text.chars().count();
    let ok = match keyword {
        "minLength" => chars >= as_usize(rule),
        "maxLength" => chars <= as_usize(rule),
        "pattern" => pattern(rule.as_str().unwrap()).is_match(text),
        _ => unreachable!(),
    };
    if !ok {
        walk.fail(at, format!("{value} breaks {keyword} {rule}"));
    }
}

/// ECMA-262 and regex-lite agree on the subset the domain's patterns use (classes,
/// `\xHH` escapes, counted repetition, anchors).
fn pattern(source: &str) -> regex_lite::Regex {
    regex_lite::Regex::new(source).unwrap_or_else(|e| panic!("bad pattern {source}: {e}"))
}

fn format(walk: &mut Walk, format: &str, value: &Value, at: &str) {
    let Some(text) = value.as_str() else {
        return;
    };
    let ok = match format {
        "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
        "uuid" => uuid::Uuid::parse_str(text).is_ok(),
        // Sizes of numbers; the bounds say what is allowed.
        "int32" | "int64" | "double" | "float" => true,
        other => panic!("the checker does not know the format {other:?}"),
    };
    if !ok {
        walk.fail(at, format!("{value} is not a {format}"));
    }
}
