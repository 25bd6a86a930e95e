//! "Now", held once per process and handed to whatever reads it on a request path: the
//! handlers (`Core`), the realtime routes and hub, the stream and reconcile functions, the
//! identity provider's key set and the secret's re-reads. Stores never read it: callers pass
//! `now`.
//!
//! In production it is the system clock. Behind `test-util`, [`Clock::movable`] is the system
//! clock plus however far a test moved it ([`Clock::advance`]): an end-to-end test passes a
//! TTL or a rate floor at once instead of sleeping through it, and everything else (tokens
//! minted by the test, timestamps compared with the wall clock) still sees time pass as before.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[cfg(feature = "test-util")]
use std::sync::Arc;
#[cfg(feature = "test-util")]
use std::sync::atomic::{AtomicU64, Ordering};

/// Wall time (milliseconds since the epoch) and monotonic time (for periods and rate
/// floors), from one source. Cheap to clone; clones share a movable clock's position.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// How far a test moved this clock; `None` (always, in production) is the system clock.
    #[cfg(feature = "test-util")]
    moved: Option<Arc<AtomicU64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// Milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        wall.saturating_add(i64::try_from(self.moved().as_millis()).unwrap_or(i64::MAX))
    }

    /// A point in monotonic time: what periods (a key set's age, a re-read's due time) are
    /// measured on, so that a step of the wall clock neither hastens nor delays them.
    pub fn instant(&self) -> Instant {
        let now = Instant::now();
        now.checked_add(self.moved()).unwrap_or(now)
    }

    #[cfg(not(feature = "test-util"))]
    fn moved(&self) -> Duration {
        Duration::ZERO
    }

    #[cfg(feature = "test-util")]
    fn moved(&self) -> Duration {
        self.moved.as_ref().map_or(Duration::ZERO, |m| {
            Duration::from_nanos(m.load(Ordering::Acquire))
        })
    }
}

#[cfg(feature = "test-util")]
impl Clock {
    /// The system clock, until a test moves it forward with [`Clock::advance`].
    pub fn movable() -> Self {
        Self {
            moved: Some(Arc::default()),
        }
    }

    /// Moves this clock (and every clone of it) `by` forward.
    ///
    /// # Panics
    /// On the system clock: a test that moves a clock its app does not read would wait for
    /// nothing and pass or fail by chance.
    pub fn advance(&self, by: Duration) {
        let moved = self
            .moved
            .as_ref()
            .expect("only a Clock::movable() moves; this app reads the system clock");
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        moved.fetch_add(nanos, Ordering::AcqRel);
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;

    #[test]
    fn a_movable_clock_moves_every_clone_and_both_of_its_times() {
        let clock = Clock::movable();
        let clone = clock.clone();
        let (wall, mono) = (clock.now_ms(), clock.instant());
        clone.advance(Duration::from_secs(90));
        assert!(clock.now_ms() - wall >= 90_000);
        assert!(clock.instant() - mono >= Duration::from_secs(90));
        assert!(Clock::system().now_ms() < clock.now_ms());
    }

    #[test]
    #[should_panic(expected = "only a Clock::movable() moves")]
    fn the_system_clock_refuses_to_move() {
        Clock::system().advance(Duration::from_secs(1));
    }
}
