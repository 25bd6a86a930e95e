//! The SMS inbox of a user's numbers: texts to a number reach every user of it (its direct
//! user, or each member of its group) on their `sms` devices; replies go out from the number.
//! [`message`]: the records and views; [`segments`]: how Twilio counts a text's segments;
//! [`keywords`]: opt-out and opt-in words; [`notices`]: who is told what; [`webhook`]:
//! Twilio's Messaging webhooks; [`send`]: replies through Twilio's REST API; [`reconcile`]:
//! recovering texts both webhook URLs missed.

pub mod keywords;
pub mod message;
pub mod notices;
pub mod reconcile;
pub mod segments;
pub mod webhook;
