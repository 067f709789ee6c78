//! Loading a seed into the event log: every resource through the domain's own
//! commands, so the seed is nothing but events.
//!
//! Loading is repeatable. Each command carries an idempotency key made of the
//! resource's seed key and its place in the resource's commands, and an expected
//! revision (`NoStream` for the first), so a re-run decides the very same events
//! and the log recognises them: running a seed twice appends nothing. A resource
//! whose stream has since moved on (an operator changed it) is left as it is.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ercs_commands::{Aggregates, CommandError, Expect, Metadata};
use ercs_domain::beds::Facility;
use ercs_domain::convertible::ConvertibleFacility;
use ercs_domain::decider::{CommandContext, Decider, Stamped};
use ercs_domain::event::DomainEvent;
use ercs_domain::supply::CatalogueItem;
use ercs_domain::supply::depot::Depot;
use ercs_domain::team::Team;
use ercs_domain::values::Actor;
use ercs_eventlog::{EventLog, Position};
use ercs_seed::SeedError;
use ercs_seed::inventory::{Commands, Planned, seed_id};
use futures::StreamExt;
use indicatif::ProgressBar;

/// The actor every seed event records.
pub const ACTOR: &str = "seed";

/// Resources seeded at once; the log's group commit turns them into few syncs.
const CONCURRENCY: usize = 16;

/// The seeds `ercs` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum SeedName {
    /// 重庆市: lead public-health hospitals, district hospitals, township health
    /// centres, teams, depots at four reserve tiers and 平急两用 facilities.
    Chongqing,
}

impl std::fmt::Display for SeedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Chongqing => "chongqing",
        })
    }
}

/// What a seed run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedSummary {
    /// Resources in the seed.
    pub resources: usize,
    /// Of those, how many were new to the log.
    pub created: usize,
    /// Resources whose stream had moved past the seed; left untouched.
    pub skipped: usize,
    /// Events appended by this run (0 on a re-run).
    pub appended: u64,
    pub head: Position,
    pub elapsed: Duration,
}

impl std::fmt::Display for SeedSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} resources ({} new, {} already present, {} changed since and skipped); \
             {} events appended in {:.1} s; log position {}",
            self.resources,
            self.created,
            self.resources - self.created - self.skipped,
            self.skipped,
            self.appended,
            self.elapsed.as_secs_f64(),
            self.head.0
        )
    }
}

/// Why a seed could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SeedLoadError {
    #[error("the seed data is broken: {0}")]
    Data(#[from] SeedError),
    #[error("seeding {key}: {message}")]
    Command { key: String, message: String },
    #[error(transparent)]
    Log(#[from] ercs_eventlog::Error),
}

/// What happened to one resource.
enum Outcome {
    Created,
    Present,
    Skipped,
}

/// The commands of a seed, in order.
pub fn plan(seed: SeedName) -> Result<(chrono::DateTime<chrono::Utc>, Vec<Planned>), SeedError> {
    match seed {
        SeedName::Chongqing => {
            let inventory = ercs_seed::chongqing::inventory()?;
            let geography = ercs_seed::chongqing::geography()?;
            Ok((inventory.seed_date, inventory.plan(&geography)?))
        }
    }
}

/// Loads `seed` into `log`, advancing `progress` by one per resource.
pub async fn load(
    log: Arc<dyn EventLog>,
    seed: SeedName,
    progress: &ProgressBar,
) -> Result<SeedSummary, SeedLoadError> {
    let started = Instant::now();
    let (at, plan) = plan(seed)?;
    let before = log.head().await?;
    let aggregates = Aggregates::new(Arc::clone(&log));
    let context = CommandContext::new(Actor::parse(ACTOR).expect("a valid actor"), at);
    progress.set_length(plan.len() as u64);
    let mut outcomes = futures::stream::iter(&plan)
        .map(|planned| seed_one(&aggregates, &context, planned))
        .buffer_unordered(CONCURRENCY);
    let (mut created, mut skipped) = (0, 0);
    while let Some(outcome) = outcomes.next().await {
        match outcome? {
            Outcome::Created => created += 1,
            Outcome::Skipped => skipped += 1,
            Outcome::Present => {}
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    let head = log.head().await?;
    Ok(SeedSummary {
        resources: plan.len(),
        created,
        skipped,
        appended: head.0 - before.0,
        head,
        elapsed: started.elapsed(),
    })
}

async fn seed_one(
    aggregates: &Aggregates,
    context: &CommandContext,
    planned: &Planned,
) -> Result<Outcome, SeedLoadError> {
    let key = &planned.key;
    match &planned.commands {
        Commands::Item(id, c) => run::<CatalogueItem, _>(aggregates, context, key, id, c).await,
        Commands::Team(id, c) => run::<Team, _>(aggregates, context, key, id, c).await,
        Commands::Facility(id, c) => run::<Facility, _>(aggregates, context, key, id, c).await,
        Commands::Depot(id, c) => run::<Depot, _>(aggregates, context, key, id, c).await,
        Commands::Convertible(id, c) => {
            run::<ConvertibleFacility, _>(aggregates, context, key, id, c).await
        }
    }
}

/// Runs one resource's commands in order, each at the revision the previous left.
async fn run<D, C>(
    aggregates: &Aggregates,
    context: &CommandContext,
    key: &str,
    id: &D::Id,
    commands: &[C],
) -> Result<Outcome, SeedLoadError>
where
    D: Decider<Command = Stamped<C>>,
    D::Event: DomainEvent,
    D::Error: std::fmt::Display,
    C: Clone,
{
    let failed = |message: String| SeedLoadError::Command {
        key: key.to_owned(),
        message,
    };
    let existed = aggregates
        .load::<D>(id)
        .await
        .map_err(|e| failed(e.to_string()))?
        .revision
        .is_some();
    let mut revision = None;
    for (step, command) in commands.iter().enumerate() {
        let metadata = Metadata {
            correlation_id: seed_id(key),
            ..Metadata::new(ACTOR).with_idempotency_key(format!("seed/chongqing/{key}/{step}"))
        };
        let stamped = context.clone().stamp(command.clone());
        match aggregates
            .execute::<D>(id, Expect::Revision(revision), stamped, &metadata)
            .await
        {
            Ok(executed) => revision = executed.revision,
            Err(CommandError::Conflict { .. }) => return Ok(Outcome::Skipped),
            Err(error) => return Err(failed(error.to_string())),
        }
    }
    Ok(if existed {
        Outcome::Present
    } else {
        Outcome::Created
    })
}

/// A progress bar on stdout when it is a terminal, otherwise none.
pub fn progress_bar() -> ProgressBar {
    terminal_bar("seeding {bar:40} {pos}/{len} resources ({elapsed})")
}

/// A progress bar drawn with `template` on stdout when it is a terminal,
/// otherwise a hidden one (a pipe or a log file gets no escape codes).
pub fn terminal_bar(template: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stdout());
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("a valid template"));
    bar
}
