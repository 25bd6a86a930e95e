//! App JWT verification with everything that does not depend on the token prepared once.
//!
//! `jsonwebtoken::decode` builds a new verifier (an HMAC key, or a public key parse) for
//! every token, parses the header twice and the claims twice (into the caller's type and into
//! its own validation struct), and hands the claims back as a map the caller then searches.
//! On the heartbeat path that was a fifth of the server's CPU per request. This verifier
//! keeps the key ready (`hmac::Key`, `ParsedPublicKey`), parses the header once with
//! `jsonwebtoken::Header` (and not at all when its segment is one a verified token already
//! carried), and reads the claims in one pass, keeping only the registered
//! claims it validates and the two it was configured to return (borrowed where unescaped).
//!
//! What it accepts and refuses, and why (the `ErrorKind` it reports), is exactly
//! `jsonwebtoken::decode` with the `Validation` [`super::Authenticator`] used to build; the
//! property test `jwt_verifier_agrees_with_jsonwebtoken` in `tests/properties.rs` holds it to
//! that over generated tokens.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

use aws_lc_rs::{hmac, signature};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The key a token's signature is checked with, prepared at start-up. (`hmac::Key` holds
/// the precomputed inner and outer digest states: over a kilobyte, hence boxed.)
enum Key {
    Hmac(Box<hmac::Key>),
    Public(signature::ParsedPublicKey),
}

/// What [`Verifier::verify`] needs besides the token: fixed at start-up.
pub struct Verifier {
    algorithm: Algorithm,
    key: Key,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_seconds: u64,
    /// The two claims handed back, by the names the configuration gives them.
    wanted: [String; 2],
    /// Header segments (base64url, as sent) of tokens that passed: an issuer sends the same
    /// one or two (a `kid` per signing key) in every token, and a segment seen to decode,
    /// parse and name the pinned algorithm does so again, so it is compared, not re-parsed
    /// (a fifth of a verification). Only verified tokens add to it, and at most a few.
    known_headers: RwLock<Vec<Box<str>>>,
}

/// How many header segments [`Verifier`] remembers.
const KNOWN_HEADERS: usize = 4;

/// A claim's value as the caller receives it: a non-empty string, or a number's decimal form.
/// Anything else (absent, null, empty, a bool, an object, an array) is `None`.
type ClaimText<'t> = Option<Cow<'t, str>>;

impl Verifier {
    /// `key` is the `DecodingKey` jsonwebtoken parsed from the configuration (it owns the PEM
    /// handling); `algorithm` one of HS256, RS256, ES256.
    pub fn new(
        algorithm: Algorithm,
        key: &DecodingKey,
        issuer: Option<&str>,
        audience: Option<&str>,
        leeway_seconds: u64,
        wanted: [&str; 2],
    ) -> Result<Self, super::KeyError> {
        let bytes = key
            .try_get_as_bytes()
            .map_err(|_| super::KeyError("the app JWT key has no usable key bytes".to_owned()))?;
        let public = |alg: &'static dyn signature::VerificationAlgorithm| {
            signature::ParsedPublicKey::new(alg, bytes)
                .map(Key::Public)
                .map_err(|e| {
                    super::KeyError(format!(
                        "APP_JWT_PUBLIC_KEY is not a usable public key: {e}"
                    ))
                })
        };
        let key = match algorithm {
            Algorithm::HS256 => Key::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA256, bytes))),
            Algorithm::RS256 => public(&signature::RSA_PKCS1_2048_8192_SHA256)?,
            Algorithm::ES256 => public(&signature::ECDSA_P256_SHA256_FIXED)?,
            other => {
                return Err(super::KeyError(format!(
                    "app JWT algorithm {other:?} is not supported"
                )));
            }
        };
        Ok(Self {
            algorithm,
            key,
            issuer: issuer.map(str::to_owned),
            audience: audience.map(str::to_owned),
            leeway_seconds,
            wanted: wanted.map(str::to_owned),
            known_headers: RwLock::new(Vec::new()),
        })
    }

    /// The two wanted claims of a valid token, in the order they were named, at `now` (epoch
    /// seconds).
    /// Each is a non-empty string, or a number's decimal form, or `None` when the claim is
    /// absent or anything else.
    pub fn verify(&self, token: &str, now: u64) -> Result<[Option<String>; 2], Error> {
        // Split as jsonwebtoken does: from the right, so any extra dot lands in the header.
        let (signature, message) = split_last_dot(token)?;
        let (payload, header) = split_last_dot(message)?;
        let known_header = self.knows_header(header);
        if !known_header {
            let parsed: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header)?)?;
            if parsed.alg != self.algorithm {
                return Err(ErrorKind::InvalidAlgorithm.into());
            }
        }
        let signature = URL_SAFE_NO_PAD.decode(signature)?;
        let verified = match &self.key {
            Key::Hmac(key) => hmac::verify(key, message.as_bytes(), &signature).is_ok(),
            Key::Public(key) => key.verify_sig(message.as_bytes(), &signature).is_ok(),
        };
        if !verified {
            return Err(ErrorKind::InvalidSignature.into());
        }
        let payload = URL_SAFE_NO_PAD.decode(payload)?;
        let claims = Claims::parse(&payload, &self.wanted)?;
        self.validate(&claims, now)?;
        if !known_header {
            self.remember_header(header);
        }
        Ok(claims.wanted.map(|c| c.map(Cow::into_owned)))
    }

    fn knows_header(&self, segment: &str) -> bool {
        // A poisoned lock only means a panic elsewhere mid-push; parsing again is always right.
        self.known_headers
            .read()
            .is_ok_and(|known| known.iter().any(|h| **h == *segment))
    }

    fn remember_header(&self, segment: &str) {
        if let Ok(mut known) = self.known_headers.write()
            && known.len() < KNOWN_HEADERS
            && !known.iter().any(|h| **h == *segment)
        {
            known.push(segment.into());
        }
    }

    fn validate(&self, claims: &Claims<'_>, now: u64) -> Result<(), Error> {
        let missing = |name: &str| Error::from(ErrorKind::MissingRequiredClaim(name.to_owned()));
        if !matches!(claims.exp, Registered::Parsed(_)) {
            return Err(missing("exp"));
        }
        if self.issuer.is_some() && !matches!(claims.iss, Registered::Parsed(_)) {
            return Err(missing("iss"));
        }
        if self.audience.is_some() && !matches!(claims.aud, Registered::Parsed(_)) {
            return Err(missing("aud"));
        }
        if matches!(claims.nbf, Registered::Malformed) {
            return Err(ErrorKind::InvalidClaimFormat("nbf".to_owned()).into());
        }
        if matches!(claims.exp, Registered::Parsed(exp) if exp < now.saturating_sub(self.leeway_seconds))
        {
            return Err(ErrorKind::ExpiredSignature.into());
        }
        if matches!(claims.nbf, Registered::Parsed(nbf) if nbf > now + self.leeway_seconds) {
            return Err(ErrorKind::ImmatureSignature.into());
        }
        if let (Registered::Parsed(iss), Some(wanted)) = (&claims.iss, &self.issuer)
            && !iss.names(wanted)
        {
            return Err(ErrorKind::InvalidIssuer.into());
        }
        if let (Registered::Parsed(aud), Some(wanted)) = (&claims.aud, &self.audience)
            && !aud.names(wanted)
        {
            return Err(ErrorKind::InvalidAudience.into());
        }
        Ok(())
    }
}

fn split_last_dot(text: &str) -> Result<(&str, &str), Error> {
    text.rsplit_once('.')
        .map(|(rest, last)| (last, rest))
        .ok_or_else(|| ErrorKind::InvalidToken.into())
}

/// A registered claim (`exp`, `nbf`, `iss`, `aud`) as validation sees it: a claim of the
/// wrong type is not the same as an absent one.
#[derive(Default)]
enum Registered<T> {
    #[default]
    Absent,
    Malformed,
    Parsed(T),
}

/// `iss` and `aud`: one string or a list of them.
enum Names<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl Names<'_> {
    fn names(&self, wanted: &str) -> bool {
        match self {
            Self::One(name) => name == wanted,
            Self::Many(names) => names.iter().any(|n| n == wanted),
        }
    }
}

#[derive(Default)]
struct Claims<'a> {
    exp: Registered<u64>,
    nbf: Registered<u64>,
    iss: Registered<Names<'a>>,
    aud: Registered<Names<'a>>,
    wanted: [ClaimText<'a>; 2],
}

impl<'a> Claims<'a> {
    fn parse(json: &'a [u8], wanted: &[String; 2]) -> Result<Self, Error> {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let claims = ClaimsSeed { wanted }.deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(claims)
    }
}

struct ClaimsSeed<'w> {
    wanted: &'w [String; 2],
}

impl<'de> DeserializeSeed<'de> for ClaimsSeed<'_> {
    type Value = Claims<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsSeed<'_> {
    type Value = Claims<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut claims = Claims::default();
        // jsonwebtoken refuses a token whose registered claims appear twice (its validation
        // struct is a derived `Deserialize`); other names may repeat, and the last one counts,
        // as in the map it returns.
        let mut seen = [false; 5];
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            let registered = ["exp", "nbf", "sub", "iss", "aud"]
                .iter()
                .position(|r| *r == name);
            let wanted = [0, 1].map(|i| self.wanted[i] == name);
            if registered.is_none() && !wanted.contains(&true) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if let Some(i) = registered {
                if seen[i] {
                    return Err(de::Error::custom(format_args!("duplicate field `{name}`")));
                }
                seen[i] = true;
            }
            let value = map.next_value::<Raw<'de>>()?;
            for (slot, wanted) in claims.wanted.iter_mut().zip(wanted) {
                if wanted {
                    *slot = value.text();
                }
            }
            match registered {
                Some(0) => claims.exp = value.numeric_date(),
                Some(1) => claims.nbf = value.numeric_date(),
                Some(3) => claims.iss = value.names(),
                Some(4) => claims.aud = value.names(),
                _ => {}
            }
        }
        Ok(claims)
    }
}

/// One claim's JSON value, as much of it as any use here needs.
enum Raw<'a> {
    Text(Cow<'a, str>),
    Texts(Vec<Cow<'a, str>>),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Null,
    Other,
}

impl<'a> Raw<'a> {
    /// `exp`/`nbf`: a non-negative number, floats rounded (jsonwebtoken's `NumericDate`).
    fn numeric_date(&self) -> Registered<u64> {
        match *self {
            Self::Unsigned(n) => Registered::Parsed(n),
            Self::Float(f) if f.is_finite() && f >= 0.0 && f < u64::MAX as f64 => {
                Registered::Parsed(f.round() as u64)
            }
            _ => Registered::Malformed,
        }
    }

    fn names(self) -> Registered<Names<'a>> {
        match self {
            Self::Null => Registered::Absent,
            Self::Text(t) => Registered::Parsed(Names::One(t)),
            Self::Texts(list) => Registered::Parsed(Names::Many(list)),
            _ => Registered::Malformed,
        }
    }

    /// As `serde_json::Value` would print it: numbers in their decimal form.
    fn text(&self) -> ClaimText<'a> {
        match self {
            Self::Text(t) if !t.is_empty() => Some(t.clone()),
            Self::Unsigned(n) => Some(Cow::Owned(n.to_string())),
            Self::Signed(n) => Some(Cow::Owned(n.to_string())),
            Self::Float(f) => serde_json::Number::from_f64(*f).map(|n| Cow::Owned(n.to_string())),
            _ => None,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Raw<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Raw::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Raw::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Raw::Text(Cow::Owned(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Raw::Unsigned(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Raw::Signed(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Raw::Float(v))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Raw::Other)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Raw::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Raw::Other)
    }

    /// A list of strings (as `iss`/`aud` may be); any other list is `Other`.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut texts = Vec::new();
        let mut only_text = true;
        while let Some(item) = seq.next_element::<Raw<'de>>()? {
            match item {
                Raw::Text(t) if only_text => texts.push(t),
                _ => only_text = false,
            }
        }
        Ok(if only_text {
            Raw::Texts(texts)
        } else {
            Raw::Other
        })
    }
}
