//! The operator's outbound guards: the per-user rates of texts and calls, and
//! `OUTBOUND_ALLOWED_PREFIXES`, a limit over every org's own `outbound` policy.

use super::reader::Reader;

/// Where calls and texts may go and how many, beyond each org's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSettings {
    /// `OUTBOUND_ALLOWED_PREFIXES`: E.164 prefixes every call to the public network and every
    /// text must start with, whatever the org allows; `None`: no such limit.
    pub allowed_prefixes: Option<Vec<String>>,
    /// `OUTBOUND_SMS_PER_MINUTE`: texts one user may send per minute.
    pub sms_per_minute: u32,
    /// `OUTBOUND_NEW_RECIPIENTS_PER_DAY`: texts one user may send per day to parties the
    /// sending number has no conversation with yet.
    pub new_recipients_per_day: u32,
    /// `OUTBOUND_CALLS_PER_MINUTE`: calls one user may place to the public network per minute.
    pub calls_per_minute: u32,
}

pub const DEFAULT_SMS_PER_MINUTE: u32 = 30;
pub const DEFAULT_NEW_RECIPIENTS_PER_DAY: u32 = 50;
pub const DEFAULT_CALLS_PER_MINUTE: u32 = 10;

impl Default for OutboundSettings {
    fn default() -> Self {
        Self {
            allowed_prefixes: None,
            sms_per_minute: DEFAULT_SMS_PER_MINUTE,
            new_recipients_per_day: DEFAULT_NEW_RECIPIENTS_PER_DAY,
            calls_per_minute: DEFAULT_CALLS_PER_MINUTE,
        }
    }
}

impl Reader<'_> {
    pub(super) fn outbound(&mut self) -> OutboundSettings {
        OutboundSettings {
            allowed_prefixes: self.outbound_allowed_prefixes(),
            sms_per_minute: self.number(
                "OUTBOUND_SMS_PER_MINUTE",
                DEFAULT_SMS_PER_MINUTE,
                1,
                10_000,
            ),
            new_recipients_per_day: self.number(
                "OUTBOUND_NEW_RECIPIENTS_PER_DAY",
                DEFAULT_NEW_RECIPIENTS_PER_DAY,
                1,
                1_000_000,
            ),
            calls_per_minute: self.number(
                "OUTBOUND_CALLS_PER_MINUTE",
                DEFAULT_CALLS_PER_MINUTE,
                1,
                10_000,
            ),
        }
    }

    /// `OUTBOUND_ALLOWED_PREFIXES`: the E.164 prefixes calls and texts may reach.
    fn outbound_allowed_prefixes(&mut self) -> Option<Vec<String>> {
        let raw = self.optional("OUTBOUND_ALLOWED_PREFIXES")?;
        let prefixes: Vec<String> = raw
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let well_formed = |p: &String| {
            p.strip_prefix('+').is_some_and(|d| {
                (1..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())
            })
        };
        if prefixes.is_empty() || !prefixes.iter().all(well_formed) {
            self.problems.push(format!(
                "OUTBOUND_ALLOWED_PREFIXES must be comma-separated E.164 prefixes such as +1,+44, got {raw:?}"
            ));
        }
        Some(prefixes)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::{Config, Needs};

    fn read(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let mut map: HashMap<&str, &str> = HashMap::from([
            ("TWILIO_ACCOUNT_SID", "AC1"),
            ("TWILIO_AUTH_TOKEN", "token"),
            ("TWILIO_API_KEY_SID", "SK1"),
            ("TWILIO_API_KEY_SECRET", "secret"),
        ]);
        map.extend(pairs.iter().copied());
        let needs = Needs {
            webhooks: true,
            twilio_api: true,
            ..Needs::default()
        };
        Config::from_env(&|k| map.get(k).map(|v| (*v).to_owned()), needs).map_err(|e| e.to_string())
    }

    #[test]
    fn outbound_rates_default_sensibly_and_are_range_checked_by_name() {
        let config = read(&[]).unwrap();
        let texts = &config.twilio_api.unwrap().outbound;
        assert_eq!(
            (texts.sms_per_minute, texts.new_recipients_per_day),
            (30, 50)
        );
        assert_eq!(config.webhooks.unwrap().outbound.calls_per_minute, 10);
        assert_eq!(texts.allowed_prefixes, None);

        let config = read(&[
            ("OUTBOUND_SMS_PER_MINUTE", "5"),
            ("OUTBOUND_NEW_RECIPIENTS_PER_DAY", "2"),
            ("OUTBOUND_CALLS_PER_MINUTE", "3"),
            ("OUTBOUND_ALLOWED_PREFIXES", "+1, +44"),
        ])
        .unwrap();
        let texts = config.twilio_api.unwrap().outbound;
        assert_eq!((texts.sms_per_minute, texts.new_recipients_per_day), (5, 2));
        assert_eq!(config.webhooks.unwrap().outbound.calls_per_minute, 3);
        assert_eq!(
            texts.allowed_prefixes,
            Some(vec!["+1".to_owned(), "+44".to_owned()])
        );

        let err = read(&[
            ("OUTBOUND_SMS_PER_MINUTE", "0"),
            ("OUTBOUND_CALLS_PER_MINUTE", "lots"),
            ("OUTBOUND_ALLOWED_PREFIXES", "1,+44"),
        ])
        .unwrap_err();
        for name in [
            "OUTBOUND_SMS_PER_MINUTE",
            "OUTBOUND_CALLS_PER_MINUTE",
            "OUTBOUND_ALLOWED_PREFIXES",
        ] {
            assert!(err.contains(name), "{name} not named in {err}");
        }
    }
}
