//! Notifications to sleeping phones (issue 31): what a phone's lock screen shows for an event
//! (`alert.rs`), which devices an event alerts and the sending, claimed once per device
//! (`dispatch.rs`), the providers and their retries (`provider.rs`: APNs in `apns.rs`, FCM in
//! `fcm.rs`, what one request came to in `outcome.rs`), the local server's sender, a
//! task per user (`background.rs`), and the `alerts` function's stream consumer (`stream.rs`).

pub mod alert;
mod apns;
pub mod background;
pub mod dispatch;
mod fcm;
mod outcome;
pub mod provider;
pub mod stream;

pub use dispatch::{Report, Sending, Sources, alert_user, alerts_on};
pub use provider::Providers;
