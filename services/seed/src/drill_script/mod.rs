//! 演练脚本 — scripted drills (`seeds/drills/*.json`), parsed and checked before the
//! drill engine runs them. The format is documented in `seeds/drills/README.md`.
//!
//! A script is refused as a whole when anything is wrong: unknown fields, a command
//! that does not deserialize into the real domain command of its target, steps out
//! of time order, an undeclared `${name}` reference, an area code Chongqing does not
//! have, or an incident step its decider would refuse. Errors name the list
//! (`steps` or `injects`), the index and the field.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ercs_domain::area::DivisionCode;
use ercs_domain::beds::FacilityCommand;
use ercs_domain::convertible::ConvertibleCommand;
use ercs_domain::incident::{Incident, IncidentCommand, IncidentState};
use ercs_domain::supply::DepotCommand;
use ercs_domain::team::TeamCommand;
use ercs_domain::values::Actor;
use ercs_domain::{CommandContext, Decider};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::{Geography, SeedError};

mod expect;

pub use expect::{Anchor, Expectation, Rule, known_event_types};

/// The drills shipped in `seeds/drills/`, built into the binary: each name
/// (its file name without `.json`) with its text.
pub const SHIPPED: [(&str, &str); 2] = [
    (
        "changshou-chemical-poisoning",
        include_str!("../../../../seeds/drills/changshou-chemical-poisoning.json"),
    ),
    (
        "wanzhou-respiratory-outbreak",
        include_str!("../../../../seeds/drills/wanzhou-respiratory-outbreak.json"),
    ),
];

/// The only seed scripts can expect so far.
const SEED: &str = "chongqing";

/// Why a drill script was refused.
#[derive(Debug, thiserror::Error)]
pub enum DrillScriptError {
    #[error("drill script: {0}")]
    Json(#[from] serde_json::Error),
    #[error("drill script {field}: {reason}")]
    Header { field: String, reason: String },
    #[error("drill script {list}[{index}].{field}: {reason}")]
    Entry {
        /// `steps`, `injects` or `expectations`.
        list: &'static str,
        /// Zero-based, as in the JSON array.
        index: usize,
        field: String,
        reason: String,
    },
    #[error(transparent)]
    Seed(#[from] SeedError),
}

/// The kind of aggregate a step commands; decides which domain command type it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateKind {
    Incident,
    Team,
    Facility,
    Convertible,
    Depot,
}

/// Which aggregate a step addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// Declared in the script's `aggregates`; the id is fixed (v5 or literal).
    Declared { name: String, id: Uuid },
    /// A literal id.
    Id(Uuid),
    /// A seed loader's key (e.g. `team/500115/poisoning`), resolved by the engine
    /// against the loaded seed; only its syntax is checked here.
    Seed(String),
}

/// A step's target: the aggregate kind and the reference to one aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: AggregateKind,
    pub reference: Reference,
}

/// A command as the domain's own type for the target kind.
#[derive(Debug, Clone, PartialEq)]
pub enum DrillCommand {
    Incident(IncidentCommand),
    Team(TeamCommand),
    Facility(FacilityCommand),
    Convertible(ConvertibleCommand),
    Depot(DepotCommand),
}

/// One timed step of the script.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Offset from the drill's start.
    pub offset: Duration,
    pub label: Option<String>,
    pub narrative: Option<String>,
    pub target: Target,
    pub command: DrillCommand,
}

/// An unplanned event the drill director may fire at any time.
#[derive(Debug, Clone, PartialEq)]
pub struct Inject {
    pub name: String,
    pub label: String,
    pub narrative: Option<String>,
    pub target: Target,
    pub command: DrillCommand,
}

/// The title in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Title {
    pub zh: String,
    pub en: String,
}

/// A checked drill script.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillScript {
    pub id: String,
    pub title: Title,
    pub description: String,
    pub seed: String,
    pub start: DateTime<Utc>,
    aggregates: BTreeMap<String, (AggregateKind, Uuid)>,
    steps: Vec<Step>,
    injects: Vec<Inject>,
    expectations: Vec<Expectation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    id: String,
    title: Title,
    description: String,
    seed: String,
    start: DateTime<Utc>,
    #[serde(default)]
    aggregates: Vec<RawAggregate>,
    steps: Vec<Value>,
    #[serde(default)]
    injects: Vec<Value>,
    #[serde(default)]
    expectations: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAggregate {
    name: String,
    kind: AggregateKind,
    id: Option<Uuid>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    kind: AggregateKind,
    declared: Option<String>,
    id: Option<Uuid>,
    seed: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    at: String,
    label: Option<String>,
    narrative: Option<String>,
    target: RawTarget,
    command: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInject {
    name: String,
    label: String,
    narrative: Option<String>,
    target: RawTarget,
    command: Value,
}

/// Where a problem sits: the list and the index within it.
#[derive(Clone, Copy)]
struct At {
    list: &'static str,
    index: usize,
}

impl At {
    fn error(self, field: impl Into<String>, reason: impl ToString) -> DrillScriptError {
        DrillScriptError::Entry {
            list: self.list,
            index: self.index,
            field: field.into(),
            reason: reason.to_string(),
        }
    }
}

fn header_error(field: &str, reason: impl ToString) -> DrillScriptError {
    DrillScriptError::Header {
        field: field.to_owned(),
        reason: reason.to_string(),
    }
}

impl DrillScript {
    /// Parses and checks a script against the embedded Chongqing geography.
    pub fn parse(text: &str) -> Result<Self, DrillScriptError> {
        Self::parse_with(text, &crate::chongqing::geography()?)
    }

    /// Parses and checks a script against an already loaded geography.
    pub fn parse_with(text: &str, geography: &Geography) -> Result<Self, DrillScriptError> {
        let raw: RawScript = serde_json::from_str(text)?;
        check_header(&raw)?;
        let aggregates = declare(&raw.id, &raw.aggregates)?;
        let checker = Checker {
            aggregates: &aggregates,
            codes: known_codes(geography),
        };
        let steps = checker.steps(&raw.steps)?;
        let injects = checker.injects(&raw.injects)?;
        let expectations = checker.expectations(&raw.expectations, (&steps, &injects))?;
        dry_run_incidents(&raw.id, raw.start, &steps)?;
        Ok(Self {
            id: raw.id,
            title: raw.title,
            description: raw.description,
            seed: raw.seed,
            start: raw.start,
            aggregates,
            steps,
            injects,
            expectations,
        })
    }

    /// What the players are expected to do, and by when.
    pub fn expectations(&self) -> &[Expectation] {
        &self.expectations
    }

    /// The timed steps in order: offset, target and typed command each.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn injects(&self) -> &[Inject] {
        &self.injects
    }

    /// The wall-clock (drill) time of a step.
    pub fn time_of(&self, step: &Step) -> DateTime<Utc> {
        self.start + step.offset
    }

    /// The id a declared aggregate gets, by its name in the script.
    pub fn declared_id(&self, name: &str) -> Option<Uuid> {
        self.aggregates.get(name).map(|(_, id)| *id)
    }
}

/// The id of a declared aggregate without a literal one: UUID v5 in the URL namespace
/// of `urn:ercs:drill:<drill id>:<name>`, so every run of a drill uses the same ids.
pub fn declared_uuid(drill_id: &str, name: &str) -> Uuid {
    let urn = format!("urn:ercs:drill:{drill_id}:{name}");
    Uuid::new_v5(&Uuid::NAMESPACE_URL, urn.as_bytes())
}

fn is_slug(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A seed loader's key: `/`-separated segments of lowercase letters, digits, `_`, `-`.
fn is_seed_key(text: &str) -> bool {
    let segment = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c))
    };
    text.split('/').all(segment)
}

fn check_header(raw: &RawScript) -> Result<(), DrillScriptError> {
    if !is_slug(&raw.id) {
        return Err(header_error(
            "id",
            "must be a lowercase slug, e.g. wanzhou-drill",
        ));
    }
    if raw.seed != SEED {
        return Err(header_error("seed", format!("must be {SEED:?}")));
    }
    let texts = [
        ("title.zh", &raw.title.zh),
        ("title.en", &raw.title.en),
        ("description", &raw.description),
    ];
    match texts.iter().find(|(_, text)| text.trim().is_empty()) {
        Some((field, _)) => Err(header_error(field, "must not be empty")),
        None => Ok(()),
    }
}

fn declare(
    drill_id: &str,
    raw: &[RawAggregate],
) -> Result<BTreeMap<String, (AggregateKind, Uuid)>, DrillScriptError> {
    let mut declared = BTreeMap::new();
    for (index, aggregate) in raw.iter().enumerate() {
        let field = format!("aggregates[{index}].name");
        if !is_slug(&aggregate.name) {
            return Err(header_error(&field, "must be a lowercase slug"));
        }
        let id = aggregate
            .id
            .unwrap_or_else(|| declared_uuid(drill_id, &aggregate.name));
        if declared
            .insert(aggregate.name.clone(), (aggregate.kind, id))
            .is_some()
        {
            return Err(header_error(&field, "is declared twice"));
        }
    }
    Ok(declared)
}

/// Every code a script may name: the city, its districts and its townships.
fn known_codes(geography: &Geography) -> BTreeSet<DivisionCode> {
    let districts = geography.districts.iter().map(|d| d.code.clone());
    let townships = geography.townships.iter().map(|t| t.code.clone());
    std::iter::once(geography.city.code.clone())
        .chain(districts)
        .chain(townships)
        .collect()
}

/// Parses `+H:MM:SS`: hours of one or more digits (e.g. `+72:00:00`), then two-digit
/// minutes and seconds.
fn parse_offset(raw: &str) -> Option<Duration> {
    let parts: Vec<&str> = raw.strip_prefix('+')?.split(':').collect();
    let [h, m, s] = parts.as_slice() else {
        return None;
    };
    let number = |part: &str, width: Option<usize>, max: u64| {
        let digits = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let wide = width.is_none_or(|w| part.len() == w);
        let value: u64 = part.parse().ok().filter(|_| digits && wide)?;
        (value <= max).then_some(value)
    };
    let (h, m, s) = (
        number(h, None, 10_000)?,
        number(m, Some(2), 59)?,
        number(s, Some(2), 59)?,
    );
    Some(Duration::from_secs(h * 3600 + m * 60 + s))
}

struct Checker<'a> {
    aggregates: &'a BTreeMap<String, (AggregateKind, Uuid)>,
    codes: BTreeSet<DivisionCode>,
}

impl Checker<'_> {
    fn steps(&self, raw: &[Value]) -> Result<Vec<Step>, DrillScriptError> {
        let mut steps: Vec<Step> = Vec::with_capacity(raw.len());
        for (index, value) in raw.iter().enumerate() {
            let at = At {
                list: "steps",
                index,
            };
            let step = self.step(at, value)?;
            if let Some(previous) = steps.last().filter(|p| p.offset > step.offset) {
                let reason = format!("is before the previous step ({:?})", previous.offset);
                return Err(at.error("at", reason));
            }
            steps.push(step);
        }
        Ok(steps)
    }

    fn step(&self, at: At, value: &Value) -> Result<Step, DrillScriptError> {
        let raw: RawStep = entry(at, value)?;
        let offset = parse_offset(&raw.at)
            .ok_or_else(|| at.error("at", format!("{:?} is not +H:MM:SS", raw.at)))?;
        let target = self.target(at, raw.target)?;
        let command = self.command(at, &target, raw.command)?;
        Ok(Step {
            offset,
            label: raw.label,
            narrative: raw.narrative,
            target,
            command,
        })
    }

    fn injects(&self, raw: &[Value]) -> Result<Vec<Inject>, DrillScriptError> {
        let mut names = BTreeSet::new();
        let mut injects = Vec::with_capacity(raw.len());
        for (index, value) in raw.iter().enumerate() {
            let at = At {
                list: "injects",
                index,
            };
            let raw: RawInject = entry(at, value)?;
            if !is_slug(&raw.name) || !names.insert(raw.name.clone()) {
                return Err(at.error("name", "must be a unique lowercase slug"));
            }
            let target = self.target(at, raw.target)?;
            let command = self.command(at, &target, raw.command)?;
            injects.push(Inject {
                name: raw.name,
                label: raw.label,
                narrative: raw.narrative,
                target,
                command,
            });
        }
        Ok(injects)
    }

    fn target(&self, at: At, raw: RawTarget) -> Result<Target, DrillScriptError> {
        let reference = match (raw.declared, raw.id, raw.seed) {
            (Some(name), None, None) => self.declared(at, raw.kind, name)?,
            (None, Some(id), None) => Reference::Id(id),
            (None, None, Some(seed)) if is_seed_key(&seed) => Reference::Seed(seed),
            (None, None, Some(_)) => {
                let reason = "must be a seed key, e.g. team/500101/poisoning";
                return Err(at.error("target.seed", reason));
            }
            _ => {
                let reason = "needs exactly one of declared, id, seed";
                return Err(at.error("target", reason));
            }
        };
        Ok(Target {
            kind: raw.kind,
            reference,
        })
    }

    fn declared(
        &self,
        at: At,
        kind: AggregateKind,
        name: String,
    ) -> Result<Reference, DrillScriptError> {
        match self.aggregates.get(&name) {
            Some(&(declared, id)) if declared == kind => Ok(Reference::Declared { name, id }),
            Some((declared, _)) => {
                let reason = format!("{name:?} is declared as a {declared:?}, not a {kind:?}");
                Err(at.error("target.declared", reason))
            }
            None => Err(at.error("target.declared", format!("{name:?} is not declared"))),
        }
    }

    fn command(
        &self,
        at: At,
        target: &Target,
        mut raw: Value,
    ) -> Result<DrillCommand, DrillScriptError> {
        self.substitute(at, &mut raw, "command")?;
        let command = typed(at, target.kind, raw)?;
        check_declare_id(at, target, &command)?;
        for (field, code) in division_codes(&command) {
            if !self.codes.contains(code) {
                let reason = format!("{code} is not an area of Chongqing");
                return Err(at.error(format!("command.{field}"), reason));
            }
        }
        Ok(command)
    }

    /// Replaces every string `${name}` with the id of the declared aggregate `name`.
    fn substitute(&self, at: At, value: &mut Value, path: &str) -> Result<(), DrillScriptError> {
        match value {
            Value::String(text) => self.resolve(at, text, path),
            Value::Array(items) => items
                .iter_mut()
                .enumerate()
                .try_for_each(|(i, item)| self.substitute(at, item, &format!("{path}[{i}]"))),
            Value::Object(fields) => fields
                .iter_mut()
                .try_for_each(|(key, item)| self.substitute(at, item, &format!("{path}.{key}"))),
            _ => Ok(()),
        }
    }

    fn resolve(&self, at: At, text: &mut String, path: &str) -> Result<(), DrillScriptError> {
        let Some(name) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
            return Ok(());
        };
        let (_, id) = self
            .aggregates
            .get(name)
            .ok_or_else(|| at.error(path, format!("${{{name}}} is not declared")))?;
        *text = id.hyphenated().to_string();
        Ok(())
    }
}

/// Deserializes one list entry, naming the field serde complains about.
fn entry<T: DeserializeOwned>(at: At, value: &Value) -> Result<T, DrillScriptError> {
    T::deserialize(value).map_err(|e| {
        let message = e.to_string();
        let field = field_of(&message).unwrap_or("entry").to_owned();
        at.error(field, message)
    })
}

/// The field a serde message is about (`unknown field `x``, `missing field `x``).
fn field_of(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next()
}

fn typed(at: At, kind: AggregateKind, raw: Value) -> Result<DrillCommand, DrillScriptError> {
    fn into<C: DeserializeOwned>(at: At, raw: Value) -> Result<C, DrillScriptError> {
        let variant = raw
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .map_or_else(|| "command".to_owned(), |v| format!("command.{v}"));
        serde_json::from_value(raw).map_err(|e| at.error(variant, e))
    }
    Ok(match kind {
        AggregateKind::Incident => DrillCommand::Incident(into(at, raw)?),
        AggregateKind::Team => DrillCommand::Team(into(at, raw)?),
        AggregateKind::Facility => DrillCommand::Facility(into(at, raw)?),
        AggregateKind::Convertible => DrillCommand::Convertible(into(at, raw)?),
        AggregateKind::Depot => DrillCommand::Depot(into(at, raw)?),
    })
}

/// A declare step must create the aggregate its target names.
fn check_declare_id(
    at: At,
    target: &Target,
    command: &DrillCommand,
) -> Result<(), DrillScriptError> {
    let DrillCommand::Incident(IncidentCommand::Declare { incident_id, .. }) = command else {
        return Ok(());
    };
    let expected = match &target.reference {
        Reference::Declared { id, .. } | Reference::Id(id) => *id,
        Reference::Seed(_) => return Err(at.error("target", "a declare needs an id")),
    };
    if incident_id.as_uuid() == expected {
        return Ok(());
    }
    Err(at.error(
        "command.declare.incident_id",
        "differs from the target's id",
    ))
}

/// The division codes a command names, with the field that holds each.
fn division_codes(command: &DrillCommand) -> Vec<(String, &DivisionCode)> {
    use IncidentCommand as I;
    match command {
        DrillCommand::Incident(I::Declare { affected_areas, .. }) => {
            each("declare.affected_areas", affected_areas)
        }
        DrillCommand::Incident(I::ExtendAffectedAreas { areas }) => {
            each("extend_affected_areas.areas", areas)
        }
        DrillCommand::Incident(I::RecordBedDemand { township, .. }) => {
            each("record_bed_demand.township", [township])
        }
        DrillCommand::Incident(I::RecordSupplyDemand { area, .. }) => {
            each("record_supply_demand.area", [area])
        }
        DrillCommand::Team(TeamCommand::Deploy { area, .. }) => each("deploy.area", [area]),
        DrillCommand::Convertible(ConvertibleCommand::Register { area, .. })
        | DrillCommand::Facility(FacilityCommand::Register { area, .. }) => {
            each("register.area", [area])
        }
        _ => Vec::new(),
    }
}

fn each<'a>(
    field: &str,
    codes: impl IntoIterator<Item = &'a DivisionCode>,
) -> Vec<(String, &'a DivisionCode)> {
    codes.into_iter().map(|c| (field.to_owned(), c)).collect()
}

/// Runs the steps aimed at declared incidents through the incident decider, stamped
/// with the drill's clock, so a script the engine would see refused is refused now.
fn dry_run_incidents(
    drill_id: &str,
    start: DateTime<Utc>,
    steps: &[Step],
) -> Result<(), DrillScriptError> {
    let actor = Actor::parse(format!("drill:{drill_id}")).map_err(|e| header_error("id", e))?;
    let mut states: BTreeMap<Uuid, Option<IncidentState>> = BTreeMap::new();
    for (index, step) in steps.iter().enumerate() {
        let (Reference::Declared { id, .. }, DrillCommand::Incident(command)) =
            (&step.target.reference, &step.command)
        else {
            continue;
        };
        let context = CommandContext::new(actor.clone(), start + step.offset);
        let state = states.entry(*id).or_default();
        let events = Incident::decide(state, context.stamp(command.clone())).map_err(|e| {
            let field = e
                .field()
                .map_or_else(|| "command".to_owned(), |f| format!("command.{f}"));
            At {
                list: "steps",
                index,
            }
            .error(field, e)
        })?;
        *state = events.iter().fold(state.take(), Incident::evolve);
    }
    Ok(())
}
