//! Notifications to sleeping phones (issue 31): what a phone's lock screen shows for an event
//! (`alert.rs`). Sending them through APNs and FCM is to come.

pub mod alert;
