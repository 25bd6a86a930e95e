//! How large a body each kind of route takes (the route table names one per route).

// Body limits are sized from the fields' own limits in their worst JSON encoding, so that no
// body the contract allows is refused for its size: every character may be sent as an escape,
// `\u0041` (6 bytes), and one outside the Basic Multilingual Plane (an emoji) as an escaped
// surrogate pair, `\uD83D\uDE00` (12 bytes). Keys and punctuation are escaped as much, and
// JSON allows whitespace anywhere: `JSON_FRAME_BYTES` covers both for the bodies here (a few
// short keys each).

/// The most bytes one character takes in a JSON string.
const JSON_CHAR_BYTES: usize = 12;
/// The most bytes one ASCII character takes in a JSON string.
const JSON_ASCII_BYTES: usize = 6;
/// A body's keys, quotes, colons, commas and braces, escaped, with room for pretty-printing.
const JSON_FRAME_BYTES: usize = 2 * 1024;

/// A directory record id (`phoneId`): at most 64 ASCII characters (`directory::validate`).
const RECORD_ID_CHARS: usize = 64;
/// A `deviceId`: at most 128 ASCII characters (`DeviceId::parse`).
const DEVICE_ID_CHARS: usize = 128;
/// An E.164 number: `+` and at most 15 digits (`E164::parse_field`).
const E164_CHARS: usize = 16;
/// A `clientMessageId`: at most 64 ASCII characters (`http::api::sms_send`).
const CLIENT_MESSAGE_ID_CHARS: usize = 64;

/// Largest app request body accepted. The largest the contract allows is a device
/// registration: `deviceId` (128 × 6 = 768), `label` (64 characters × 12 = 768), `platform`,
/// `twilioState` and `capabilities` (under 50 ASCII characters × 6 = 300), `signIn`, and the
/// frame: under 4 KiB, so 8 KiB leaves room. The other app bodies are smaller (`phoneId`,
/// `with`, a SID, a `registrationId`: each at most 64 ASCII characters).
pub const MAX_APP_BODY_BYTES: usize = 8 * 1024;
const _: () = assert!(
    (DEVICE_ID_CHARS + 50) * JSON_ASCII_BYTES
        + crate::domain::Label::MAX_CHARS * JSON_CHAR_BYTES
        + JSON_FRAME_BYTES
        <= MAX_APP_BODY_BYTES
);
/// Largest body of a text to send: `body`, 1,600 characters of 12 bytes (19,200), then
/// `phoneId` (64), `to` (16) and `clientMessageId` (64) of 6 bytes (864), and the frame
/// (2,048): 22,112 bytes.
pub const MAX_SMS_SEND_BODY_BYTES: usize = crate::sms::message::MAX_BODY_CHARS * JSON_CHAR_BYTES
    + (RECORD_ID_CHARS + E164_CHARS + CLIENT_MESSAGE_ID_CHARS) * JSON_ASCII_BYTES
    + JSON_FRAME_BYTES;
/// Largest webhook body accepted. Twilio's largest is an incoming text: its `Body`, 1,600
/// characters form-encoded as up to 4 UTF-8 bytes of `%XX` (12 bytes each, 19,200), beside
/// ten `MediaUrl`s and a few kilobytes of other parameters.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 64 * 1024;
/// The largest body any route takes: what the local server reads before it routes a request
/// (the admin API's whole org); each route then holds its own limit.
pub const MAX_ANY_BODY_BYTES: usize = MAX_ADMIN_BODY_BYTES;
const _: () = assert!(
    MAX_ANY_BODY_BYTES >= MAX_APP_BODY_BYTES
        && MAX_ANY_BODY_BYTES >= MAX_SMS_SEND_BODY_BYTES
        && MAX_ANY_BODY_BYTES >= MAX_WEBHOOK_BODY_BYTES
);
const _: () = assert!(
    crate::sms::message::MAX_BODY_CHARS * JSON_CHAR_BYTES + 8 * 1024 <= MAX_WEBHOOK_BODY_BYTES
);

/// Largest body of the admin API: a whole org (up to 5,000 people, 1,000 groups and 1,000
/// numbers), or one record (a group of 100 members, each email possibly escaped). The issue's
/// bound: 1 MiB; an org at its limits in plain JSON is well under it.
pub const MAX_ADMIN_BODY_BYTES: usize = 1024 * 1024;
