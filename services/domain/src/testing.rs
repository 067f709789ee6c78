//! A given/when/then harness for deciders, in the shape of disintegrate's and
//! cqrs-es's test frameworks:
//!
//! ```text
//! given::<Team>([registered()]).when(mobilise()).then([mobilised()]);
//! given::<Team>([]).when(mobilise()).then_err_code("not-found");
//! ```
//!
//! Only built for tests (and for other crates with the `testing` feature).

use std::fmt::Debug;

use crate::{Decider, DomainError};

pub mod runs;

/// Starts a scenario from the events already in the stream.
pub fn given<D: Decider>(events: impl IntoIterator<Item = D::Event>) -> Given<D> {
    let state = events
        .into_iter()
        .fold(D::State::default(), |s, e| D::evolve(s, &e));
    Given { state }
}

/// The state a scenario starts from.
pub struct Given<D: Decider> {
    state: D::State,
}

impl<D: Decider> Given<D> {
    /// The state the events leave.
    pub fn state(self) -> D::State {
        self.state
    }

    /// Decides one command against the given state.
    pub fn when(self, command: D::Command) -> When<D> {
        let result = D::decide(&self.state, command);
        When {
            state: self.state,
            result,
        }
    }
}

/// The outcome of deciding one command.
pub struct When<D: Decider> {
    state: D::State,
    result: Result<Vec<D::Event>, D::Error>,
}

impl<D: Decider> When<D>
where
    D::Event: PartialEq + Debug,
    D::Error: PartialEq + Debug,
{
    /// Asserts exactly these events, and returns the state they lead to.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = D::Event>) -> D::State {
        let expected: Vec<D::Event> = expected.into_iter().collect();
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "decided events differ");
                events.iter().fold(self.state, D::evolve)
            }
            Err(e) => panic!("expected events {expected:?}, got error {e:?}"),
        }
    }

    /// Asserts the command was accepted, whatever it decided; returns events and state.
    #[track_caller]
    pub fn then_ok(self) -> (Vec<D::Event>, D::State) {
        match self.result {
            Ok(events) => {
                let state = events.iter().fold(self.state, D::evolve);
                (events, state)
            }
            Err(e) => panic!("expected success, got error {e:?}"),
        }
    }

    /// Asserts exactly this error.
    #[track_caller]
    pub fn then_err(self, expected: D::Error) {
        match self.result {
            Ok(events) => panic!("expected error {expected:?}, got events {events:?}"),
            Err(e) => assert_eq!(e, expected),
        }
    }
}

impl<D: Decider<Error = DomainError>> When<D>
where
    D::Event: Debug,
{
    /// Asserts an error with this stable code; returns it for further checks.
    #[track_caller]
    pub fn then_err_code(self, code: &str) -> DomainError {
        match self.result {
            Ok(events) => panic!("expected a {code} error, got events {events:?}"),
            Err(e) => {
                assert_eq!(e.code(), code, "unexpected error: {e}");
                e
            }
        }
    }
}
