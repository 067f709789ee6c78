//! Writing: every domain command over REST.
//!
//! - `POST /api/v1/{collection}` creates a resource (`register`, `catalogue`,
//!   `declare`); the body is that command's fields.
//! - `POST /api/v1/{collection}/{id}/{action}` sends any other command; the body
//!   is its fields (none for commands without any). Bed commands of facilities
//!   and 平急两用 venues are actions too (`/facilities/{id}/report`).
//!
//! The body is read into the domain's own command enum, so the API accepts exactly
//! what the domain defines and an unknown field is refused. `If-Match` carries the
//! expected revision; `Idempotency-Key` makes a retry append nothing and return the
//! first response. Every write answers with the revision (`ETag`) and the log
//! position it reached.

use std::any::Any;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use ercs_commands::{CommandError, Executed, Expect, Metadata};
use ercs_domain::DomainError;
use ercs_domain::beds::Facility;
use ercs_domain::convertible::ConvertibleFacility;
use ercs_domain::decider::{CommandContext, Decider, Stamped};
use ercs_domain::event::DomainEvent;
use ercs_domain::ids::{DepotId, IncidentId};
use ercs_domain::incident::Incident;
use ercs_domain::references::Refers;
use ercs_domain::supply::CatalogueItem;
use ercs_domain::supply::depot::{Depot, DepotEvent};
use ercs_domain::team::Team;
use ercs_domain::values::{Actor, Reason};
use ercs_eventlog::StreamName;
use ercs_projections::one_network::ResourceKind;
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::closing;
use crate::examples::actions;
use crate::idempotency::{REPLAYED_HEADER, request_key};
use crate::problem::Problem;
use crate::references;
use crate::routes::fallback::{KnownPaths, no_route};
use crate::routes::resources::{POSITION_HEADER, etag, kind_singular};
use crate::state::{AppState, Net, PathId};
use crate::transfers;

/// The largest request body the API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// A collection whose resources take commands.
pub trait Commanded: Decider<Error = DomainError, Command = Stamped<Self::Body>> + 'static
where
    Self::Event: DomainEvent,
{
    /// The domain's command enum.
    type Body: DeserializeOwned + Clone + Send + Refers + 'static;
    const KIND: ResourceKind;
    /// The command that creates a resource.
    const CREATE: &'static str;
    /// A variant that wraps a second command enum whose commands are actions too
    /// (`beds` for facility bed pools).
    const NESTED: Option<&'static str> = None;
    /// The id a creating command names.
    fn created_id(body: &Self::Body) -> Option<Self::Id>;
    fn parse_id(raw: &str) -> Option<Self::Id>;
}

macro_rules! commanded {
    ($decider:ty, $kind:ident, $body:ty, $create:literal, $variant:path, $id:ident $(, nested = $nested:literal)?) => {
        impl Commanded for $decider {
            type Body = $body;
            const KIND: ResourceKind = ResourceKind::$kind;
            const CREATE: &'static str = $create;
            $(const NESTED: Option<&'static str> = Some($nested);)?
            fn created_id(body: &Self::Body) -> Option<Self::Id> {
                match body {
                    $variant { $id, .. } => Some($id.clone()),
                    _ => None,
                }
            }
            fn parse_id(raw: &str) -> Option<Self::Id> {
                raw.parse().ok()
            }
        }
    };
}

use ercs_domain::beds::FacilityCommand;
use ercs_domain::convertible::ConvertibleCommand;
use ercs_domain::incident::IncidentCommand;
use ercs_domain::supply::ItemCommand;
use ercs_domain::supply::depot::DepotCommand;
use ercs_domain::team::TeamCommand;

commanded!(
    Team,
    Teams,
    TeamCommand,
    "register",
    TeamCommand::Register,
    team_id
);
commanded!(
    Facility,
    Facilities,
    FacilityCommand,
    "register",
    FacilityCommand::Register,
    facility_id,
    nested = "beds"
);
commanded!(
    Depot,
    Depots,
    DepotCommand,
    "register",
    DepotCommand::Register,
    depot_id
);
commanded!(
    ConvertibleFacility,
    Convertibles,
    ConvertibleCommand,
    "register",
    ConvertibleCommand::Register,
    facility_id,
    nested = "beds"
);
commanded!(
    Incident,
    Incidents,
    IncidentCommand,
    "declare",
    IncidentCommand::Declare,
    incident_id
);
commanded!(
    CatalogueItem,
    Items,
    ItemCommand,
    "catalogue",
    ItemCommand::Catalogue,
    item
);

pub fn configure(config: &mut web::ServiceConfig, base: &str) {
    routes::<Team>(config, base);
    routes::<Facility>(config, base);
    routes::<Depot>(config, base);
    routes::<ConvertibleFacility>(config, base);
    routes::<Incident>(config, base);
    routes::<CatalogueItem>(config, base);
}

fn routes<D: Commanded>(config: &mut web::ServiceConfig, base: &str)
where
    D::Event: DomainEvent + Serialize + 'static,
    D::Id: Clone + Send,
{
    let kind = D::KIND;
    config
        .route(
            &format!("{base}/{kind}"),
            web::post().to(|state: Net, request: HttpRequest, body: web::Payload| {
                write::<D>(state, request, body, None, D::CREATE.to_owned())
            }),
        )
        .route(
            &format!("{base}/{kind}/{{id}}/{{action}}"),
            web::post().to(
                |state: Net, request: HttpRequest, body: web::Payload, id: PathId| {
                    let action = request
                        .match_info()
                        .get("action")
                        .unwrap_or_default()
                        .to_owned();
                    write::<D>(state, request, body, Some(id.into_inner()), action)
                },
            ),
        );
}

/// What a successful write answers.
#[derive(Debug, Serialize)]
pub struct WriteOutcome {
    pub id: String,
    /// The resource's revision afterwards (its `ETag`).
    pub revision: Option<u64>,
    /// The log position the write reached; pass it as `min_position` to read your
    /// own write.
    pub position: Option<u64>,
    /// The events the command appended, by type, with their data.
    pub events: Vec<EventOut>,
}

#[derive(Debug, Serialize)]
pub struct EventOut {
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub data: Value,
}

async fn write<D: Commanded>(
    state: Net,
    request: HttpRequest,
    payload: web::Payload,
    id: Option<String>,
    action: String,
) -> Result<HttpResponse, Problem>
where
    D::Event: DomainEvent + Serialize + 'static,
    D::Id: Clone + Send,
{
    if id.is_some() && action_nesting::<D>(&action).is_none() {
        // Not a command: another method's path (`GET …/held`) is a 405 naming
        // what it takes; anything else, the resource's commands.
        if let Some(known) = request.app_data::<web::Data<KnownPaths>>()
            && !known.allowed(request.path()).is_empty()
        {
            return Ok(no_route(request.clone(), known.clone()).await);
        }
        return Err(unknown_action(D::KIND, &action));
    }
    let body = read_body(&request, payload).await?;
    let key = request_key(&request, &body)?;
    let mut command: D::Body = command_of::<D>(&action, &body)?;
    // Stock issued from a plan's reservation is issued for the plan's incident.
    if let Some(DepotCommand::Issue {
        plan: Some(plan),
        incident: incident @ None,
        ..
    }) = (&mut command as &mut dyn Any).downcast_mut::<DepotCommand>()
    {
        *incident = state.view.read(|view| view.plans.get(plan).copied()).0;
    }
    let target = match (&id, D::created_id(&command)) {
        (None, Some(created)) => created,
        (Some(raw), _) if action != D::CREATE => D::parse_id(raw).ok_or_else(|| {
            Problem::not_found(format!("no {} with id `{raw}`", kind_singular(D::KIND)))
        })?,
        _ => return Err(unknown_action(D::KIND, &action)),
    };
    crate::auth::authorise_areas(&state, &request, &command, id.is_none())?;
    let expect = expected_revision(&request)?;
    let actor = actor(&request)?;
    let mut metadata = audited(&request, Metadata::new(actor.to_string()));
    // The steps a process takes for this request say who asked, with its request id.
    let at = state.now();
    let acting = crate::acting::Acting::with(actor.clone(), at, metadata.clone());
    if let Some(key) = &key {
        metadata = metadata.with_request_key(&key.scoped, key.digest);
    }
    if let Err(unknown) = references::check(&state, &command).await {
        // A retry is answered as the first time, even if what it named is gone.
        return match state.aggregates.applied::<D>(&target, &metadata).await? {
            Some(first) => Ok(answer::<D>(&state, first, &target, id.is_none()).await?),
            None => Err(unknown),
        };
    }
    // Closing an incident is a process: what it holds is released first (or the
    // close refused). A retry of a close already applied skips straight to its answer.
    if let Some(IncidentCommand::Close { release_all, .. }) =
        (&command as &dyn Any).downcast_ref::<IncidentCommand>()
        && let Some(incident) = (&target as &dyn Any).downcast_ref::<IncidentId>()
        && state
            .aggregates
            .applied::<D>(&target, &metadata)
            .await?
            .is_none()
    {
        closing::before_close(&state, *incident, *release_all, &acting).await?;
    }
    // Signing for or refusing a transfer in transit is the transfer process's.
    if let Some(command) = (&command as &dyn Any).downcast_ref::<DepotCommand>()
        && let Some(depot) = (&target as &dyn Any).downcast_ref::<DepotId>()
        && let Some(answered) = transfer_receipt(&state, *depot, command).await?
    {
        return Ok(answered);
    }
    let stamped = Stamped {
        context: CommandContext::new(actor, at),
        command,
    };
    let executed = match state
        .aggregates
        .execute::<D>(&target, expect, stamped, &metadata)
        .await
    {
        Ok(executed) => executed,
        Err(refused @ CommandError::Rejected(_)) => {
            return Err(stale_or::<D>(&state, &target, expect, refused).await);
        }
        Err(error) => return Err(error.into()),
    };
    answer::<D>(&state, executed, &target, id.is_none()).await
}

/// The answer to what a command did (or, replayed, first did).
async fn answer<D: Commanded>(
    state: &AppState,
    executed: Executed<D::Event>,
    target: &D::Id,
    created: bool,
) -> Result<HttpResponse, Problem>
where
    D::Event: DomainEvent + Serialize + 'static,
{
    let mut outcome = WriteOutcome {
        id: target.to_string(),
        revision: executed.revision,
        position: executed.position.map(|p| p.0),
        events: events_out(&executed.events),
    };
    // Settling is itself exactly once, so a replayed dispatch gets the same answer.
    let returned = settle_transfers(state, &executed.events, &mut outcome).await?;
    if !returned.is_empty() {
        return Err(transfer_returned(&returned, &outcome));
    }
    Ok(written(
        &outcome,
        (created, &state.base()),
        D::KIND,
        executed.replayed,
    ))
}

fn events_out<E: DomainEvent>(events: &[E]) -> Vec<EventOut> {
    events
        .iter()
        .map(|event| EventOut {
            event_type: event.event_type(),
            data: event.data().unwrap_or(Value::Null),
        })
        .collect()
}

/// A depot write that dispatched a transfer is answered once the transfer is
/// settled at the destination (or returned), with the settling events and the
/// position after them, so reading at that position shows both depots. Returns
/// the refusals of transfers that came back.
#[allow(clippy::ptr_arg)] // a `Vec`, to be downcast
async fn settle_transfers<E: 'static>(
    state: &AppState,
    events: &Vec<E>,
    outcome: &mut WriteOutcome,
) -> Result<Vec<Returned>, Problem> {
    let Some(events) = (events as &dyn Any).downcast_ref::<Vec<DepotEvent>>() else {
        return Ok(Vec::new());
    };
    let mut returned = Vec::new();
    for transfer in transfers::dispatched(events) {
        let settled = transfers::settle(state, &transfer).await?;
        if let Some(back) = settled.return_event() {
            returned.push(Returned {
                to: transfer.to.to_string(),
                reason: back.reason.to_string(),
            });
        }
        // Completed or returned: either way the source moved on past the dispatch.
        if transfer.from.to_string() == outcome.id {
            outcome.revision = settled.source_revision.or(outcome.revision);
        }
        outcome.position = settled.position.map(|p| p.0).or(outcome.position);
        outcome.events.extend(events_out(&settled.events));
    }
    Ok(returned)
}

/// 签收 or 拒收 of a transfer in transit, at its destination `depot`: settled by
/// the transfer process (received there, or returned to the source). `None` for
/// any other depot command.
async fn transfer_receipt(
    state: &AppState,
    depot: DepotId,
    command: &DepotCommand,
) -> Result<Option<HttpResponse>, Problem> {
    let why = |text: String| Reason::parse(text.chars().take(200).collect::<String>());
    match command {
        DepotCommand::SignTransfer {
            transfer,
            from,
            received_by,
        } => {
            let reason = why(format!("签收: {received_by}")).map_err(Problem::from)?;
            let settled =
                match transfers::in_transit_to(state, depot, *transfer, *from, reason).await? {
                    transfers::Found::InTransit(dispatched) => {
                        transfers::settle(state, &dispatched).await?
                    }
                    transfers::Found::Settled(settled) => settled,
                };
            let outcome = WriteOutcome {
                id: depot.to_string(),
                revision: None,
                position: settled.position.map(|p| p.0),
                events: events_out(&settled.events),
            };
            if let Some(back) = settled.return_event() {
                let returned = Returned {
                    to: depot.to_string(),
                    reason: back.reason.to_string(),
                };
                return Err(transfer_returned(&[returned], &outcome));
            }
            let outcome = WriteOutcome {
                revision: settled.destination_revision,
                ..outcome
            };
            Ok(Some(written(
                &outcome,
                (false, ""),
                ResourceKind::Depots,
                settled.replayed,
            )))
        }
        DepotCommand::RefuseTransfer {
            transfer,
            from,
            reason,
        } => {
            let reason = why(format!("拒收: {reason}")).map_err(Problem::from)?;
            let found = transfers::in_transit_to(state, depot, *transfer, *from, reason).await?;
            let returned = transfers::refuse(state, found).await?;
            // The events are the source's, so this depot's revision is not among them.
            let outcome = WriteOutcome {
                id: depot.to_string(),
                revision: None,
                position: returned.position.map(|p| p.0),
                events: events_out(&returned.events),
            };
            Ok(Some(written(
                &outcome,
                (false, ""),
                ResourceKind::Depots,
                returned.replayed,
            )))
        }
        _ => Ok(None),
    }
}

/// A transfer its destination refused, and why.
struct Returned {
    to: String,
    reason: String,
}

/// A dispatch whose transfer came back is not a success, though it changed the
/// log: a 409 that says who refused it and why, with everything it appended.
fn transfer_returned(returned: &[Returned], outcome: &WriteOutcome) -> Problem {
    let why: Vec<String> = returned
        .iter()
        .map(|r| format!("depot {} refused it ({})", r.to, r.reason))
        .collect();
    let problem = Problem::new(
        StatusCode::CONFLICT,
        "transfer-returned",
        "Transfer returned",
        format!(
            "the transfer was dispatched, but {}; the stock is back at the source. \
             `outcome` holds both events and the position after them",
            why.join("; ")
        ),
    )
    .with_field("to");
    Problem {
        outcome: serde_json::to_value(outcome).ok().map(Box::new),
        etag: outcome.revision,
        ..problem
    }
}

/// A command decided on an `If-Match` revision that is no longer current was
/// refused for a stale reason: say the revision is stale, which is what the
/// client must act on, rather than what the old state would not allow.
async fn stale_or<D: Commanded>(
    state: &AppState,
    target: &D::Id,
    expect: Expect,
    refused: CommandError<DomainError>,
) -> Problem
where
    D::Event: DomainEvent,
{
    let Expect::Revision(expected) = expect else {
        return refused.into();
    };
    match state.aggregates.load::<D>(target).await {
        Ok(loaded) if loaded.revision != expected => {
            match StreamName::new(D::stream_name(target)) {
                Ok(stream) => CommandError::<DomainError>::Conflict {
                    stream,
                    expected,
                    actual: loaded.revision,
                }
                .into(),
                Err(_) => refused.into(),
            }
        }
        _ => refused.into(),
    }
}

/// The body, at most [`MAX_BODY`] bytes, of a request that says it is JSON.
pub(crate) async fn read_body(
    request: &HttpRequest,
    mut payload: web::Payload,
) -> Result<Vec<u8>, Problem> {
    require_json(request)?;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "unreadable-body",
                "Unreadable body",
                error.to_string(),
            )
        })?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Body too large",
                format!("a command body may be at most {MAX_BODY} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Every command must say `Content-Type: application/json`, even one without a
/// body. A web page can make a browser send a cross-site POST without asking
/// first only as a "simple" request (no content type, or a form or text one), so
/// refusing those means no page a dispatcher visits can issue a command.
pub(crate) fn require_json(request: &HttpRequest) -> Result<(), Problem> {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if json {
        return Ok(());
    }
    Err(Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        "send every command with Content-Type: application/json (an empty body is fine for \
         a command without fields)",
    )
    .with_field("Content-Type"))
}

/// Reads a JSON body as `T`; the problem names the field at fault.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let value: Value = serde_json::from_slice(body).map_err(malformed)?;
    deserialize_fields(value, 0)
}

/// Reads `body` as the command `action` of `D`: `{action: body}`, or the bare
/// name for a command without fields, or inside the nested enum.
pub fn command_of<D: Commanded>(action: &str, body: &[u8]) -> Result<D::Body, Problem>
where
    D::Event: DomainEvent,
{
    let fields: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(malformed)?
    };
    if !(fields.is_null() || fields.is_object()) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            "the body must be a JSON object of the command's fields",
        )
        .with_field("/"));
    }
    let Some(nesting) = action_nesting::<D>(action) else {
        return Err(unknown_action(D::KIND, action));
    };
    let empty = fields.is_null() || fields.as_object().is_some_and(|o| o.is_empty());
    let wrap = |inner: Value| match nesting {
        Some(outer) => Value::Object([(outer.to_owned(), inner)].into_iter().collect()),
        None => inner,
    };
    if empty {
        // A command without fields is written as its bare name.
        if let Ok(command) = serde_json::from_value(wrap(Value::String(action.to_owned()))) {
            return Ok(command);
        }
    }
    let fields = if fields.is_null() {
        Value::Object(Default::default())
    } else {
        fields
    };
    let value = wrap(Value::Object(
        [(action.to_owned(), fields)].into_iter().collect(),
    ));
    // The field is named within the command's own fields: past the wrapping.
    deserialize_fields(value, 1 + usize::from(nesting.is_some()))
}

fn malformed(error: serde_json::Error) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-json",
        "Malformed JSON",
        format!("the body is not valid JSON: {error}"),
    )
}

/// Deserializes `value`; a failure is a 422 naming the field's path, less its
/// first `wrapping` segments (`/` for the body itself).
fn deserialize_fields<T: DeserializeOwned>(value: Value, wrapping: usize) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let field = path
            .split('.')
            .filter(|segment| !segment.is_empty())
            .skip(wrapping)
            .collect::<Vec<_>>()
            .join(".");
        let field = if field.is_empty() {
            "/".to_owned()
        } else {
            field
        };
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-field",
            "Invalid field",
            format!("`{field}`: {}", error.inner()),
        )
        .with_field(field)
    })
}

/// Where `action` lives: `Some(None)` at the top of `D`'s commands,
/// `Some(Some(outer))` inside the nested enum, `None` nowhere.
fn action_nesting<D: Commanded>(action: &str) -> Option<Option<&'static str>>
where
    D::Event: DomainEvent,
{
    let known = actions(D::KIND);
    let entry = known.iter().find(|a| a.name == action)?;
    Some(if entry.nested { D::NESTED } else { None })
}

fn unknown_action(kind: ResourceKind, action: &str) -> Problem {
    let names: Vec<&str> = actions(kind).iter().map(|a| a.name).collect();
    Problem::not_found(format!(
        "{} has no command `{action}`; its commands are: {}",
        kind,
        names.join(", ")
    ))
}

/// `If-Match: "3"` → decide on revision 3; none → on the latest.
fn expected_revision(request: &HttpRequest) -> Result<Expect, Problem> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Ok(Expect::Latest);
    };
    let raw = value.to_str().unwrap_or("").trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    raw.parse::<u64>()
        .map(|r| Expect::Revision(Some(r)))
        .map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-header",
                "Invalid header",
                "If-Match must be the resource's ETag, a revision such as \"3\"",
            )
            .with_field("If-Match")
        })
}

/// `metadata` with the authenticated actor and the request's id, when the
/// guard authenticated one.
pub(crate) fn audited(request: &HttpRequest, mut metadata: Metadata) -> Metadata {
    // Every event of a drill says so (演练), whoever sends it; its commands
    // are correlated by their request, so identical runs record alike.
    if let Some(drill) = request.match_info().get("drill") {
        let script = (request.app_data::<web::Data<crate::drills::Drills>>())
            .and_then(|drills| drills.get(drill))
            .map(|hosted| hosted.script.clone());
        metadata.drill_id = Some(script.unwrap_or_else(|| drill.to_owned()));
        metadata.correlation_id = crate::observe::request_id(request);
    }
    match crate::auth::principal_of(request) {
        Some(principal) => {
            metadata.with_authenticated(principal.audited(), crate::observe::request_id(request))
        }
        None => metadata,
    }
}

/// Who issues the command: the name of the actor the guard authenticated. A
/// client does not say who it is (an `ERCS-Actor` header is ignored); its token does.
pub(crate) fn actor(request: &HttpRequest) -> Result<Actor, Problem> {
    let Some(principal) = crate::auth::principal_of(request) else {
        return Err(crate::auth::config::unauthenticated(
            "a command needs an authenticated actor",
        ));
    };
    Actor::parse(&principal.name)
        .map_err(|error| crate::auth::config::unauthenticated(format!("the token's name: {error}")))
}

/// The answer to a write: 201 with `Location` for a creation, else 200; the
/// `ETag` and the position reached; marked when it replays a key's first outcome.
fn written(
    outcome: &WriteOutcome,
    (created, base): (bool, &str),
    kind: ResourceKind,
    replayed: bool,
) -> HttpResponse {
    let mut response = if created {
        let mut created = HttpResponse::Created();
        created.insert_header((header::LOCATION, format!("{base}/{kind}/{}", outcome.id)));
        created
    } else {
        HttpResponse::Ok()
    };
    if let Some(revision) = outcome.revision {
        response.insert_header((header::ETAG, etag(revision)));
    }
    if let Some(position) = outcome.position {
        response.insert_header((POSITION_HEADER, position.to_string()));
    }
    if replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    response.json(outcome)
}
