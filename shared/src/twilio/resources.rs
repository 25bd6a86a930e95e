//! What Twilio's REST API answers, as far as this service reads it: messages, pages of the
//! message list, an MMS's media, and a downloaded file.

use bytes::Bytes;
use serde::Deserialize;

/// A message as Twilio's REST API describes it (the fields this service reads).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct MessageResource {
    pub sid: String,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    /// `inbound`, `outbound-api`, `outbound-reply`, `outbound-call`.
    #[serde(default)]
    pub direction: Option<String>,
    /// A string in Twilio's JSON ("1").
    #[serde(default)]
    pub num_segments: Option<String>,
    #[serde(default)]
    pub num_media: Option<String>,
    #[serde(default)]
    pub error_code: Option<u32>,
    /// RFC 2822, e.g. `Tue, 01 Dec 2026 12:00:00 +0000`.
    #[serde(default)]
    pub date_created: Option<String>,
    #[serde(default)]
    pub date_sent: Option<String>,
}

impl MessageResource {
    pub fn segments(&self) -> Option<u32> {
        self.num_segments.as_deref().and_then(|n| n.parse().ok())
    }
    pub fn media_count(&self) -> u32 {
        self.num_media
            .as_deref()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// One page of the message list and where the next one is.
#[derive(Debug, Clone, Deserialize)]
pub struct MessagePage {
    pub messages: Vec<MessageResource>,
    #[serde(default)]
    pub next_page_uri: Option<String>,
}

/// One media file of a message, as the Media list gives it.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaResource {
    pub sid: String,
    pub content_type: String,
    /// `/2010-04-01/Accounts/AC…/Messages/MM…/Media/ME….json`; the file is this without `.json`.
    pub uri: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct MediaPage {
    pub(super) media_list: Vec<MediaResource>,
}

/// A fetched file and its type.
#[derive(Debug, Clone)]
pub struct Download {
    pub content_type: String,
    pub bytes: Bytes,
}
