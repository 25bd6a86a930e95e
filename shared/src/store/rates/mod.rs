//! Per-user budgets of outbound texts and calls. Each budget is counted in fixed windows (a
//! minute, a day, in epoch time) in the user's own partition, by the same request that claims
//! the send where there is one, so a burst cannot pass between a check and its count. Over the
//! budget, the answer says how long until the window ends: the client's `Retry-After`. Both
//! the inbox (texts, new recipients) and the call history (calls) count them; the counters
//! are in `memory.rs` and `dynamo.rs`.

mod dynamo;
pub(super) mod memory;

/// What a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateKind {
    /// Texts a user sends.
    Texts,
    /// Texts to a party none of the sending number's conversations is with yet.
    NewRecipients,
    /// Calls a user places to the public network.
    Calls,
}

impl RateKind {
    /// Its part of the counter's sort key.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Texts => "sms",
            Self::NewRecipients => "newto",
            Self::Calls => "calls",
        }
    }
}

/// At most `limit` per window of `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub kind: RateKind,
    pub limit: u32,
    pub window_seconds: u32,
}

pub const MINUTE: u32 = 60;
pub const DAY: u32 = 86_400;

impl Budget {
    pub fn per_minute(kind: RateKind, limit: u32) -> Self {
        Self {
            kind,
            limit,
            window_seconds: MINUTE,
        }
    }

    pub fn per_day(kind: RateKind, limit: u32) -> Self {
        Self {
            kind,
            limit,
            window_seconds: DAY,
        }
    }

    /// The window `now_ms` falls in: its start and end, epoch seconds.
    pub fn window(&self, now_ms: i64) -> (i64, i64) {
        let length = i64::from(self.window_seconds.max(1));
        let start = now_ms.div_euclid(1000).div_euclid(length) * length;
        (start, start + length)
    }

    /// Seconds until the window of `now_ms` ends (at least one): when a refused request may
    /// be tried again.
    pub fn retry_after(&self, now_ms: i64) -> u32 {
        let (_, end) = self.window(now_ms);
        let left_ms = end * 1000 - now_ms;
        u32::try_from((left_ms + 999) / 1000)
            .unwrap_or(u32::MAX)
            .max(1)
    }

    pub fn over(&self, now_ms: i64) -> Counted {
        Counted::Over {
            retry_after_seconds: self.retry_after(now_ms),
        }
    }
}

/// What counting one more found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Counted,
    /// The budget of this window is spent; nothing was counted.
    Over {
        retry_after_seconds: u32,
    },
}

/// What counting a text against the new-recipients budget found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewRecipient {
    /// The number already has a conversation with the party: nothing counted.
    Known,
    /// A new recipient, counted.
    Counted,
    /// A new recipient, and the budget is spent; nothing was counted.
    Over { retry_after_seconds: u32 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_fixed_and_retry_after_counts_to_their_end() {
        let minute = Budget {
            kind: RateKind::Texts,
            limit: 30,
            window_seconds: MINUTE,
        };
        assert_eq!(minute.window(120_000), (120, 180));
        assert_eq!(minute.window(179_999), (120, 180));
        assert_eq!(minute.retry_after(120_000), 60);
        assert_eq!(minute.retry_after(170_500), 10, "rounded up");
        assert_eq!(minute.retry_after(179_999), 1, "never zero");
        let day = Budget {
            kind: RateKind::NewRecipients,
            limit: 50,
            window_seconds: DAY,
        };
        assert_eq!(day.retry_after(86_400_000 + 3_600_000), 82_800);
    }
}
