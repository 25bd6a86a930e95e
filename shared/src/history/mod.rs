//! Call history: each user's record of the calls to their numbers, the calls they placed and
//! their colleagues' calls to them, with missed calls and voicemail. Built only from what the
//! service already sees (the incoming webhook, call-progress, dial-status and recording-status
//! callbacks), each of which adds a *fact* to the call's entry in every involved user's
//! history. Facts are set once and never unset (but a deleted voicemail), so callbacks that
//! come late, twice or out of order converge on the same entry, whose outcome is read from the
//! facts: a voicemail, else an answer, else a cancel, else a miss.
//!
//! Callbacks learn which call and whose history from their URL: this service writes the
//! call's [`HistoryRef`] (kind, start, number) into every callback URL of its TwiML, where
//! Twilio's signature covers it. This module holds the records and their rules; the routing
//! module records the facts (`routing/history.rs`), the stores keep them.

use serde::Serialize;

use crate::domain::{E164, Identity, OrgId};

/// How long entries are kept when `CALL_HISTORY_RETENTION_DAYS` is unset.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// Which kind of call an entry is about, and so whose history it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// To one of the org's numbers: every user of the number.
    Inbound,
    /// From a softphone to the public network: the caller.
    Outbound,
    /// From a softphone to a colleague: both of them.
    Internal,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
            Self::Internal => "internal",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "inbound" => Some(Self::Inbound),
            "outbound" => Some(Self::Outbound),
            "internal" => Some(Self::Internal),
            _ => None,
        }
    }

    /// The one-letter code callback URLs carry.
    fn code(self) -> &'static str {
        match self {
            Self::Inbound => "n",
            Self::Outbound => "o",
            Self::Internal => "i",
        }
    }
}

/// What a callback URL says of the call it reports on: written by this service into its
/// TwiML, so as trustworthy as Twilio's signature over the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRef {
    pub org: OrgId,
    pub direction: Direction,
    /// When the call reached the service, epoch ms: the entries' order.
    pub started_at: i64,
    /// The org's number the call came in on (inbound only): whose users' history it is in.
    pub number: Option<E164>,
    /// The people of the call by identity: for an outbound call its caller; for an internal
    /// one the callee, then the caller; for a softphone's call to an org number, its caller.
    pub people: Vec<Identity>,
}

impl HistoryRef {
    /// `ho`, `hk`, `hs`, `hn` and `hu` for a callback URL's query.
    pub fn query(&self) -> Vec<(&'static str, String)> {
        let mut query = vec![
            ("ho", self.org.to_string()),
            ("hk", self.direction.code().to_owned()),
            ("hs", self.started_at.to_string()),
        ];
        if let Some(number) = &self.number {
            query.push(("hn", number.as_str().to_owned()));
        }
        query.extend(self.people.iter().map(|p| ("hu", p.as_str().to_owned())));
        query
    }

    /// The reference a callback URL's query carries, if it carries a whole one.
    pub fn from_query(query: &[(String, String)]) -> Option<Self> {
        let all = |name: &'static str| {
            query
                .iter()
                .filter(move |(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let one = |name: &'static str| all(name).next();
        let org = OrgId::parse_field(one("ho")?, "ho").ok()?;
        let direction = match one("hk")? {
            "n" => Direction::Inbound,
            "o" => Direction::Outbound,
            "i" => Direction::Internal,
            _ => return None,
        };
        let started_at = one("hs")?.parse::<i64>().ok().filter(|t| *t > 0)?;
        let number = one("hn").and_then(|n| E164::parse_field(n, "hn").ok());
        // A reference naming another org's person is not this service's: dropped whole below.
        let people: Vec<Identity> = all("hu")
            .filter_map(|raw| Identity::parse(raw).ok())
            .filter(|person| person.may_belong_to(&org))
            .take(2)
            .collect();
        let whole = match direction {
            Direction::Inbound => number.is_some(),
            Direction::Outbound => people.len() == 1,
            Direction::Internal => people.len() == 2,
        };
        whole.then_some(Self {
            org,
            direction,
            started_at,
            number,
            people,
        })
    }
}

/// Why a call was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedReason {
    /// Nobody had a live voice device.
    NobodyLive,
    /// Everyone who could be rung was on another call.
    AllBusy,
    /// Rang, nobody answered in time.
    NoAnswer,
    /// The callee (or the network) said busy.
    Busy,
    /// The dial failed.
    Failed,
    /// Everyone it was for who had a live voice device had set "do not disturb".
    Dnd,
    /// The number was outside its business hours: nobody was rung.
    Closed,
}

impl MissedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NobodyLive => "nobody_live",
            Self::AllBusy => "all_busy",
            Self::NoAnswer => "no_answer",
            Self::Busy => "busy",
            Self::Failed => "failed",
            Self::Dnd => "dnd",
            Self::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::NobodyLive,
            Self::AllBusy,
            Self::NoAnswer,
            Self::Busy,
            Self::Failed,
            Self::Dnd,
            Self::Closed,
        ]
        .into_iter()
        .find(|r| r.as_str() == raw)
    }

    /// The reason of a dial that ended with Twilio's `status`, if it is a miss.
    pub fn of_dial(status: &str) -> Option<Self> {
        match status {
            "no-answer" => Some(Self::NoAnswer),
            "busy" => Some(Self::Busy),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// Who took a call: the identity, and the name the directory gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnsweredBy {
    pub identity: String,
    pub name: String,
}

/// One step of ringing: who was offered the call together, and when. A call that rings in
/// steps (a sequential, round-robin or longest-idle group, a large group in waves) has one per
/// step; any other dial has one. Learnt from the dial's action callback, whose URL names the
/// step, so a repeated or late callback adds the same step again, which changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offer {
    /// 1 for the call's first dial.
    pub step: u32,
    /// When the step began ringing, epoch ms.
    pub at: i64,
    /// Who it rang, by email (or identity, for a softphone outside the directory).
    pub to: Vec<String>,
}

/// Steps a call can have: a group of at most 100 members rung one at a time.
pub const MAX_STEPS: u32 = 100;

impl Offer {
    /// The one string that stores a step (in a set, so a repeat adds nothing):
    /// `{step}|{at}|{to, space-separated}` (emails and identities hold no space).
    pub fn encode(&self) -> String {
        format!("{}|{}|{}", self.step, self.at, self.to.join(" "))
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let mut parts = raw.splitn(3, '|');
        let step = parts.next()?.parse().ok()?;
        let at = parts.next()?.parse().ok()?;
        let to = parts
            .next()?
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        Some(Self { step, at, to })
    }
}

/// A voicemail left on a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Voicemail {
    pub recording_sid: String,
    pub duration_seconds: u32,
}

/// One fact a webhook or callback learnt about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// Only that the call exists (an outgoing call's first callback).
    Placed,
    Answered {
        by: AnsweredBy,
        at: i64,
    },
    Ended {
        at: i64,
        duration_seconds: u32,
    },
    Missed(MissedReason),
    /// The caller hung up while it rang.
    Canceled,
    Voicemail(Voicemail),
}

/// What every entry of a call says about it, whichever fact created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallBase {
    pub call_sid: String,
    pub direction: Direction,
    pub from: String,
    pub to: String,
    pub phone_id: Option<String>,
    pub phone_number: Option<String>,
    pub started_at: i64,
}

/// One user's entry, as stored: the call and every fact known so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub call_sid: String,
    pub direction: Option<Direction>,
    pub from: String,
    pub to: String,
    pub phone_id: Option<String>,
    pub phone_number: Option<String>,
    pub started_at: i64,
    pub answered_by: Option<AnsweredBy>,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_seconds: Option<u32>,
    pub missed: Option<MissedReason>,
    pub canceled: bool,
    pub voicemail: Option<Voicemail>,
    /// A voicemail was left and then deleted.
    pub voicemail_deleted: bool,
    /// Who was offered the call, step by step (in step order, each step once).
    pub offered_to: Vec<Offer>,
}

/// An entry's outcome, read from its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Answered,
    Missed,
    Voicemail,
    Canceled,
    /// Nothing decisive known yet (it is still ringing, or its callbacks are on their way).
    Ringing,
}

impl Entry {
    /// A new entry of the call.
    pub fn of(base: &CallBase) -> Self {
        Self {
            call_sid: base.call_sid.clone(),
            direction: Some(base.direction),
            from: base.from.clone(),
            to: base.to.clone(),
            phone_id: base.phone_id.clone(),
            phone_number: base.phone_number.clone(),
            started_at: base.started_at,
            ..Self::default()
        }
    }

    /// Fill in what an earlier callback could not tell (a caller it did not name, a number it
    /// did not know), as the DynamoDB store does with `if_not_exists`.
    pub fn describe(&mut self, base: &CallBase) {
        if self.from.is_empty() {
            self.from.clone_from(&base.from);
        }
        if self.to.is_empty() {
            self.to.clone_from(&base.to);
        }
        if self.phone_id.is_none() {
            self.phone_id.clone_from(&base.phone_id);
        }
        if self.phone_number.is_none() {
            self.phone_number.clone_from(&base.phone_number);
        }
    }

    /// Add a fact; whether it was new. A fact already known stays as first learnt.
    pub fn apply(&mut self, fact: &Fact) -> bool {
        match fact {
            Fact::Placed => false,
            Fact::Answered { by, at } => {
                let new = self.answered_at.is_none();
                if new {
                    self.answered_by = Some(by.clone());
                    self.answered_at = Some(*at);
                }
                new
            }
            Fact::Ended {
                at,
                duration_seconds,
            } => {
                let new = self.ended_at.is_none();
                if new {
                    self.ended_at = Some(*at);
                    self.duration_seconds = Some(*duration_seconds);
                }
                new
            }
            Fact::Missed(reason) => {
                let new = self.missed.is_none();
                if new {
                    self.missed = Some(*reason);
                }
                new
            }
            Fact::Canceled => !std::mem::replace(&mut self.canceled, true),
            Fact::Voicemail(voicemail) => {
                let new = self.voicemail.is_none() && !self.voicemail_deleted;
                if new {
                    self.voicemail = Some(voicemail.clone());
                }
                new
            }
        }
    }

    /// Add a step of ringing, unless the entry has that step already.
    pub fn offer(&mut self, offer: &Offer) {
        if let Err(i) = self
            .offered_to
            .binary_search_by_key(&offer.step, |o| o.step)
        {
            self.offered_to.insert(i, offer.clone());
        }
    }

    pub fn outcome(&self) -> Outcome {
        if self.voicemail.is_some() {
            Outcome::Voicemail
        } else if self.answered_by.is_some() || self.answered_at.is_some() {
            Outcome::Answered
        } else if self.canceled {
            Outcome::Canceled
        } else if self.missed.is_some() || self.voicemail_deleted {
            Outcome::Missed
        } else {
            Outcome::Ringing
        }
    }

    /// Whether the user (by email) should notice it: a call to them they did not take.
    pub fn is_missed_for(&self, user_email: &str) -> bool {
        let to_them = match self.direction {
            Some(Direction::Inbound) => true,
            // The callee's side of an internal call (its `to` is the callee's email).
            Some(Direction::Internal) => self.to == user_email,
            _ => false,
        };
        to_them && matches!(self.outcome(), Outcome::Missed | Outcome::Voicemail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            call_sid: "CA1".into(),
            direction: Some(Direction::Inbound),
            ..Entry::default()
        }
    }

    #[test]
    fn the_outcome_follows_the_strongest_fact_whatever_their_order() {
        let mut e = entry();
        assert_eq!(e.outcome(), Outcome::Ringing);
        e.missed = Some(MissedReason::NoAnswer);
        assert_eq!(e.outcome(), Outcome::Missed);
        e.canceled = true;
        assert_eq!(e.outcome(), Outcome::Canceled);
        e.answered_at = Some(5);
        assert_eq!(e.outcome(), Outcome::Answered);
        e.voicemail = Some(Voicemail {
            recording_sid: "RE1".into(),
            duration_seconds: 9,
        });
        assert_eq!(e.outcome(), Outcome::Voicemail);
        let mut deleted = entry();
        deleted.voicemail_deleted = true;
        assert_eq!(deleted.outcome(), Outcome::Missed);
    }

    #[test]
    fn a_history_ref_survives_its_url() {
        let alice = Identity::parse("u_org_5Fdemo__alice_40example_2Ecom").unwrap();
        let bob = Identity::parse("u_org_5Fdemo__bob_40example_2Ecom").unwrap();
        let refs = [
            HistoryRef {
                org: OrgId::parse_field("org_demo", "o").unwrap(),
                direction: Direction::Inbound,
                started_at: 1_796_126_400_000,
                number: E164::parse_field("+14155551234", "n").ok(),
                people: vec![alice.clone()],
            },
            HistoryRef {
                org: OrgId::parse_field("org_demo", "o").unwrap(),
                direction: Direction::Internal,
                started_at: 5,
                number: None,
                people: vec![bob, alice.clone()],
            },
        ];
        for r in refs {
            let query: Vec<(String, String)> = r
                .query()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            assert_eq!(HistoryRef::from_query(&query), Some(r));
        }
        let partial = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert_eq!(
            HistoryRef::from_query(&partial(&[("ho", "o"), ("hk", "n"), ("hs", "5")])),
            None,
            "an inbound reference names its number"
        );
        assert_eq!(
            HistoryRef::from_query(&partial(&[
                ("ho", "o"),
                ("hk", "i"),
                ("hs", "5"),
                ("hu", "user_a")
            ])),
            None,
            "an internal one both people"
        );
        assert_eq!(
            HistoryRef::from_query(&partial(&[("ho", "o"), ("hk", "x"), ("hs", "5")])),
            None
        );
    }
}
