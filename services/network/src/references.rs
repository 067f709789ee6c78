//! References checked at the edge: before a command is decided, everything it
//! names outside its own aggregate must exist (`ercs_domain::references`).
//!
//! Areas are checked against the city's area tree; items, depots and incidents
//! against their own streams in the log, not the view, so a dispatcher who has
//! just registered a depot can transfer to it at once; a new transfer's id
//! against the log's keys (settled before) and the view (open at a depot).

use ercs_commands::CommandError;
use ercs_domain::DomainError;
use ercs_domain::beds::Facility;
use ercs_domain::convertible::ConvertibleFacility;
use ercs_domain::decider::Decider;
use ercs_domain::event::DomainEvent;
use ercs_domain::incident::{Incident, IncidentPhase};
use ercs_domain::references::{Reference, Refers};
use ercs_domain::supply::CatalogueItem;
use ercs_domain::supply::depot::{Depot, DepotState};
use http::StatusCode;

use crate::network::Network;
use crate::problem::Problem;

/// Refuses `command` unless everything it names exists (and an incident it
/// commits resources to is still open).
pub async fn check(state: &Network, command: &impl Refers) -> Result<(), Problem> {
    for reference in command.references() {
        check_one(state, reference).await?;
    }
    Ok(())
}

async fn check_one(state: &Network, reference: Reference) -> Result<(), Problem> {
    match reference {
        Reference::Area { field, code } => match state.areas.get(&code) {
            Some(_) => Ok(()),
            None => Err(unknown(
                field,
                format!(
                    "no area `{code}` in the city's area hierarchy (GB/T 2260 codes; regions by slug)"
                ),
            )),
        },
        Reference::Item { field, code } => match load::<CatalogueItem>(state, &code).await? {
            Some(_) => Ok(()),
            None => Err(unknown(
                field,
                format!("no item `{code}` in the catalogue; catalogue it first"),
            )),
        },
        Reference::Depot { field, id } => match load::<Depot>(state, &id).await? {
            Some(_) => Ok(()),
            None => Err(unknown(field, format!("no depot with id `{id}`"))),
        },
        Reference::Facility { field, id } => {
            if load::<Facility>(state, &id).await?.is_some()
                || load::<ConvertibleFacility>(state, &id).await?.is_some()
            {
                Ok(())
            } else {
                Err(unknown(
                    field,
                    format!("no facility or 平急两用 venue with id `{id}`"),
                ))
            }
        }
        Reference::NewTransfer { field, id } => {
            let taken = |detail: String| Err(already_exists(field, detail));
            match crate::transfers::settled_before(state, id).await {
                Ok(false) => {}
                Ok(true) => {
                    return taken(format!(
                        "transfer `{id}` was dispatched and settled before; a new transfer needs a new id"
                    ));
                }
                Err(error) => return Err(CommandError::<DomainError>::Log(error).into()),
            }
            // Open at a depot: its own source refuses it too, but another depot
            // would not see it (the view may lag the log by moments).
            match depot_where(state, |depot| depot.outbound.contains_key(&id)) {
                Some(depot) => taken(format!(
                    "transfer `{id}` is open at {depot}, not yet settled; a new transfer needs a new id"
                )),
                None => Ok(()),
            }
        }
        Reference::NewShipment { field, id } => {
            // The depot that issued it refuses it too; another would not see it.
            match depot_where(state, |depot| depot.shipments.contains_key(&id)) {
                Some(depot) => Err(already_exists(
                    field,
                    format!(
                        "consignment `{id}` was issued by {depot} before; a new consignment needs a new id"
                    ),
                )),
                None => Ok(()),
            }
        }
        Reference::OpenIncident { field, id } => match load::<Incident>(state, &id).await? {
            Some(incident) if incident.phase == IncidentPhase::Open => Ok(()),
            Some(incident) => Err(Problem::new(
                StatusCode::CONFLICT,
                "incident-closed",
                "Incident closed",
                format!(
                    "incident `{id}` ({}) is closed; nothing more can be committed to it",
                    incident.title
                ),
            )
            .with_field(field)),
            None => Err(unknown(
                field,
                format!("no incident with id `{id}`; declare it first"),
            )),
        },
    }
}

/// The aggregate's state as its stream leaves it (`None`: never created).
async fn load<D>(state: &Network, id: &D::Id) -> Result<D::State, Problem>
where
    D: Decider<Error = DomainError>,
    D::Event: DomainEvent,
{
    state
        .aggregates
        .load::<D>(id)
        .await
        .map(|loaded| loaded.state)
        .map_err(|error: CommandError<DomainError>| error.into())
}

fn unknown(field: impl Into<String>, detail: String) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown-reference",
        "Unknown reference",
        detail,
    )
    .with_field(field)
}

/// A new id that is already taken: a 409 naming `field`.
fn already_exists(field: &'static str, detail: String) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "already-exists",
        "Already exists",
        detail,
    )
    .with_field(field)
}

/// The name of a depot in the view for which `holds` is true, if any.
fn depot_where(state: &Network, holds: impl Fn(&DepotState) -> bool) -> Option<String> {
    let (name, _) = state.view.read(|view| {
        view.depots
            .values()
            .find(|depot| holds(depot))
            .map(|depot| depot.name.to_string())
    });
    name
}
