//! Reading the app-auth section: how app tokens are verified (`AUTH_MODE`; one key source of
//! `APP_JWT_SECRET`, `APP_JWT_PUBLIC_KEY`, `APP_JWT_JWKS_URL`), which issuers and audience they
//! must name, where the caller is in their claims and which claim values they must carry.

use super::reader::Reader;
use super::{AppAuthConfig, AppJwtKey, ClaimNames, JwksConfig, RequiredClaim};

/// The app-auth section, or `None` with the problems added to `r`.
pub(super) fn read(r: &mut Reader<'_>) -> Option<AppAuthConfig> {
    let claims = ClaimNames {
        email: r
            .optional("APP_JWT_EMAIL_CLAIM")
            .unwrap_or_else(|| "email".into()),
        org: r
            .optional("APP_JWT_ORG_CLAIM")
            .unwrap_or_else(|| "orgId".into()),
        required: required_claims(r),
        admin: admin_claim(r),
    };
    match r.optional("AUTH_MODE").as_deref() {
        Some("gateway") => return Some(AppAuthConfig::Gateway { claims }),
        None | Some("jwt") => {}
        Some(other) => {
            r.problems.push(format!(
                "AUTH_MODE must be \"jwt\" or \"gateway\", got {other:?}"
            ));
            return None;
        }
    }
    let key = key(r)?;
    Some(AppAuthConfig::Jwt {
        key,
        issuers: r
            .optional("APP_JWT_ISSUER")
            .map(|raw| list(&raw))
            .unwrap_or_default(),
        audience: r.optional("APP_JWT_AUDIENCE"),
        claims,
    })
}

/// `APP_JWT_ADMIN_CLAIM` and `APP_JWT_ADMIN_VALUE`, both or neither.
fn admin_claim(r: &mut Reader<'_>) -> Option<RequiredClaim> {
    match (
        r.optional("APP_JWT_ADMIN_CLAIM"),
        r.optional("APP_JWT_ADMIN_VALUE"),
    ) {
        (Some(name), Some(value)) => Some(RequiredClaim { name, value }),
        (None, None) => None,
        _ => {
            r.problems.push(
                "set both APP_JWT_ADMIN_CLAIM (the claim, e.g. cognito:groups) and \
                 APP_JWT_ADMIN_VALUE (the value that makes an admin, e.g. phone-admin), or neither"
                    .into(),
            );
            None
        }
    }
}

/// Exactly one of the three key sources.
fn key(r: &mut Reader<'_>) -> Option<AppJwtKey> {
    let secret = r.optional("APP_JWT_SECRET");
    let pem = r.optional("APP_JWT_PUBLIC_KEY");
    let jwks = r.optional("APP_JWT_JWKS_URL");
    let min_refresh_seconds = r.number("APP_JWT_JWKS_MIN_REFRESH_SECONDS", 300, 1, 86_400);
    match (secret, pem, jwks) {
        (Some(secret), None, None) => Some(AppJwtKey::Secret(secret.into())),
        // Lambda environment variables cannot hold newlines easily: accept `\n` escapes.
        (None, Some(pem), None) => Some(AppJwtKey::PublicKeyPem(pem.replace("\\n", "\n"))),
        (None, None, Some(url)) => {
            // http:// is for tests and local providers; Authenticator warns when it is used.
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                r.problems
                    .push("APP_JWT_JWKS_URL must start with https:// (or http://)".into());
            }
            Some(AppJwtKey::Jwks(JwksConfig {
                url,
                min_refresh_seconds,
            }))
        }
        (None, None, None) => {
            r.problems.push(
                "APP_JWT_SECRET, APP_JWT_PUBLIC_KEY or APP_JWT_JWKS_URL is required to verify \
                 app tokens (or AUTH_MODE=gateway behind an API Gateway JWT authorizer)"
                    .into(),
            );
            None
        }
        _ => {
            r.problems.push(
                "set only one of APP_JWT_SECRET (HS256), APP_JWT_PUBLIC_KEY (RS256/ES256) and \
                 APP_JWT_JWKS_URL (an identity provider's keys)"
                    .into(),
            );
            None
        }
    }
}

/// `APP_JWT_REQUIRED_CLAIMS`: comma-separated `name=value` pairs.
fn required_claims(r: &mut Reader<'_>) -> Vec<RequiredClaim> {
    let Some(raw) = r.optional("APP_JWT_REQUIRED_CLAIMS") else {
        return Vec::new();
    };
    let mut required = Vec::new();
    for pair in list(&raw) {
        match pair.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() && !value.trim().is_empty() => {
                required.push(RequiredClaim {
                    name: name.trim().to_owned(),
                    value: value.trim().to_owned(),
                });
            }
            _ => r.problems.push(format!(
                "APP_JWT_REQUIRED_CLAIMS must be comma-separated name=value pairs such as \
                 token_use=id,email_verified=true, got {pair:?}"
            )),
        }
    }
    required
}

/// The non-empty items of a comma-separated list, trimmed.
fn list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}
