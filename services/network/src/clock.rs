//! What time it is on a network ([`Clock`]): the wall clock on the live one,
//! drill time (演练时间) in a drill. A drill's clock ([`DrillClock`]) maps wall
//! time to drill time: it runs at a speed factor from an anchor (the drill time
//! it showed at a wall time), stands still while paused, and jumps when the
//! director seeks. "As fast as possible" has no wall-time mapping: drill time is
//! whatever the next event says, and the engine never waits.
//!
//! Every operation takes the wall time it happens at, so the clock is a value
//! that can be stored with the drill and replayed exactly.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// How fast drill time runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speed {
    /// Drill seconds per wall second (1 = real time, 60 = an hour a minute).
    Factor(f64),
    /// No waiting: each step runs as soon as the one before it has.
    AsFastAsPossible,
}

impl Speed {
    /// A factor, refused unless finite and positive (at most 10,000×).
    pub fn factor(factor: f64) -> Result<Speed, String> {
        if factor.is_finite() && factor > 0.0 && factor <= 10_000.0 {
            Ok(Speed::Factor(factor))
        } else {
            Err(format!("speed {factor} must be above 0 and at most 10000"))
        }
    }
}

/// A drill's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillClock {
    /// The drill time shown at `wall_anchor`.
    drill_anchor: DateTime<Utc>,
    wall_anchor: DateTime<Utc>,
    speed: Speed,
    paused: bool,
}

impl DrillClock {
    /// A clock showing `drill_start` at wall time `wall`, running at `speed`.
    pub fn start(drill_start: DateTime<Utc>, wall: DateTime<Utc>, speed: Speed) -> DrillClock {
        DrillClock {
            drill_anchor: drill_start,
            wall_anchor: wall,
            speed,
            paused: false,
        }
    }

    pub fn speed(&self) -> Speed {
        self.speed
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The drill time at wall time `wall`. As fast as possible, or paused, the
    /// clock shows its anchor: drill time moves only by [`DrillClock::advance_to`].
    pub fn now(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        match (self.paused, self.speed) {
            (true, _) | (_, Speed::AsFastAsPossible) => self.drill_anchor,
            (false, Speed::Factor(factor)) => {
                let elapsed = (wall - self.wall_anchor).max(TimeDelta::zero());
                let micros = elapsed.num_microseconds().unwrap_or(i64::MAX) as f64 * factor;
                self.drill_anchor + TimeDelta::microseconds(micros.min(i64::MAX as f64) as i64)
            }
        }
    }

    /// Stops drill time at what it shows at `wall`.
    pub fn pause(&mut self, wall: DateTime<Utc>) {
        self.rebase(wall);
        self.paused = true;
    }

    /// Runs drill time on from where it stood.
    pub fn resume(&mut self, wall: DateTime<Utc>) {
        self.wall_anchor = wall;
        self.paused = false;
    }

    /// Changes the speed from `wall` on, without a jump in drill time.
    pub fn set_speed(&mut self, wall: DateTime<Utc>, speed: Speed) {
        self.rebase(wall);
        self.speed = speed;
    }

    /// Shows `drill_time` from `wall` on (seek; backwards too: the engine then
    /// rebuilds the sandbox up to it).
    pub fn seek(&mut self, wall: DateTime<Utc>, drill_time: DateTime<Utc>) {
        self.drill_anchor = drill_time;
        self.wall_anchor = wall;
    }

    /// As fast as possible, or stepping one event: drill time moves to the
    /// next event's time, never backwards.
    pub fn advance_to(&mut self, wall: DateTime<Utc>, drill_time: DateTime<Utc>) {
        let now = self.now(wall);
        self.seek(wall, drill_time.max(now));
    }

    /// How long, in wall time from `wall`, until the clock shows `drill_time`:
    /// zero when it already has or when running as fast as possible; `None`
    /// while paused (it never will until resumed).
    pub fn wall_until(&self, wall: DateTime<Utc>, drill_time: DateTime<Utc>) -> Option<TimeDelta> {
        let ahead = drill_time - self.now(wall);
        match (self.paused, self.speed) {
            _ if ahead <= TimeDelta::zero() => Some(TimeDelta::zero()),
            (true, _) => None,
            (false, Speed::AsFastAsPossible) => Some(TimeDelta::zero()),
            (false, Speed::Factor(factor)) => {
                let micros = ahead.num_microseconds().unwrap_or(i64::MAX) as f64 / factor;
                Some(TimeDelta::microseconds(
                    micros.ceil().min(i64::MAX as f64) as i64
                ))
            }
        }
    }

    fn rebase(&mut self, wall: DateTime<Utc>) {
        self.drill_anchor = self.now(wall);
        self.wall_anchor = wall;
    }
}

/// What time it is on a network: the wall clock on the live one, drill time
/// (演练时间) in a drill, so every command there is stamped with drill time.
#[derive(Clone, Default)]
pub enum Clock {
    #[default]
    Wall,
    Drill(Arc<Mutex<DrillClock>>),
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::Wall => Utc::now(),
            Clock::Drill(clock) => clock
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .now(Utc::now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    fn drill(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_772_409_600 + seconds, 0).unwrap()
    }

    #[test]
    fn sixty_times_is_an_hour_of_drill_a_minute_of_wall() {
        let clock = DrillClock::start(drill(0), t(0), Speed::factor(60.0).unwrap());
        assert_eq!(clock.now(t(60)), drill(3600));
        assert_eq!(
            clock.wall_until(t(60), drill(7200)),
            Some(TimeDelta::seconds(60))
        );
        assert_eq!(clock.wall_until(t(60), drill(10)), Some(TimeDelta::zero()));
    }

    #[test]
    fn a_pause_stops_drill_time_and_a_resume_goes_on_without_a_jump() {
        let mut clock = DrillClock::start(drill(0), t(0), Speed::factor(10.0).unwrap());
        clock.pause(t(6));
        assert_eq!(clock.now(t(6)), drill(60));
        assert_eq!(clock.now(t(600)), drill(60), "paused for ten minutes");
        assert_eq!(clock.wall_until(t(600), drill(120)), None);
        clock.resume(t(600));
        assert_eq!(clock.now(t(606)), drill(120));
    }

    #[test]
    fn a_change_of_speed_keeps_the_drill_time_it_showed() {
        let mut clock = DrillClock::start(drill(0), t(0), Speed::factor(1.0).unwrap());
        clock.set_speed(t(100), Speed::factor(60.0).unwrap());
        assert_eq!(clock.now(t(100)), drill(100));
        assert_eq!(clock.now(t(101)), drill(160));
    }

    #[test]
    fn seeking_lands_exactly_and_as_fast_as_possible_only_moves_forward_by_events() {
        let mut clock = DrillClock::start(drill(0), t(0), Speed::AsFastAsPossible);
        assert_eq!(clock.now(t(1_000)), drill(0));
        clock.advance_to(t(1), drill(3600));
        assert_eq!(clock.now(t(2)), drill(3600));
        clock.advance_to(t(3), drill(60));
        assert_eq!(clock.now(t(3)), drill(3600), "never backwards by an event");
        clock.seek(t(4), drill(1800));
        assert_eq!(clock.now(t(4)), drill(1800), "a seek goes back");
        assert_eq!(clock.wall_until(t(4), drill(7200)), Some(TimeDelta::zero()));
    }

    #[test]
    fn a_speed_must_be_finite_and_positive() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 20_000.0] {
            assert!(Speed::factor(bad).is_err(), "{bad}");
        }
    }
}
