//! The call history's store: facts added to each involved user's entry of a call (in one
//! transaction with the events a new fact causes), a user's entries newest first with their
//! seen mark, the pointers from a `CallSid` and a `RecordingSid`, and the budget of calls a
//! user places to the public network. Here the trait and its records; implemented in
//! `memory.rs` and `dynamo.rs`.

mod dynamo;
pub(super) mod memory;

use async_trait::async_trait;

use super::events::Notice;
use super::rates::{Budget, Counted};
use super::{PresenceKey, StoreError};
use crate::domain::OrgId;
use crate::history::{CallBase, Entry, Fact, Offer};

/// A fact for the entries of `users`.
#[derive(Debug, Clone)]
pub struct HistoryWrite {
    pub base: CallBase,
    pub users: Vec<PresenceKey>,
    pub fact: Fact,
    /// The step of ringing the callback reports the end of, added with the fact.
    pub offer: Option<Offer>,
    /// Epoch seconds: `CALL_HISTORY_RETENTION_DAYS` after the call started.
    pub expires_at: i64,
    /// Told when the fact is new (a miss, a voicemail); never for a repeat.
    pub notice: Option<Notice>,
}

/// Where a voicemail is, and who may play or delete it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailRef {
    pub recording_sid: String,
    pub org: OrgId,
    /// The number it was left on; none for a colleague's direct voicemail reached internally.
    pub phone_id: Option<String>,
    pub call_sid: String,
    pub started_at: i64,
    /// Whose entries show it.
    pub users: Vec<PresenceKey>,
    pub expires_at: i64,
}

/// What marking a call seen did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeenMark {
    /// The mark moved up to the call, and the user's devices were told.
    Moved,
    /// The mark was at the call or past it already: nothing changed.
    AlreadySeen,
    /// The call is no entry of the user's history (another user's, or none): nothing changed.
    NotInHistory,
}

/// A page of a user's history, newest first, and how far they have seen.
#[derive(Debug, Clone, Default)]
pub struct HistoryPage {
    /// Each entry with its position (its start and `CallSid`), the page's cursor.
    pub entries: Vec<(String, Entry)>,
    /// The position of the newest call the user has marked seen.
    pub seen_up_to: Option<String>,
}

impl HistoryPage {
    /// Whether the entry at `position` is at or before the user's seen mark.
    pub fn is_seen(&self, position: &str) -> bool {
        position <= self.seen_up_to.as_deref().unwrap_or("")
    }

    /// The calls of this page missed by `email` (voicemails included) and not yet seen.
    pub fn unseen_missed(&self, email: &str) -> usize {
        self.entries
            .iter()
            .filter(|(position, entry)| !self.is_seen(position) && entry.is_missed_for(email))
            .count()
    }
}

/// An entry's position: its start (16 hex digits of epoch ms, so positions sort by time) and
/// its `CallSid`.
pub fn position(started_at: i64, call_sid: &str) -> String {
    format!("{:016x}:{call_sid}", started_at.max(0))
}

/// Whether a repeat of `fact` is refused (and tells nobody): an answer, a miss or a
/// voicemail, the facts that may tell someone. The others are written every time, keeping
/// what the entry knows already.
pub fn once_only(fact: &Fact) -> bool {
    matches!(
        fact,
        Fact::Answered { .. } | Fact::Missed(_) | Fact::Voicemail(_)
    )
}

#[async_trait]
pub trait HistoryStore: Send + Sync {
    /// Add the fact to each user's entry (created if new), with the call's pointer and, for a
    /// voicemail, its pointer; whether it was written: `false` only for a repeat of a
    /// [`once_only`] fact (then nothing is told), `true` for a placed, ended or canceled call
    /// even when repeated (what the entry knows already stays).
    async fn record(
        &self,
        write: &HistoryWrite,
        voicemail: Option<&VoicemailRef>,
    ) -> Result<bool, StoreError>;

    /// The user's entries before `before`, newest first, live at `now_ms`, at most `limit`.
    async fn history(
        &self,
        user: &PresenceKey,
        before: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> Result<HistoryPage, StoreError>;

    /// When a call started, and its org (from its pointer).
    async fn call_started(&self, call_sid: &str) -> Result<Option<(OrgId, i64)>, StoreError>;

    /// Move the user's seen mark up to `position` (never back), telling their devices, if
    /// `position` is an entry of the user's own history.
    async fn mark_seen(
        &self,
        user: &PresenceKey,
        position: &str,
        notice: &Notice,
    ) -> Result<SeenMark, StoreError>;

    async fn voicemail(&self, recording_sid: &str) -> Result<Option<VoicemailRef>, StoreError>;

    /// Take a deleted voicemail off every entry that shows it, and forget its pointer.
    /// Take the voicemail off every entry that shows it and forget it, telling `notice` with it.
    async fn remove_voicemail(
        &self,
        voicemail: &VoicemailRef,
        notice: &Notice,
    ) -> Result<(), StoreError>;

    /// Count a call `caller` places to the public network against `calls`, unless its budget
    /// is spent (then nothing is counted).
    async fn count_call(
        &self,
        caller: &PresenceKey,
        calls: &Budget,
        now_ms: i64,
    ) -> Result<Counted, StoreError>;
}
