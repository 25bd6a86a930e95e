//! A request's query string, read the way every app endpoint reads it: parameters by name, a
//! required one, a page size within bounds (each refusal naming its field).

use crate::domain::FieldError;
use crate::http::Request;

/// The query string's parameters.
pub(super) fn query(request: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn required<'a>(
    params: &'a [(String, String)],
    name: &str,
) -> Result<&'a str, FieldError> {
    param(params, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| FieldError::new(name, "is required"))
}

pub(super) fn limit(
    params: &[(String, String)],
    default: usize,
    max: usize,
) -> Result<usize, FieldError> {
    match param(params, "limit") {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                FieldError::new("limit", format!("must be a whole number from 1 to {max}"))
            }),
    }
}
