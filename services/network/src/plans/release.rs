//! Giving back what one plan holds: when it is cancelled, or when its approval
//! is undone because a dispatch was refused halfway.
//!
//! Every reservation the plan made is released at its depot, facility or venue,
//! and every team it mobilised that is still committed to the incident is
//! demobilised. Each step is a keyed command (`<why>/<stream>/<holding>`), read
//! from a view caught up with the log, so a retry after a crash releases only
//! what is still held. Stock already issued is on its way and is not recalled.

use std::collections::BTreeSet;

use ercs_domain::beds::{BedCommand, Facility, FacilityCommand};
use ercs_domain::convertible::{ConvertibleCommand, ConvertibleFacility};
use ercs_domain::ids::{DepotId, FacilityId, PlanId, TeamId};
use ercs_domain::supply::ItemCode;
use ercs_domain::supply::depot::{Depot, DepotCommand};
use ercs_domain::team::{Team, TeamCommand};
use ercs_domain::values::Reason;
use ercs_projections::OneNetwork;

use super::PlanRecord;
use crate::closing::{caught_up, run};
use crate::network::Network;
use crate::problem::Problem;

/// One thing a plan holds.
enum Held {
    Stock(DepotId, ItemCode),
    Beds {
        at: FacilityId,
        venue: bool,
        release: BedCommand,
    },
    Team(TeamId),
}

/// Releases everything `record`'s plan holds but the teams in `keep` (kept by
/// the plan that supersedes it); `why` names the process in the steps' keys
/// (`plan/<id>/cancel`). Returns how many holdings were released.
pub async fn release(
    state: &Network,
    record: &PlanRecord,
    (why, keep): (&str, &BTreeSet<TeamId>),
    reason: &Reason,
    acting: &crate::acting::Acting,
) -> Result<usize, Problem> {
    let actor = &acting.actor;
    caught_up(state).await?;
    let held = state.view.read(|view| holdings(view, record, keep)).0;
    let step = |stream: String, holding: String| {
        acting
            .step(format!("{why}/{stream}/{holding}"))
            .with_plan(record.plan_id.as_uuid())
    };
    for holding in &held {
        match holding {
            Held::Stock(depot, item) => {
                let release = DepotCommand::Release {
                    plan: record.plan_id,
                    item: item.clone(),
                    reason: reason.clone(),
                };
                let meta = step(format!("depot-{depot}"), item.to_string());
                run::<Depot, _>(state, depot, release, &meta, actor).await?;
            }
            Held::Beds { at, venue, release } => {
                let holding = format!("{release:?}");
                if *venue {
                    let meta = step(format!("convertible-{at}"), holding);
                    let command = ConvertibleCommand::Beds(release.clone());
                    run::<ConvertibleFacility, _>(state, at, command, &meta, actor).await?;
                } else {
                    let meta = step(format!("facility-{at}"), holding);
                    let command = FacilityCommand::Beds(release.clone());
                    run::<Facility, _>(state, at, command, &meta, actor).await?;
                }
            }
            Held::Team(team) => {
                let meta = step(format!("team-{team}"), "demobilise".into());
                run::<Team, _>(state, team, TeamCommand::Demobilise, &meta, actor).await?;
            }
        }
    }
    Ok(held.len())
}

/// How many things the plan holds now but the teams in `keep`, from a view
/// caught up with the log.
pub async fn held_count(
    state: &Network,
    record: &PlanRecord,
    keep: &BTreeSet<TeamId>,
) -> Result<usize, Problem> {
    caught_up(state).await?;
    Ok(state.view.read(|view| holdings(view, record, keep).len()).0)
}

/// What the plan holds now: its reservations, and the teams it mobilised that
/// are still committed to its incident (but those in `keep`).
fn holdings(view: &OneNetwork, record: &PlanRecord, keep: &BTreeSet<TeamId>) -> Vec<Held> {
    let plan: PlanId = record.plan_id;
    let mut held = Vec::new();
    for depot in view.depots.values() {
        for (reserved_for, item) in depot.reservations.keys() {
            if *reserved_for == plan {
                held.push(Held::Stock(depot.id, item.clone()));
            }
        }
    }
    let facilities = view.facilities.values().map(|f| (f.id, false, &f.pools));
    let venues = view
        .convertibles
        .values()
        .map(|v| (v.state.id, true, &v.state.pools));
    for (at, venue, pools) in facilities.chain(venues) {
        for (key, pool) in pools.iter() {
            if pool.reserved.get(&plan).is_some_and(|beds| *beds > 0) {
                let release = BedCommand::Release {
                    plan,
                    bed_type: key.bed_type,
                    class: key.class,
                };
                held.push(Held::Beds { at, venue, release });
            }
        }
    }
    held.extend(
        super::committed_teams(view, record)
            .into_iter()
            .filter(|team| !keep.contains(team))
            .map(Held::Team),
    );
    held
}
