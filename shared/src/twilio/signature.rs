//! `X-Twilio-Signature`, computed and checked as Twilio's helper libraries do: HMAC-SHA1 of
//! the public URL followed by the sorted POST parameters, keyed with the auth token, base64;
//! both port forms of the URL accepted; JSON bodies by their `bodySHA256`. While the auth token
//! is rotated, a signature by the secondary token is accepted too ([`SignatureKeys`]).

use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The string Twilio signs: the URL, then each parameter name immediately followed by its
/// value, names in byte order, a repeated name's distinct values sorted.
fn signed_payload(url: &str, params: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut payload = url.as_bytes().to_vec();
    for (name, value) in sorted {
        payload.extend_from_slice(name.as_bytes());
        payload.extend_from_slice(value.as_bytes());
    }
    payload
}

/// The signature Twilio would send for a request to `url` with form `params`.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    SignatureKey::new(auth_token).sign(url, params)
}

/// Lower-case hex SHA-256 of a JSON body, as Twilio puts in `bodySHA256`.
pub fn body_sha256(body: &[u8]) -> String {
    crate::domain::lower_hex(digest::digest(&digest::SHA256, body).as_ref())
}

/// The URL with its port toggled: the default port added when absent, removed when present.
/// Twilio's libraries accept a signature over either form.
fn port_variant(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let (userinfo, hostport) = authority.split_at(host_start);
    // An IPv6 literal's colons are inside brackets; a port colon comes after `]`.
    let port_colon = hostport
        .rfind(':')
        .filter(|&i| !hostport[i..].contains(']'));
    let new_hostport = match port_colon {
        Some(i) => hostport[..i].to_owned(),
        None => format!("{hostport}:{default_port}"),
    };
    Some(format!("{scheme}://{userinfo}{new_hostport}{tail}"))
}

/// The auth token's HMAC key, derived once (at start-up for the webhooks) instead of for every
/// request it checks.
pub struct SignatureKey(hmac::Key);

impl SignatureKey {
    pub fn new(auth_token: &str) -> Self {
        Self(hmac::Key::new(
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            auth_token.as_bytes(),
        ))
    }

    /// The signature Twilio would send with this token for a request to `url` with form
    /// `params`.
    pub fn sign(&self, url: &str, params: &[(String, String)]) -> String {
        STANDARD.encode(hmac::sign(&self.0, &signed_payload(url, params)).as_ref())
    }

    /// Whether `signature` is Twilio's for this URL and these parameters, trying both port
    /// forms. The comparison is constant-time.
    pub fn is_valid(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        let Ok(tag) = STANDARD.decode(signature.trim()) else {
            return false;
        };
        std::iter::once(url.to_owned())
            .chain(port_variant(url))
            .any(|candidate| {
                hmac::verify(&self.0, &signed_payload(&candidate, params), &tag).is_ok()
            })
    }

    /// For JSON bodies: the URL (which carries `bodySHA256`) is signed with no parameters, and
    /// the body must hash to that value.
    pub fn is_valid_json(&self, url: &str, body: &[u8], signature: &str) -> bool {
        let claimed = url
            .split_once('?')
            .into_iter()
            .flat_map(|(_, query)| form_urlencoded::parse(query.as_bytes()))
            .find(|(k, _)| k == "bodySHA256")
            .map(|(_, v)| v.into_owned());
        let hash_ok = claimed.is_some_and(|claimed| {
            let actual = body_sha256(body);
            // Not secret, but compare in constant time anyway: it costs nothing.
            aws_lc_rs::constant_time::verify_slices_are_equal(claimed.as_bytes(), actual.as_bytes())
                .is_ok()
        });
        hash_ok && self.is_valid(url, &[], signature)
    }
}

/// The auth token's key and, while the token is rotated, the secondary token's: Twilio signs
/// with its primary token, which is ours until the secondary is promoted, then the secondary.
pub struct SignatureKeys {
    primary: SignatureKey,
    secondary: Option<SignatureKey>,
}

impl SignatureKeys {
    pub fn new(auth_token: &str, secondary: Option<&str>) -> Self {
        Self {
            primary: SignatureKey::new(auth_token),
            secondary: secondary.map(SignatureKey::new),
        }
    }

    /// The auth token's key: what Twilio signs with, so what signs a webhook this service
    /// passes on as Twilio would.
    pub fn primary(&self) -> &SignatureKey {
        &self.primary
    }

    fn each(&self) -> impl Iterator<Item = &SignatureKey> {
        std::iter::once(&self.primary).chain(&self.secondary)
    }

    /// [`SignatureKey::is_valid`] by either key.
    pub fn is_valid(&self, url: &str, params: &[(String, String)], signature: &str) -> bool {
        self.each().any(|key| key.is_valid(url, params, signature))
    }

    /// [`SignatureKey::is_valid_json`] by either key.
    pub fn is_valid_json(&self, url: &str, body: &[u8], signature: &str) -> bool {
        self.each()
            .any(|key| key.is_valid_json(url, body, signature))
    }
}

/// [`SignatureKey::is_valid`] for a one-off check (tools and tests).
pub fn is_valid(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    SignatureKey::new(auth_token).is_valid(url, params, signature)
}

/// [`SignatureKey::is_valid_json`] for a one-off check (tools and tests).
pub fn is_valid_json(auth_token: &str, url: &str, body: &[u8], signature: &str) -> bool {
    SignatureKey::new(auth_token).is_valid_json(url, body, signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn voice_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    #[test]
    fn twilio_python_vector_form_post() {
        assert_eq!(
            sign("12345", URL, &voice_params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(is_valid(
            "12345",
            URL,
            &voice_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn twilio_python_vector_with_port_validates_both_ways() {
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign("12345", with_port, &voice_params()),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        // Signed with the port, received without it, and the reverse.
        assert!(is_valid(
            "12345",
            URL,
            &voice_params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        assert!(is_valid(
            "12345",
            with_port,
            &voice_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn twilio_python_vector_repeated_parameters() {
        let p = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        assert_eq!(sign("12345", URL, &p), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
        assert!(is_valid("12345", URL, &p, "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
    }

    #[test]
    fn twilio_python_vector_json_body() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = body_sha256(body);
        assert_eq!(
            hash,
            "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        );
        let url = format!("{URL}&bodySHA256={hash}");
        assert!(is_valid_json(
            "12345",
            &url,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!is_valid_json(
            "12345",
            &url,
            b"{\"property\": \"other\"}",
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
    }

    #[test]
    fn wrong_token_url_params_or_garbage_fail() {
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(!is_valid("54321", URL, &voice_params(), good));
        assert!(!is_valid(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &voice_params(),
            good
        ));
        let mut tampered = voice_params();
        tampered[4].1 = "+18005550000".into();
        assert!(!is_valid("12345", URL, &tampered, good));
        assert!(!is_valid("12345", URL, &voice_params(), "not base64!"));
        assert!(!is_valid("12345", URL, &voice_params(), ""));
    }

    #[test]
    fn either_token_of_a_rotation_validates_and_no_other() {
        let signed_by = |token: &str| sign(token, URL, &voice_params());
        let keys = SignatureKeys::new("old-token", Some("new-token"));
        assert!(keys.is_valid(URL, &voice_params(), &signed_by("old-token")));
        assert!(keys.is_valid(URL, &voice_params(), &signed_by("new-token")));
        assert!(!keys.is_valid(URL, &voice_params(), &signed_by("other-token")));
        let primary_only = SignatureKeys::new("old-token", None);
        assert!(!primary_only.is_valid(URL, &voice_params(), &signed_by("new-token")));
        let body = br#"{"property": "value", "boolean": true}"#;
        let url = format!("{URL}&bodySHA256={}", body_sha256(body));
        let json_signature = sign("new-token", &url, &[]);
        assert!(keys.is_valid_json(&url, body, &json_signature));
        assert!(!primary_only.is_valid_json(&url, body, &json_signature));
    }

    #[test]
    fn port_variants() {
        assert_eq!(
            port_variant("https://a.b/x").as_deref(),
            Some("https://a.b:443/x")
        );
        assert_eq!(
            port_variant("https://a.b:443/x?y=1").as_deref(),
            Some("https://a.b/x?y=1")
        );
        assert_eq!(port_variant("http://a.b").as_deref(), Some("http://a.b:80"));
        assert_eq!(
            port_variant("http://[::1]:8080/p").as_deref(),
            Some("http://[::1]/p")
        );
    }
}
