//! The admin API (`/phone/admin/…`): an org's admins read and change its directory live, on
//! the import's validation and write path ([`crate::store::directory::write`]), with
//! optimistic concurrency (`ETag`, `If-Match`) and an audit log. Only a caller whose token
//! carries the admin claim, and only for the org in that token.
//!
//! | route | answers |
//! |---|---|
//! | `GET /phone/admin/directory` | the org in the file's shape, `ETag: "v<version>"` |
//! | `PUT /phone/admin/directory[?dryRun=true]` | the whole org replaced (`If-Match` required): what changed |
//! | `GET/PUT/DELETE /phone/admin/{users,groups,phones}/{key}` | one record, its own `ETag` |
//! | `GET /phone/admin/audit?before=&limit=` | the audit log, newest first |

use aws_lc_rs::digest;
use http::{HeaderValue, Method, StatusCode, header};
use serde::Serialize;
use serde_json::{Value, json};

use super::Answer;
use super::query::{limit, param, query};
use crate::directory::OrgDirectory;
use crate::directory::Problem;
use crate::domain::{Caller, IdentityStyle};
use crate::http::ErrorCode;
use crate::http::routes::{AdminRoute, RecordKind};
use crate::http::{ApiError, Request, Response, json_response};
use crate::store::DirectoryStore;
use crate::store::directory::write::{
    AuditEntry, OrgWrite, OrgWritten, RecordChanges, WriteRefused,
};

pub const DEFAULT_AUDIT_LIMIT: usize = 50;
pub const MAX_AUDIT_LIMIT: usize = 200;

/// How often a one-record change is tried again when another record of the org changed
/// between its read and its write (its own record unchanged: no conflict of the caller's).
const RECORD_WRITE_TRIES: usize = 3;

/// What the admin handlers need beyond the store: who, when, and how records are kept.
pub struct AdminContext<'a> {
    pub directory: &'a dyn DirectoryStore,
    pub caller: &'a Caller,
    pub now_ms: i64,
    pub style: IdentityStyle,
    pub audit_retention_days: u32,
}

impl AdminContext<'_> {
    /// The write of `org` by the caller, at the version `expected` at which they read `read`.
    fn write<'o>(
        &'o self,
        org: &'o OrgDirectory,
        read: &'o OrgDirectory,
        expected: u64,
        dry_run: bool,
    ) -> OrgWrite<'o> {
        OrgWrite {
            org,
            expected: Some(expected),
            actor: self.caller.email.as_str(),
            now_ms: self.now_ms,
            audit_expires_at: self.now_ms.div_euclid(1000)
                + i64::from(self.audit_retention_days) * 86_400,
            style: self.style,
            dry_run,
            may_take_numbers: false,
            keep_numbers: Default::default(),
            rewrite_views: false,
            read: Some(read),
        }
    }
}

/// Answer an admin route: 403 for anyone but an admin of their own org.
pub async fn admin(ctx: &AdminContext<'_>, route: AdminRoute, request: &Request) -> Answer {
    if !ctx.caller.admin {
        return Err(ApiError::Forbidden(
            "only an admin of your org may read or change its directory: your token carries no \
             admin claim",
        ));
    }
    match route {
        AdminRoute::Directory if request.method() == Method::PUT => {
            put_directory(ctx, request).await
        }
        AdminRoute::Directory => get_directory(ctx).await,
        AdminRoute::Audit => audit(ctx, request).await,
        AdminRoute::Record(kind) => {
            let key = record_key(kind, request)?;
            match *request.method() {
                Method::PUT => put_record(ctx, kind, &key, request).await,
                Method::DELETE => delete_record(ctx, kind, &key, request).await,
                _ => get_record(ctx, kind, &key).await,
            }
        }
    }
}

impl RecordKind {
    /// The path segment (`users`) and the record's key field (`email`).
    pub fn segment(self) -> &'static str {
        match self {
            Self::User => "users",
            Self::Group => "groups",
            Self::Phone => "phones",
        }
    }

    fn key_field(self) -> &'static str {
        match self {
            Self::User => "email",
            Self::Group | Self::Phone => "id",
        }
    }

    /// The record's key in the store and the audit (`user:alice@example.com`).
    fn record_key(self, key: &str) -> String {
        let kind = match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Phone => "phone",
        };
        format!("{kind}:{key}")
    }

    /// The org's records of this kind, as the file has them.
    fn records(self, org: &OrgDirectory) -> Vec<Value> {
        let all = match self {
            Self::User => serde_json::to_value(&org.users),
            Self::Group => serde_json::to_value(&org.groups),
            Self::Phone => serde_json::to_value(&org.phones),
        };
        match all {
            Ok(Value::Array(records)) => records,
            _ => Vec::new(),
        }
    }

    fn find(self, org: &OrgDirectory, key: &str) -> Option<Value> {
        self.records(org)
            .into_iter()
            .find(|r| self.key_of(r).is_some_and(|k| self.same_key(k, key)))
    }

    /// Emails are one whatever their case; ids are as written (`Sales` and `sales` are two).
    fn same_key(self, a: &str, b: &str) -> bool {
        match self {
            Self::User => a.eq_ignore_ascii_case(b),
            Self::Group | Self::Phone => a == b,
        }
    }

    fn key_of(self, record: &Value) -> Option<&str> {
        record.get(self.key_field()).and_then(Value::as_str)
    }
}

/// The record's key: the path's last segment, decoded (an email's `@` may come encoded).
fn record_key(kind: RecordKind, request: &Request) -> Result<String, ApiError> {
    let path = request.uri().path().trim_end_matches('/');
    // Percent-decoded as a path is: a `+` is a plus (an email may hold one), not a space.
    let raw = path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .replace('+', "%2B");
    let key: String = form_urlencoded::parse(format!("k={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if key.is_empty() || key.len() > 254 {
        return Err(
            crate::domain::FieldError::new(kind.key_field(), "is missing from the path").into(),
        );
    }
    Ok(if kind == RecordKind::User {
        key.to_lowercase()
    } else {
        key
    })
}

/// A record's `ETag`: the first 16 hex digits of the SHA-256 of its JSON.
fn record_etag(record: &Value) -> String {
    let json = serde_json::to_string(record).unwrap_or_default();
    let hash = digest::digest(&digest::SHA256, json.as_bytes());
    let hex: String = hash.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

fn org_etag(version: u64) -> String {
    format!("\"v{version}\"")
}

/// What a request's preconditions say.
enum Precondition {
    /// `If-Match`: these `ETag`s (or `*`: any current one).
    Match(Vec<String>),
    /// `If-None-Match: *`: only if there is none.
    Absent,
    None,
}

/// Longest `If-Match` or `If-None-Match` looked at: a few ETags.
const MAX_PRECONDITION_BYTES: usize = 200;

fn precondition(request: &Request) -> Result<Precondition, ApiError> {
    let header_text = |name: header::HeaderName, field: &'static str| {
        let Some(value) = request.headers().get(&name) else {
            return Ok(None);
        };
        if value.len() > MAX_PRECONDITION_BYTES {
            let message = format!("must be at most {MAX_PRECONDITION_BYTES} bytes");
            return Err(crate::domain::FieldError::new(field, message));
        }
        Ok(value.to_str().ok().map(str::trim).filter(|v| !v.is_empty()))
    };
    if let Some(tags) = header_text(header::IF_MATCH, "If-Match")? {
        let tags = tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/").to_owned())
            .collect();
        return Ok(Precondition::Match(tags));
    }
    Ok(match header_text(header::IF_NONE_MATCH, "If-None-Match")? {
        Some("*") => Precondition::Absent,
        _ => Precondition::None,
    })
}

fn matches(tags: &[String], etag: &str) -> bool {
    tags.iter().any(|t| t == "*" || t == etag)
}

fn precondition_required(what: &str) -> ApiError {
    ApiError::refused(
        ErrorCode::PreconditionRequired,
        format!("{what}: send If-Match with the ETag you read (or If-None-Match: * to create)"),
    )
}

fn stale(what: &str) -> ApiError {
    ApiError::refused(
        ErrorCode::PreconditionFailed,
        format!("{what} changed since you read it: read it again, then make your change"),
    )
}

fn with_etag(mut response: Response, etag: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// `400 invalid_directory`, every problem with its path.
fn invalid(problems: &[Problem]) -> Response {
    let problems: Vec<Value> = problems
        .iter()
        .map(|p| json!({ "path": p.path, "message": p.message }))
        .collect();
    let message = format!(
        "the directory would not be valid: {} problem(s)",
        problems.len()
    );
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "error": { "code": ErrorCode::InvalidDirectory.as_str(), "message": message,
                            "problems": problems } }),
    )
}

fn refused_write(refused: WriteRefused, what: &str) -> ApiError {
    match refused {
        WriteRefused::Stale { .. } => stale(what),
        WriteRefused::Busy => ApiError::refused(ErrorCode::Conflict, refused.to_string()),
        WriteRefused::NumberTaken { number } => ApiError::refused(
            ErrorCode::Conflict,
            format!("{number} is routed by another org: it cannot be one of yours"),
        ),
    }
}

/// A body's JSON object.
fn body_value(request: &Request) -> Result<Value, ApiError> {
    let value: Value = serde_json::from_slice(request.body())
        .map_err(|e| ApiError::MalformedBody(format!("body must be JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::MalformedBody("body must be a JSON object".into()));
    }
    Ok(value)
}

async fn get_directory(ctx: &AdminContext<'_>) -> Answer {
    let (org, version) = ctx.directory.org_with_version(&ctx.caller.org).await?;
    let response = json_response(StatusCode::OK, &org);
    Ok(with_etag(response, &org_etag(version)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replaced {
    version: String,
    dry_run: bool,
    #[serde(flatten)]
    changes: RecordChanges,
}

async fn put_directory(ctx: &AdminContext<'_>, request: &Request) -> Answer {
    let Precondition::Match(tags) = precondition(request)? else {
        return Err(precondition_required("the whole directory"));
    };
    let dry_run = match param(&query(request), "dryRun") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            let message = "must be true or false";
            return Err(crate::domain::FieldError::new("dryRun", message).into());
        }
    };
    let value = body_value(request)?;
    let org = match OrgDirectory::from_admin_value(&ctx.caller.org, &value, ctx.style) {
        Ok(org) => org,
        Err(problems) => return Ok(invalid(&problems)),
    };
    let (read, version) = ctx.directory.org_with_version(&ctx.caller.org).await?;
    if !matches(&tags, &org_etag(version)) {
        return Err(stale("your org's directory"));
    }
    let written = ctx
        .directory
        .write_org(&ctx.write(&org, &read, version, dry_run))
        .await?
        .map_err(|r| refused_write(r, "your org's directory"))?;
    let OrgWritten {
        version, changes, ..
    } = written;
    let etag = org_etag(version);
    let body = Replaced {
        version: etag.trim_matches('"').to_owned(),
        dry_run,
        changes,
    };
    Ok(with_etag(json_response(StatusCode::OK, &body), &etag))
}

async fn get_record(ctx: &AdminContext<'_>, kind: RecordKind, key: &str) -> Answer {
    let org = ctx.directory.org_directory(&ctx.caller.org).await?;
    let record = kind.find(&org, key).ok_or_else(|| not_found(kind, key))?;
    let etag = record_etag(&record);
    Ok(with_etag(json_response(StatusCode::OK, &record), &etag))
}

fn not_found(kind: RecordKind, key: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no {} {key:?} in your org",
        kind.record_key("").trim_end_matches(':')
    ))
}

/// The org with `record` put in the place of the record `key` (or appended), validated.
fn org_with(
    ctx: &AdminContext<'_>,
    org: &OrgDirectory,
    kind: RecordKind,
    key: &str,
    record: Option<&Value>,
) -> Result<OrgDirectory, Vec<Problem>> {
    let mut value = serde_json::to_value(org).unwrap_or(Value::Null);
    let list = value
        .as_object_mut()
        .map(|o| o.entry(kind.segment()).or_insert_with(|| json!([])));
    if let Some(Value::Array(records)) = list {
        let at = records
            .iter()
            .position(|r| kind.key_of(r).is_some_and(|k| kind.same_key(k, key)));
        match (at, record) {
            (Some(at), Some(record)) => records[at] = record.clone(),
            (None, Some(record)) => records.push(record.clone()),
            (Some(at), None) => {
                records.remove(at);
            }
            (None, None) => {}
        }
    }
    OrgDirectory::from_admin_value(&ctx.caller.org, &value, ctx.style)
}

async fn put_record(
    ctx: &AdminContext<'_>,
    kind: RecordKind,
    key: &str,
    request: &Request,
) -> Answer {
    let precondition = precondition(request)?;
    if matches!(precondition, Precondition::None) {
        return Err(precondition_required(kind.segment()));
    }
    let mut record = body_value(request)?;
    match record.get(kind.key_field()) {
        None => {
            record[kind.key_field()] = Value::from(key);
        }
        Some(given) if given.as_str().is_some_and(|g| kind.same_key(g, key)) => {}
        Some(_) => {
            let message = format!("must be {key:?}, the record's key in the path");
            return Err(crate::domain::FieldError::new(kind.key_field(), message).into());
        }
    }
    let changed = change_record(ctx, key, |org| {
        // The body first: a record that could never be written is 400 whatever its ETag.
        let new_org = match org_with(ctx, org, kind, key, Some(&record)) {
            Ok(new_org) => new_org,
            Err(problems) => return Ok(Step::Answer(invalid(&problems))),
        };
        let status = match (&precondition, &kind.find(org, key)) {
            (Precondition::Absent, Some(_)) => {
                return Err(ApiError::refused(
                    ErrorCode::PreconditionFailed,
                    format!(
                        "{} {key:?} exists already: read it and send If-Match to replace it",
                        kind.segment()
                    ),
                ));
            }
            (Precondition::Absent, None) => StatusCode::CREATED,
            (Precondition::Match(_), None) => return Err(not_found(kind, key)),
            (Precondition::Match(tags), Some(current)) => {
                if !matches(tags, &record_etag(current)) {
                    return Err(stale(&format!("{key:?}")));
                }
                StatusCode::OK
            }
            (Precondition::None, _) => return Err(precondition_required(kind.segment())),
        };
        Ok(Step::Write(new_org, status))
    })
    .await?;
    Ok(match changed {
        Step::Write(new_org, status) => {
            let stored = kind.find(&new_org, key).unwrap_or(Value::Null);
            let etag = record_etag(&stored);
            with_etag(json_response(status, &stored), &etag)
        }
        Step::Answer(response) => response,
    })
}

/// What a one-record change makes of the org as read: the org to write (and the status to
/// answer once it is written), or an answer at once.
enum Step {
    Write(OrgDirectory, StatusCode),
    Answer(Response),
}

/// Read the org, let `change` decide, and write what it decided at the version read. When
/// another record of the org changed in between, the org is read and `change` decides again
/// (so the record's own ETag is checked again): only the record's own change is a conflict.
async fn change_record(
    ctx: &AdminContext<'_>,
    key: &str,
    change: impl Fn(&OrgDirectory) -> Result<Step, ApiError>,
) -> Result<Step, ApiError> {
    for _ in 0..RECORD_WRITE_TRIES {
        let (org, version) = ctx.directory.org_with_version(&ctx.caller.org).await?;
        let (new_org, status) = match change(&org)? {
            Step::Write(new_org, status) => (new_org, status),
            answer @ Step::Answer(_) => return Ok(answer),
        };
        match ctx
            .directory
            .write_org(&ctx.write(&new_org, &org, version, false))
            .await?
        {
            Ok(_) => return Ok(Step::Write(new_org, status)),
            Err(WriteRefused::Stale { .. }) => continue,
            Err(refused) => return Err(refused_write(refused, &format!("{key:?}"))),
        }
    }
    Err(ApiError::refused(
        ErrorCode::Conflict,
        "your org's directory is changing too often to write this now; try again",
    ))
}

/// What in the org refers to the record (`phone:phone-sales`): it cannot go while they do.
fn referenced_by(org: &OrgDirectory, kind: RecordKind, key: &str) -> Vec<String> {
    use crate::directory::Assignment;
    let mut refs = Vec::new();
    match kind {
        RecordKind::User => {
            for group in &org.groups {
                if group
                    .members
                    .iter()
                    .any(|m| m.as_str().eq_ignore_ascii_case(key))
                {
                    refs.push(format!("group:{}", group.id));
                }
            }
            for phone in &org.phones {
                if matches!(&phone.assignment, Assignment::User(e) if e.as_str().eq_ignore_ascii_case(key))
                {
                    refs.push(format!("phone:{}", phone.id));
                }
            }
        }
        RecordKind::Group => {
            for phone in &org.phones {
                if matches!(&phone.assignment, Assignment::Group(g) if g == key) {
                    refs.push(format!("phone:{}", phone.id));
                }
            }
        }
        RecordKind::Phone => {}
    }
    refs
}

async fn delete_record(
    ctx: &AdminContext<'_>,
    kind: RecordKind,
    key: &str,
    request: &Request,
) -> Answer {
    let Precondition::Match(tags) = precondition(request)? else {
        return Err(precondition_required(kind.segment()));
    };
    let changed = change_record(ctx, key, |org| {
        let current = kind.find(org, key).ok_or_else(|| not_found(kind, key))?;
        if !matches(&tags, &record_etag(&current)) {
            return Err(stale(&format!("{key:?}")));
        }
        let refs = referenced_by(org, kind, key);
        if !refs.is_empty() {
            let message = format!(
                "{key:?} cannot be deleted while {} refer to it: change them first",
                refs.join(", ")
            );
            return Ok(Step::Answer(json_response(
                StatusCode::CONFLICT,
                &json!({ "error": { "code": ErrorCode::Conflict.as_str(), "message": message,
                                    "referencedBy": refs } }),
            )));
        }
        match org_with(ctx, org, kind, key, None) {
            Ok(new_org) => Ok(Step::Write(new_org, StatusCode::NO_CONTENT)),
            Err(problems) => Ok(Step::Answer(invalid(&problems))),
        }
    })
    .await?;
    Ok(match changed {
        Step::Write(_, status) => {
            let mut response = Response::new(bytes::Bytes::new());
            *response.status_mut() = status;
            response
        }
        Step::Answer(response) => response,
    })
}

#[derive(Serialize)]
struct AuditResponse<'a> {
    entries: &'a [AuditEntry],
    cursor: Option<&'a str>,
}

async fn audit(ctx: &AdminContext<'_>, request: &Request) -> Answer {
    let params = query(request);
    let limit = limit(&params, DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT)?;
    let before = param(&params, "before").filter(|b| !b.is_empty());
    if let Some(before) = before
        && (before.len() > 64 || !before.chars().all(|c| c.is_ascii_hexdigit() || c == ':'))
    {
        return Err(
            crate::domain::FieldError::new("before", "must be a cursor this API gave").into(),
        );
    }
    let page = ctx
        .directory
        .audit_log(&ctx.caller.org, before, limit, ctx.now_ms)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &AuditResponse {
            entries: &page.entries,
            cursor: page.cursor.as_deref(),
        },
    ))
}
