//! A Twilio webhook's parameters, and the callback URLs the service writes into its TwiML.

use crate::domain::{Identity, OrgId};
use crate::history::HistoryRef;

/// A Twilio webhook's parameters: the form Twilio posted, and the query string of the URL
/// it called (which carries what this service put there, authenticated by the signature).
#[derive(Debug, Clone, Default)]
pub struct CallParams {
    pub form: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

impl CallParams {
    /// A form parameter; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `From` and `To` of the call: posted by Twilio, else (a recording callback) as the
    /// service wrote them into the callback URL.
    pub fn parties(&self) -> (&str, &str) {
        let of = |form: &'static str, query: &'static str| {
            self.get(form)
                .or_else(|| self.query(query).filter(|v| !v.is_empty()))
                .unwrap_or_default()
        };
        (of("From", "hf"), of("To", "ht"))
    }

    pub fn query<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.query_all(name).next()
    }

    pub fn query_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// URLs Twilio should call back, absolute so API Gateway stages and base paths survive; each
/// carries the call's [`HistoryRef`] once it is known, so every callback can add to the
/// history without a read to find the call.
#[derive(Debug, Clone)]
pub struct Callbacks {
    pub dial_status_url: String,
    pub call_status_url: String,
    pub recording_status_url: String,
    pub history: Option<HistoryRef>,
    /// The call's `From` and `To`, which Twilio's recording callbacks do not carry: written
    /// into the recording-status URL (`hf`, `ht`) so a voicemail names its caller.
    pub parties: Option<(String, String)>,
}

impl Callbacks {
    /// The same callbacks for a call whose history reference is `history`.
    pub fn with_history(&self, history: HistoryRef) -> Self {
        Self {
            history: Some(history),
            ..self.clone()
        }
    }

    fn history_query(&self) -> Vec<(&'static str, String)> {
        self.history
            .as_ref()
            .map(HistoryRef::query)
            .unwrap_or_default()
    }

    /// The dial-status URL with `query` appended (values encoded), and the history reference.
    pub fn dial_status(&self, query: &[(&str, &str)]) -> String {
        let history = self.history_query();
        let mut all: Vec<(&str, &str)> = query.to_vec();
        all.extend(history.iter().map(|(k, v)| (*k, v.as_str())));
        with_query(&self.dial_status_url, &all)
    }

    /// Where a dialled leg reports progress: the org and the identities the leg makes busy
    /// travel in the query string, which the signature covers.
    pub fn call_status(&self, org: &OrgId, identities: &[&Identity]) -> String {
        let history = self.history_query();
        let mut query = vec![("org", org.as_str())];
        query.extend(identities.iter().map(|i| ("identity", i.as_str())));
        query.extend(history.iter().map(|(k, v)| (*k, v.as_str())));
        with_query(&self.call_status_url, &query)
    }

    /// Where a voicemail's recording reports that it is complete.
    pub fn recording_status(&self) -> String {
        let history = self.history_query();
        let mut query: Vec<(&str, &str)> = history.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some((from, to)) = &self.parties {
            query.extend([("hf", from.as_str()), ("ht", to.as_str())]);
        }
        with_query(&self.recording_status_url, &query)
    }
}

fn with_query(url: &str, query: &[(&str, &str)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{url}?{encoded}")
}
