//! The decider: an aggregate as two pure functions. `decide` turns a command into
//! events or refuses it; `evolve` folds one event into the state. Neither reads a
//! clock or does I/O: who acts and when arrive on the command, so replaying a log
//! (or a drill) reproduces every decision exactly.

use std::fmt::Display;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::values::Actor;

/// The version of every aggregate's [`Decider::State`] as JSON. The command path
/// saves the states it decided on (so a restart need not fold every stream
/// again) and ignores states saved under another version, so this is bumped
/// whenever a state's fields, or what an `evolve` leaves in them, change.
/// `tests/state_shapes.rs` fails until it is.
// 2: a depot keeps no ids of settled or received transfers.
pub const STATE_VERSION: u32 = 2;

/// One aggregate's rules. Implemented by a unit type per aggregate.
pub trait Decider {
    /// `Send + Sync + 'static` so the command path can keep decided states in
    /// memory, shared between its worker threads; serde so it can save them
    /// (see [`STATE_VERSION`]).
    type State: Default + Clone + Send + Sync + Serialize + DeserializeOwned + 'static;
    type Command;
    type Event;
    type Error;
    /// The aggregate's id, the suffix of its stream name.
    type Id: Display;
    /// The stream name prefix, e.g. `team` for `team-<uuid>`.
    const STREAM_PREFIX: &'static str;

    fn decide(state: &Self::State, command: Self::Command)
    -> Result<Vec<Self::Event>, Self::Error>;
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// The stream that holds this aggregate's events: ASCII `[A-Za-z0-9-_.:@]`, ≤ 128 chars.
    fn stream_name(id: &Self::Id) -> String {
        format!("{}-{id}", Self::STREAM_PREFIX)
    }

    /// Rebuilds the state from its events.
    fn replay<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), Self::evolve)
    }
}

/// Who issued a command and when; supplied by the caller, never read from a clock here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandContext {
    pub actor: Actor,
    pub at: DateTime<Utc>,
}

impl CommandContext {
    pub fn new(actor: Actor, at: DateTime<Utc>) -> Self {
        Self { actor, at }
    }

    pub fn stamp<C>(self, command: C) -> Stamped<C> {
        Stamped {
            context: self,
            command,
        }
    }
}

/// A command stamped with its context: what every decider takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamped<C> {
    pub context: CommandContext,
    pub command: C,
}

/// True when `name` is a valid event-log stream name.
pub fn is_valid_stream_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:@".contains(c))
}

/// The state of a registered aggregate, or `NotFound` naming it.
pub(crate) fn registered<'a, T>(
    state: &'a Option<T>,
    what: &'static str,
) -> Result<&'a T, crate::DomainError> {
    state
        .as_ref()
        .ok_or_else(|| crate::DomainError::not_found(what, "(not registered)"))
}

/// Refuses a registration when the stream already holds one.
pub(crate) fn unregistered<T>(
    state: &Option<T>,
    what: &'static str,
    id: impl Display,
) -> Result<(), crate::DomainError> {
    match state {
        Some(_) => Err(crate::DomainError::already_exists(what, id)),
        None => Ok(()),
    }
}

/// `evolve` met an event its decider could never have emitted (a corrupt or
/// hand-edited stream). Deciders check every rule, so `evolve` applies events exactly;
/// this is the only way out when the arithmetic does not fit. Debug builds (and so
/// every test) stop here, so a decider that lets a bad event through is caught;
/// release builds keep replaying with the nearest valid value rather than panic.
#[track_caller]
pub(crate) fn corrupt_stream(what: std::fmt::Arguments<'_>) {
    if cfg!(debug_assertions) {
        panic!("corrupt stream: {what}");
    }
}
