//! Twilio's REST API, the parts this service calls: send a message, list messages (the SMS
//! reconciler), fetch message media and recordings, delete a recording. Authenticated with the
//! API key (SID and secret as HTTP Basic auth), at `TWILIO_API_BASE_URL`, over
//! [`crate::outbound`].
//!
//! Every URL sent credentials is built here from parts: `TWILIO_API_BASE_URL`, the account SID
//! of the configuration and validated SIDs ([`crate::domain::Sid`]); a URL this service was
//! given (a webhook's `MediaUrlN`, a stored row, a list's `next_page_uri`) is only parsed for
//! those parts, never fetched as given. Twilio answers a media request with a redirect to its
//! CDN; that hop is followed without credentials.

use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use secrecy::ExposeSecret;
use serde::Deserialize;

use crate::config::Config;
pub use crate::config::RestConfig;
use crate::domain::{MediaSid, MessageSid, RecordingSid};
use crate::headers::{ACCEPT, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use crate::outbound::{Answer, Outbound, OutboundError};
use crate::secrets::{Rotating, Secrets};

use super::resources::MediaPage;
pub use super::resources::{Download, MediaResource, MessagePage, MessageResource};
pub use crate::domain::dates::parse_rfc2822;

/// The largest JSON answer read (a page of the message list).
const MAX_JSON: usize = 4 << 20;
/// Media of one MMS is at most 5 MB in all (Twilio's limit).
pub const MAX_MEDIA: usize = 5 << 20;
/// Redirects followed from a media or recording URL.
const MAX_REDIRECTS: usize = 3;
/// Messages per page of the list (Twilio allows up to 1,000; 200 keeps a page near 300 KB).
const LIST_PAGE_SIZE: u32 = 200;

/// Why a call to Twilio did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// Twilio answered with an error it means (4xx but 429): its HTTP status, its error code
    /// (21610, 21211, …) and message.
    #[error("Twilio refused the request ({status}, code {code:?}): {message}")]
    Refused {
        status: u16,
        code: Option<u32>,
        message: String,
    },
    /// 429, 5xx, a timeout or no connection: worth trying again later.
    #[error("Twilio unavailable: {cause}")]
    Unavailable {
        retry_after_seconds: Option<u32>,
        cause: String,
    },
    /// An answer this client does not understand.
    #[error("unexpected answer from Twilio: {0}")]
    Malformed(String),
    /// A URL that names no resource of this account's Twilio API (or a redirect to plain
    /// HTTP elsewhere): never fetched.
    #[error("not a URL of this account's Twilio API")]
    ForeignUrl,
}

impl From<OutboundError> for RestError {
    fn from(error: OutboundError) -> Self {
        RestError::Unavailable {
            retry_after_seconds: None,
            cause: error.to_string(),
        }
    }
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub status_callback: Option<&'a str>,
}

/// A media file of a message, by its SIDs: what a `MediaUrlN` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub message: MessageSid,
    pub media: MediaSid,
}

impl MediaFile {
    /// The file `url` names, `[scheme://host]/2010-04-01/Accounts/{AC…}/Messages/{SM…}/Media/{ME…}`
    /// (a list's `uri` ends in `.json`), each segment exactly and the account `account`; none
    /// for anything else: another account or resource, a query, `..`, a backslash or an
    /// encoded separator (none of which is part of a SID).
    pub fn parse(url: &str, account: &str) -> Option<Self> {
        let path = match url.split_once("://") {
            Some((scheme, rest)) if scheme == "https" || scheme == "http" => {
                &rest[rest.find('/')?..]
            }
            Some(_) => return None,
            None => url,
        };
        let path = path.strip_suffix(".json").unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        match segments.as_slice() {
            [
                "",
                "2010-04-01",
                "Accounts",
                acct,
                "Messages",
                message,
                "Media",
                media,
            ] if *acct == account => Some(Self {
                message: MessageSid::parse(message)?,
                media: MediaSid::parse(media)?,
            }),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TwilioRest {
    config: RestConfig,
    http: Outbound,
}

#[derive(Deserialize)]
struct TwilioErrorBody {
    #[serde(default)]
    code: Option<u32>,
    #[serde(default)]
    message: Option<String>,
}

impl TwilioRest {
    pub fn new(config: RestConfig, deadline: Duration) -> Self {
        Self {
            config,
            http: Outbound::new(deadline),
        }
    }

    /// The client of `config`'s API key, remade when a re-read of `secrets` brings a new key;
    /// `None` without Twilio's REST API section.
    pub fn rotating(config: &Config, secrets: Option<&Secrets>) -> Option<Rotating<Self>> {
        Rotating::new(config, secrets, |config| {
            let twilio = config.twilio_api.as_ref()?;
            Some(Self::new(twilio.rest.clone(), twilio.timeout))
        })
    }

    fn account_path(&self) -> String {
        format!("/2010-04-01/Accounts/{}", self.config.account_sid)
    }

    fn basic_auth(&self) -> http::HeaderValue {
        let pair = format!(
            "{}:{}",
            self.config.api_key_sid,
            self.config.api_key_secret.expose_secret()
        );
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        let mut value = http::HeaderValue::from_str(&format!("Basic {encoded}"))
            .unwrap_or_else(|_| http::HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }

    async fn request(
        &self,
        method: http::Method,
        url: &str,
        form: Option<String>,
        max_body: usize,
    ) -> Result<Answer, RestError> {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(url)
            .header(http::header::AUTHORIZATION, self.basic_auth())
            .header(ACCEPT, "application/json");
        if form.is_some() {
            builder = builder.header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
        }
        let request = builder
            .body(Bytes::from(form.unwrap_or_default()))
            .map_err(|e| RestError::Malformed(format!("request not built: {e}")))?;
        Ok(self.http.send(request, max_body).await?)
    }

    /// `POST …/Messages.json`.
    pub async fn send_message(
        &self,
        message: &NewMessage<'_>,
    ) -> Result<MessageResource, RestError> {
        // Built before the await: the serializer is not `Send`.
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("To", message.to)
                .append_pair("From", message.from)
                .append_pair("Body", message.body);
            if let Some(callback) = message.status_callback {
                form.append_pair("StatusCallback", callback);
            }
            form.finish()
        };
        let url = format!(
            "{}{}/Messages.json",
            self.config.base_url,
            self.account_path()
        );
        let answer = self
            .request(http::Method::POST, &url, Some(form), MAX_JSON)
            .await?;
        json_of(&answer)
    }

    /// `GET …/Messages.json?To=…&DateSent>=…`, the first page; then [`Self::next_page`].
    pub async fn list_messages_to(
        &self,
        to: &str,
        sent_on_or_after: &str,
    ) -> Result<MessagePage, RestError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("To", to)
            .append_pair("DateSent>", sent_on_or_after)
            .append_pair("PageSize", &LIST_PAGE_SIZE.to_string())
            .finish();
        let url = format!(
            "{}{}/Messages.json?{query}",
            self.config.base_url,
            self.account_path()
        );
        let answer = self
            .request(http::Method::GET, &url, None, MAX_JSON)
            .await?;
        json_of(&answer)
    }

    /// The page a list's `next_page_uri` names: its query (page, token, filters) re-encoded
    /// onto this account's message list; a URI of any other resource is
    /// [`RestError::ForeignUrl`].
    pub async fn next_page(&self, next_page_uri: &str) -> Result<MessagePage, RestError> {
        let url = self.next_page_url(next_page_uri)?;
        let answer = self
            .request(http::Method::GET, &url, None, MAX_JSON)
            .await?;
        json_of(&answer)
    }

    fn next_page_url(&self, next_page_uri: &str) -> Result<String, RestError> {
        let (path, query) = next_page_uri.split_once('?').unwrap_or((next_page_uri, ""));
        let list = format!("{}/Messages.json", self.account_path());
        if path != list && path != format!("{}{list}", self.config.base_url) {
            return Err(RestError::ForeignUrl);
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form_urlencoded::parse(query.as_bytes()))
            .finish();
        Ok(format!("{}{list}?{query}", self.config.base_url))
    }

    /// `GET …/Messages/{sid}/Media.json`: the files of an MMS, with their types.
    pub async fn list_media(
        &self,
        message_sid: &MessageSid,
    ) -> Result<Vec<MediaResource>, RestError> {
        let url = format!(
            "{}{}/Messages/{message_sid}/Media.json",
            self.config.base_url,
            self.account_path()
        );
        let answer = self
            .request(http::Method::GET, &url, None, MAX_JSON)
            .await?;
        Ok(json_of::<MediaPage>(&answer)?.media_list)
    }

    /// The media file `url` names (a webhook's `MediaUrlN`, or a Media list `uri`), if it is
    /// one of `message`'s in this account. Only its SIDs are kept: the file is fetched from
    /// `TWILIO_API_BASE_URL`, whatever host `url` named.
    pub fn media_file(&self, url: &str, message: &MessageSid) -> Result<MediaFile, RestError> {
        MediaFile::parse(url, &self.config.account_sid)
            .filter(|file| file.message == *message)
            .ok_or(RestError::ForeignUrl)
    }

    /// `GET …/Messages/{sid}/Media/{sid}`, then its redirect to Twilio's CDN.
    pub async fn fetch_media(&self, file: &MediaFile) -> Result<Download, RestError> {
        let url = format!(
            "{}{}/Messages/{}/Media/{}",
            self.config.base_url,
            self.account_path(),
            file.message,
            file.media
        );
        self.download(&url, MAX_MEDIA).await
    }

    /// A recording, `mp3` or `wav`.
    pub async fn fetch_recording(
        &self,
        recording_sid: &RecordingSid,
        format: &'static str,
    ) -> Result<Download, RestError> {
        let url = format!(
            "{}{}/Recordings/{recording_sid}.{format}",
            self.config.base_url,
            self.account_path()
        );
        self.download(&url, MAX_RECORDING).await
    }

    /// `DELETE …/Recordings/{sid}.json`: 204, or 404 when it is already gone (both fine).
    pub async fn delete_recording(&self, recording_sid: &RecordingSid) -> Result<(), RestError> {
        let url = format!(
            "{}{}/Recordings/{recording_sid}.json",
            self.config.base_url,
            self.account_path()
        );
        let answer = self
            .request(http::Method::DELETE, &url, None, MAX_JSON)
            .await?;
        match answer.status {
            200..=299 | 404 => Ok(()),
            _ => Err(error_of(&answer)),
        }
    }

    /// GET with credentials, then any redirect (to Twilio's CDN) without them.
    async fn download(&self, url: &str, max: usize) -> Result<Download, RestError> {
        let mut answer = self.request(http::Method::GET, url, None, max).await?;
        for _ in 0..MAX_REDIRECTS {
            if !(300..400).contains(&answer.status) {
                break;
            }
            let location = answer
                .header(LOCATION)
                .ok_or_else(|| RestError::Malformed("redirect without Location".into()))?;
            let next = self.redirect_target(url, location)?;
            let request = http::Request::get(next.as_str())
                .body(Bytes::new())
                .map_err(|e| RestError::Malformed(format!("redirect not followed: {e}")))?;
            answer = self.http.send(request, max).await?;
        }
        if !(200..300).contains(&answer.status) {
            return Err(error_of(&answer));
        }
        let content_type = answer
            .header(CONTENT_TYPE)
            .unwrap_or("application/octet-stream")
            .to_owned();
        Ok(Download {
            content_type,
            bytes: answer.body,
        })
    }

    /// A redirect is followed to HTTPS anywhere (Twilio's CDN URLs are pre-signed) or to the
    /// base URL's own origin (a local fake), never to plain HTTP elsewhere.
    fn redirect_target(&self, from: &str, location: &str) -> Result<String, RestError> {
        let origin = origin_of(&self.config.base_url);
        let target = if location.starts_with('/') {
            format!("{}{location}", origin_of(from))
        } else {
            location.to_owned()
        };
        if target.starts_with("https://") || target.starts_with(&format!("{origin}/")) {
            Ok(target)
        } else {
            Err(RestError::ForeignUrl)
        }
    }
}

/// The largest recording read (a 10-minute WAV at 8 kHz, 16 bit is 9.6 MB; mp3 far less).
pub const MAX_RECORDING: usize = 12 << 20;

fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

fn json_of<T: serde::de::DeserializeOwned>(answer: &Answer) -> Result<T, RestError> {
    if !(200..300).contains(&answer.status) {
        return Err(error_of(answer));
    }
    serde_json::from_slice(&answer.body).map_err(|e| RestError::Malformed(e.to_string()))
}

/// An error answer as a [`RestError`]: 429 and 5xx are worth retrying, the rest is Twilio's
/// refusal with its code.
fn error_of(answer: &Answer) -> RestError {
    let parsed: Option<TwilioErrorBody> = serde_json::from_slice(&answer.body).ok();
    let message = parsed
        .as_ref()
        .and_then(|b| b.message.clone())
        .unwrap_or_else(|| format!("HTTP {}", answer.status));
    if answer.status == 429 || answer.status >= 500 {
        return RestError::Unavailable {
            retry_after_seconds: answer.header(RETRY_AFTER).and_then(|v| v.parse().ok()),
            cause: format!("HTTP {}: {message}", answer.status),
        };
    }
    RestError::Refused {
        status: answer.status,
        code: parsed.and_then(|b| b.code),
        message,
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn client() -> TwilioRest {
        TwilioRest::new(
            RestConfig {
                base_url: "https://api.twilio.com".into(),
                account_sid: "AC1".into(),
                api_key_sid: "SK1".into(),
                api_key_secret: SecretString::from("s"),
            },
            Duration::from_secs(1),
        )
    }

    const MESSAGE: &str = "MM0123456789abcdef0123456789abcdef";
    const MEDIA: &str = "ME0123456789abcdef0123456789abcdef";

    #[test]
    fn a_media_url_gives_only_its_sids_and_the_file_is_fetched_from_the_base() {
        let rest = client();
        let message = MessageSid::parse(MESSAGE).unwrap();
        let expected = MediaFile {
            message: message.clone(),
            media: MediaSid::parse(MEDIA).unwrap(),
        };
        for url in [
            format!(
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/{MESSAGE}/Media/{MEDIA}"
            ),
            // Another host: only the SIDs are used.
            format!(
                "https://media.example/2010-04-01/Accounts/AC1/Messages/{MESSAGE}/Media/{MEDIA}"
            ),
            // A media list's `uri`.
            format!("/2010-04-01/Accounts/AC1/Messages/{MESSAGE}/Media/{MEDIA}.json"),
        ] {
            assert_eq!(
                rest.media_file(&url, &message),
                Ok(expected.clone()),
                "{url}"
            );
        }
    }

    #[test]
    fn a_media_url_with_anything_but_sids_names_no_file() {
        let rest = client();
        let message = MessageSid::parse(MESSAGE).unwrap();
        let base = format!("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/{MESSAGE}");
        for hostile in [
            format!("{base}/Media/..%2f..%2fRecordings%2fRE0123456789abcdef0123456789abcd"),
            format!("{base}/Media/..%2F..%2FCalls.json"),
            format!("{base}/Media/ME0123456789abcdef0123456789ab%5c.."),
            format!("{base}/Media/ME0123456789abcdef0123456789abc\\.."),
            format!("{base}/Media/../../Calls"),
            format!("{base}/Media/{MEDIA}?x=1"),
            format!("{base}/Media/{MEDIA}/../../../Calls"),
            format!(
                "https://api.twilio.com/2010-04-01/Accounts/AC2/Messages/{MESSAGE}/Media/{MEDIA}"
            ),
            format!(
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM0123456789abcdef0123456789abcdef/Media/{MEDIA}"
            ),
            format!(
                "https://api.twilio.com/x/2010-04-01/Accounts/AC1/Messages/{MESSAGE}/Media/{MEDIA}"
            ),
            format!("file:///2010-04-01/Accounts/AC1/Messages/{MESSAGE}/Media/{MEDIA}"),
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "https://api.twilio.com".to_owned(),
            String::new(),
        ] {
            assert_eq!(
                rest.media_file(&hostile, &message),
                Err(RestError::ForeignUrl),
                "{hostile}"
            );
        }
    }

    #[test]
    fn a_next_page_is_this_accounts_message_list_with_its_query_re_encoded() {
        let rest = client();
        assert_eq!(
            rest.next_page_url(
                "/2010-04-01/Accounts/AC1/Messages.json?To=%2B1415&Page=1&PageToken=PA1"
            )
            .unwrap(),
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B1415&Page=1&PageToken=PA1"
        );
        for foreign in [
            "/2010-04-01/Accounts/AC2/Messages.json?Page=1",
            "/2010-04-01/Accounts/AC1/../AC2/Messages.json",
            "/2010-04-01/Accounts/AC1/Calls.json?Page=1",
            "/2010-04-01/Accounts/AC1/Messages.json/../../AC2/Messages.json",
            "https://evil.example/2010-04-01/Accounts/AC1/Messages.json",
            "//evil.example/2010-04-01/Accounts/AC1/Messages.json",
        ] {
            assert_eq!(
                rest.next_page_url(foreign),
                Err(RestError::ForeignUrl),
                "{foreign}"
            );
        }
    }

    #[test]
    fn redirects_go_to_https_or_the_base_origin_only() {
        let rest = client();
        let from = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1";
        assert!(
            rest.redirect_target(from, "https://s3.amazonaws.com/x?sig=1")
                .is_ok()
        );
        assert_eq!(
            rest.redirect_target(from, "/cdn/ME1").unwrap(),
            "https://api.twilio.com/cdn/ME1"
        );
        assert_eq!(
            rest.redirect_target(from, "http://169.254.169.254/latest/meta-data"),
            Err(RestError::ForeignUrl)
        );
    }
}
