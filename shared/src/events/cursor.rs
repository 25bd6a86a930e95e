//! Event cursors: opaque to clients, ordered by time for the service. A cursor is the event's
//! time in microseconds (16 lower-case hex digits) and 4 hex digits that tell apart events of
//! the same microsecond: 20 URL-safe characters whose string order is their time order, so
//! DynamoDB sorts events by it as a sort key.
//!
//! Each process hands out strictly increasing cursors (a later event of this process never
//! sorts before an earlier one); across processes, order is by clock, which is why a read
//! trails the newest events by [`SETTLE_MS`] before it promises that nothing older will appear.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long after its cursor's time an event may still land in the store: the write's cursor
/// is taken before it is sent, and a write may take until the SDK's operation timeout (5 s),
/// plus clock skew between processes. Catch-up reads resume no later than this far back.
pub const SETTLE_MS: i64 = 10_000;

const LEN: usize = 20;

/// How far ahead of the clock the last cursor may be and still be followed.
const MAX_LEAD_MICROS: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(String);

/// Hands out cursors, each later than the one before (unless the clock jumps back by more than
/// [`MAX_LEAD_MICROS`]). The process has one ([`Cursor::next`]).
#[derive(Default)]
pub struct Cursors {
    /// The time (µs) of the last cursor given.
    last_micros: AtomicU64,
}

static PROCESS: Cursors = Cursors {
    last_micros: AtomicU64::new(0),
};

impl Cursor {
    /// A new cursor at `now_ms`, later than every cursor this process made before.
    pub fn next(now_ms: i64) -> Self {
        PROCESS.next(now_ms)
    }
}

impl Cursors {
    pub fn next(&self, now_ms: i64) -> Cursor {
        let now = u64::try_from(now_ms).unwrap_or(0).saturating_mul(1000);
        let mut last = self.last_micros.load(Ordering::Relaxed);
        let micros = loop {
            // Strictly after the last one, unless that was far ahead of this clock (a clock
            // stepped back, or a caller's clock that is not the wall clock): then the clock.
            let candidate = if last > now + MAX_LEAD_MICROS {
                now
            } else {
                now.max(last + 1)
            };
            match self.last_micros.compare_exchange_weak(
                last,
                candidate,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break candidate,
                Err(seen) => last = seen,
            }
        };
        let mut tail = [0u8; 2];
        // Without randomness two processes could collide in one microsecond; the time still
        // orders, and a collision is only a lost event (a put over the other), so fall back
        // to zeros rather than fail a request.
        let _ = aws_lc_rs::rand::fill(&mut tail);
        Cursor(format!("{micros:016x}{:04x}", u16::from_be_bytes(tail)))
    }
}

impl Cursor {
    /// A cursor at `at_ms` (with a random tail), outside the process's sequence: for a record
    /// from the past (a reconciled text), which must neither jump ahead nor hold the sequence
    /// back.
    pub fn stamped(at_ms: i64) -> Self {
        let micros = u64::try_from(at_ms).unwrap_or(0).saturating_mul(1000);
        let mut tail = [0u8; 2];
        let _ = aws_lc_rs::rand::fill(&mut tail);
        Self(format!("{micros:016x}{:04x}", u16::from_be_bytes(tail)))
    }

    /// The cursor before every event at or after `at_ms`: what a read that has seen
    /// everything up to `at_ms` resumes from.
    pub fn at(at_ms: i64) -> Self {
        let micros = u64::try_from(at_ms).unwrap_or(0).saturating_mul(1000);
        Self(format!("{micros:016x}0000"))
    }

    /// A cursor a client sent: exactly what [`Cursor::next`] writes.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = raw.len() == LEN && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| Self(raw.to_owned()))
    }

    /// When the event was written, in epoch milliseconds.
    pub fn time_ms(&self) -> i64 {
        u64::from_str_radix(&self.0[..16], 16)
            .ok()
            .and_then(|micros| i64::try_from(micros / 1000).ok())
            .unwrap_or(0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_of_one_process_only_increase_and_sort_as_strings() {
        let cursors = Cursors::default();
        let mut previous = cursors.next(1_800_000_000_000);
        for n in 0..1000 {
            // The clock standing still or stepping back a little does not matter.
            let now = 1_800_000_000_000 - (n % 3);
            let next = cursors.next(now);
            assert!(next > previous, "{next} after {previous}");
            assert!(next.as_str() > previous.as_str());
            previous = next;
        }
        // A clock far behind the last cursor is followed again.
        assert!(cursors.next(1_700_000_000_000) < previous);
    }

    #[test]
    fn a_cursor_round_trips_and_tells_its_time() {
        let cursor = Cursor::next(1_700_000_000_123);
        assert_eq!(Cursor::parse(cursor.as_str()), Some(cursor.clone()));
        assert!(cursor.time_ms() >= 1_700_000_000_123);
        assert!(Cursor::at(1_700_000_000_123) < Cursor::next(1_700_000_000_123));
        for bad in [
            "",
            "abc",
            "00000000000000000000x",
            "ABCDEF0123456789ABCD",
            "0123456789abcdef012g",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad}");
        }
    }
}
