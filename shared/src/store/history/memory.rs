//! The call history in memory, with the DynamoDB store's semantics: a fact is added once, a
//! seen mark only moves up, expired entries are never read.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;

use crate::domain::OrgId;
use crate::history::Entry;
use crate::store::MemoryStore;
use crate::store::events::Notice;
use crate::store::history::{
    HistoryPage, HistoryStore, HistoryWrite, SeenMark, VoicemailRef, once_only, position,
};
use crate::store::rates::{Budget, Counted};
use crate::store::{PresenceKey, StoreError, is_live};

#[derive(Default)]
pub(in crate::store) struct HistoryState {
    /// Each user's entries by position, with when each expires (epoch s).
    entries: HashMap<PresenceKey, BTreeMap<String, (Entry, i64)>>,
    seen: HashMap<PresenceKey, String>,
    calls: HashMap<String, (OrgId, i64)>,
    voicemails: HashMap<String, VoicemailRef>,
}

#[async_trait]
impl HistoryStore for MemoryStore {
    async fn record(
        &self,
        write: &HistoryWrite,
        voicemail: Option<&VoicemailRef>,
    ) -> Result<bool, StoreError> {
        let key = position(write.base.started_at, &write.base.call_sid);
        let new = {
            let mut state = self.history();
            // Only a fact that tells someone can be a refused repeat; the others are always
            // written, keeping what is known (as DynamoDB's unconditioned update does).
            let mut new = !once_only(&write.fact);
            for user in &write.users {
                let entries = state.entries.entry(user.clone()).or_default();
                let (entry, _) = entries
                    .entry(key.clone())
                    .or_insert_with(|| (Entry::of(&write.base), write.expires_at));
                entry.describe(&write.base);
                new |= entry.apply(&write.fact);
                if let Some(offer) = &write.offer {
                    entry.offer(offer);
                }
            }
            let org = write.users.first().map(|u| u.org.clone());
            if let Some(org) = org {
                state
                    .calls
                    .insert(write.base.call_sid.clone(), (org, write.base.started_at));
            }
            if let (Some(vm), true) = (voicemail, new) {
                state
                    .voicemails
                    .insert(vm.recording_sid.clone(), vm.clone());
            }
            new
        };
        if let (true, Some(notice)) = (new, &write.notice) {
            self.tell(notice).await;
        }
        Ok(new)
    }

    async fn history(
        &self,
        user: &PresenceKey,
        before: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> Result<HistoryPage, StoreError> {
        let state = self.history();
        let entries = state
            .entries
            .get(user)
            .map(|entries| {
                entries
                    .iter()
                    .rev()
                    .filter(|(k, (_, expires_at))| {
                        is_live(*expires_at, now_ms) && before.is_none_or(|b| k.as_str() < b)
                    })
                    .take(limit)
                    .map(|(k, (e, _))| (k.clone(), e.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(HistoryPage {
            entries,
            seen_up_to: state.seen.get(user).cloned(),
        })
    }

    async fn call_started(&self, call_sid: &str) -> Result<Option<(OrgId, i64)>, StoreError> {
        Ok(self.history().calls.get(call_sid).cloned())
    }

    async fn mark_seen(
        &self,
        user: &PresenceKey,
        position: &str,
        notice: &Notice,
    ) -> Result<SeenMark, StoreError> {
        let outcome = {
            let mut state = self.history();
            let yours = state
                .entries
                .get(user)
                .is_some_and(|entries| entries.contains_key(position));
            let behind = state
                .seen
                .get(user)
                .is_none_or(|mark| mark.as_str() < position);
            if !yours {
                SeenMark::NotInHistory
            } else if behind {
                state.seen.insert(user.clone(), position.to_owned());
                SeenMark::Moved
            } else {
                SeenMark::AlreadySeen
            }
        };
        if outcome == SeenMark::Moved {
            self.tell(notice).await;
        }
        Ok(outcome)
    }

    async fn voicemail(&self, recording_sid: &str) -> Result<Option<VoicemailRef>, StoreError> {
        Ok(self.history().voicemails.get(recording_sid).cloned())
    }

    async fn remove_voicemail(
        &self,
        voicemail: &VoicemailRef,
        notice: &Notice,
    ) -> Result<(), StoreError> {
        {
            let mut state = self.history();
            let key = position(voicemail.started_at, &voicemail.call_sid);
            for user in &voicemail.users {
                if let Some((entry, _)) = state.entries.get_mut(user).and_then(|e| e.get_mut(&key))
                {
                    entry.voicemail = None;
                    entry.voicemail_deleted = true;
                }
            }
            state.voicemails.remove(&voicemail.recording_sid);
        }
        self.tell(notice).await;
        Ok(())
    }

    async fn count_call(
        &self,
        caller: &PresenceKey,
        calls: &Budget,
        now_ms: i64,
    ) -> Result<Counted, StoreError> {
        Ok(self.rates().count_within(caller, calls, now_ms))
    }
}
