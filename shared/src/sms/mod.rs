//! The SMS inbox's records and rules, which the stores and the inbox's handlers share:
//! [`message`]: messages, conversations, parties and how statuses move; [`segments`]: how
//! Twilio counts a text's segments; [`keywords`]: opt-out and opt-in words. What happens to a
//! text (the webhooks, who is told, reconciliation) is in the `inbox` module.

pub mod keywords;
pub mod message;
pub mod segments;
