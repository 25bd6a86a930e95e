//! The SMS inbox of a user's numbers: texts to a number reach every user of it (its direct
//! user, or each member of its group) on their `sms` devices; replies go out from the number.
//! [`webhook`]: Twilio's Messaging webhooks; [`notices`]: who is told what; [`reconcile`]:
//! recovering texts both webhook URLs missed. The records are in the `sms` module; the app
//! endpoints (inbox reads, sending) are in `shared/src/http/api/sms.rs` and `sms_send.rs`.

pub mod notices;
pub mod reconcile;
pub mod webhook;
