//! Status machines as data: a table of `(from, action, to)` transitions. Every
//! lifecycle in the domain (teams, convertible facilities, expansion beds) uses it,
//! so an illegal step is always refused the same way, naming the current state and
//! the actions allowed from it.

use crate::DomainError;

/// A dataless phase of some aggregate's lifecycle.
pub trait Lifecycle: Copy + Eq + 'static {
    /// How the aggregate is named in errors ("team", "convertible facility").
    const AGGREGATE: &'static str;
    /// Every legal step. Anything not listed is illegal.
    const TRANSITIONS: &'static [(Self, &'static str, Self)];

    /// The phase's stable snake_case name.
    fn name(self) -> &'static str;

    /// The phase `action` leads to, or the refusal.
    fn step(self, action: &'static str) -> Result<Self, DomainError> {
        Self::TRANSITIONS
            .iter()
            .find(|(from, a, _)| *from == self && *a == action)
            .map(|(_, _, to)| *to)
            .ok_or_else(|| self.refuse(action))
    }

    /// The refusal of `action` in this phase.
    fn refuse(self, action: &'static str) -> DomainError {
        DomainError::IllegalTransition {
            aggregate: Self::AGGREGATE,
            current: self.name(),
            attempted: action,
            allowed: self.allowed_actions(),
        }
    }

    /// The actions allowed from this phase, in table order.
    fn allowed_actions(self) -> Vec<&'static str> {
        Self::TRANSITIONS
            .iter()
            .filter(|(from, ..)| *from == self)
            .map(|(_, a, _)| *a)
            .collect()
    }

    /// True when some action leads from `self` to `to` (or it is no change at all).
    fn may_become(self, to: Self) -> bool {
        self == to
            || Self::TRANSITIONS
                .iter()
                .any(|(from, _, t)| *from == self && *t == to)
    }
}
