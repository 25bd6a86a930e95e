//! Where a sleeping phone's notifications go (issue 31): the app's alert registration with
//! Apple's or Google's push service, reported by `register-device` as
//! `"notifications": {"provider", "token"}`. Not the VoIP (PushKit) token Twilio rings calls
//! through: that one stays Twilio's. Kept with the device, replaced by its next register,
//! gone with it; never shown back whole.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{FieldError, Platform};

/// Which push service, and for APNs which of Apple's environments the app was built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PushProvider {
    #[serde(rename = "apns")]
    Apns,
    #[serde(rename = "apns-sandbox")]
    ApnsSandbox,
    #[serde(rename = "fcm")]
    Fcm,
}

impl PushProvider {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "apns" => Ok(Self::Apns),
            "apns-sandbox" => Ok(Self::ApnsSandbox),
            "fcm" => Ok(Self::Fcm),
            _ => Err(FieldError::new(
                "notifications.provider",
                "must be \"apns\", \"apns-sandbox\" or \"fcm\"",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apns => "apns",
            Self::ApnsSandbox => "apns-sandbox",
            Self::Fcm => "fcm",
        }
    }

    pub fn is_apns(self) -> bool {
        matches!(self, Self::Apns | Self::ApnsSandbox)
    }
}

/// APNs device tokens are 32 bytes today; Apple allows for longer ones (up to 100 bytes).
const APNS_TOKEN_HEX: std::ops::RangeInclusive<usize> = 64..=200;
/// FCM registration tokens are about 160 characters; three times that is room to grow, and
/// keeps a phone's device item within two write units.
const FCM_TOKEN_CHARS: std::ops::RangeInclusive<usize> = 32..=512;
/// How much of a token the API shows: enough to tell two apart, never enough to use one.
const SHOWN_CHARS: usize = 6;

/// A device's push registration for alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub provider: PushProvider,
    /// APNs: lower-case hex; FCM: as the SDK gave it.
    pub token: String,
}

impl PushTarget {
    pub fn new(provider: PushProvider, token: &str) -> Result<Self, FieldError> {
        let bad = |message: &str| FieldError::new("notifications.token", message);
        let token = if provider.is_apns() {
            let hex = token.len().is_multiple_of(2) && token.chars().all(|c| c.is_ascii_hexdigit());
            if !(hex && APNS_TOKEN_HEX.contains(&token.len())) {
                return Err(bad(
                    "must be the app's APNs device token in hex (64-200 hex digits), not the VoIP \
                     (PushKit) token",
                ));
            }
            token.to_ascii_lowercase()
        } else {
            let chars = token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'));
            if !(chars && FCM_TOKEN_CHARS.contains(&token.len())) {
                return Err(bad("must be the app's FCM registration token"));
            }
            token.to_owned()
        };
        Ok(Self { provider, token })
    }

    /// `"notifications"` of a register body: absent or null for none; an object of
    /// `provider` and `token`, allowed on a phone only (APNs on iOS, FCM on either).
    pub fn from_body(
        body: &Map<String, Value>,
        platform: Platform,
    ) -> Result<Option<Self>, FieldError> {
        let object = match body.get("notifications") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(object)) => object,
            Some(_) => {
                let message = "must be an object {\"provider\", \"token\"}, or null";
                return Err(FieldError::new("notifications", message));
            }
        };
        if let Some(unknown) = object
            .keys()
            .find(|k| !matches!(k.as_str(), "provider" | "token"))
        {
            return Err(FieldError::new(
                format!("notifications.{unknown}"),
                "unknown field",
            ));
        }
        let text = |name: &str| {
            object
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| FieldError::new(format!("notifications.{name}"), "is required"))
        };
        let provider = PushProvider::parse(text("provider")?)?;
        match (platform, provider.is_apns()) {
            (Platform::Web, _) => {
                let message = "only phones (ios, android) take notifications here";
                return Err(FieldError::new("notifications", message));
            }
            (Platform::Android, true) => {
                let message = "APNs is for iOS; an Android phone registers with \"fcm\"";
                return Err(FieldError::new("notifications.provider", message));
            }
            _ => {}
        }
        Self::new(provider, text("token")?).map(Some)
    }

    /// The token's last characters: how the API shows it.
    pub fn token_suffix(&self) -> &str {
        let at = self.token.len().saturating_sub(SHOWN_CHARS);
        self.token.get(at..).unwrap_or_default()
    }
}

/// Shown as `{"provider", "tokenSuffix"}`: the token itself never leaves the service but to
/// its push service.
impl Serialize for PushTarget {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("PushTarget", 2)?;
        out.serialize_field("provider", &self.provider)?;
        out.serialize_field("tokenSuffix", self.token_suffix())?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const APNS: &str = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad";

    fn body(value: Value) -> Map<String, Value> {
        json!({ "notifications": value })
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn a_phone_registers_its_alert_token_and_only_its_end_is_shown() {
        let apns = PushTarget::from_body(
            &body(json!({"provider": "apns", "token": APNS.to_uppercase()})),
            Platform::Ios,
        )
        .unwrap()
        .unwrap();
        assert_eq!(apns.token, APNS, "hex kept in lower case");
        assert_eq!(
            serde_json::to_value(&apns).unwrap(),
            json!({"provider": "apns", "tokenSuffix": "bb78ad"})
        );
        let fcm_token = "dYk3fX1_R0eQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";
        for platform in [Platform::Android, Platform::Ios] {
            let fcm = PushTarget::from_body(
                &body(json!({"provider": "fcm", "token": fcm_token})),
                platform,
            );
            assert_eq!(fcm.unwrap().unwrap().token, fcm_token);
        }
        let none = PushTarget::from_body(&body(Value::Null), Platform::Ios);
        assert_eq!(none, Ok(None));
    }

    #[test]
    fn a_bad_registration_names_its_field() {
        let field = |value: Value, platform: Platform| {
            PushTarget::from_body(&body(value), platform)
                .unwrap_err()
                .field
        };
        let ios = Platform::Ios;
        assert_eq!(field(json!("x"), ios), "notifications");
        assert_eq!(
            field(json!({"provider": "apns"}), ios),
            "notifications.token"
        );
        assert_eq!(field(json!({"token": APNS}), ios), "notifications.provider");
        assert_eq!(
            field(json!({"provider": "gcm", "token": APNS}), ios),
            "notifications.provider"
        );
        assert_eq!(
            field(
                json!({"provider": "apns", "token": APNS, "voip": true}),
                ios
            ),
            "notifications.voip"
        );
        for token in ["abc", &APNS[1..], &format!("{APNS}zz"), &"a".repeat(202)] {
            assert_eq!(
                field(json!({"provider": "apns", "token": token}), ios),
                "notifications.token",
                "{token}"
            );
        }
        assert_eq!(
            field(
                json!({"provider": "fcm", "token": "short"}),
                Platform::Android
            ),
            "notifications.token"
        );
        assert_eq!(
            field(
                json!({"provider": "fcm", "token": format!("{APNS} x")}),
                Platform::Android
            ),
            "notifications.token"
        );
        assert_eq!(
            field(
                json!({"provider": "apns", "token": APNS}),
                Platform::Android
            ),
            "notifications.provider"
        );
        assert_eq!(
            field(json!({"provider": "fcm", "token": APNS}), Platform::Web),
            "notifications"
        );
    }
}
