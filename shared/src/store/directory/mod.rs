//! The directory store: each org's numbers, groups and users, and the two views a call or a
//! request reads in one lookup (a number's route, a user's profile). Here the trait; an org as
//! records in [`records`]; the one write path (import and admin API alike, both stores
//! planning the same way) in [`write`]; an import in [`import`]; implemented in `memory.rs`
//! and `dynamo/`.

mod dynamo;
pub mod import;
pub(super) mod memory;
pub mod records;
pub mod write;

use async_trait::async_trait;

use self::import::ImportReport;
use self::write::{AuditPage, OrgWrite, OrgWritten, WriteRefused};
use super::StoreError;
use crate::directory::{Directory, Notifications, NumberRoute, OrgDirectory, UserProfile};
use crate::domain::{E164, IdentityStyle, OrgId, UserKey};

#[async_trait]
pub trait DirectoryStore: Send + Sync {
    /// One org's phones and groups (empty when the org has none).
    async fn org_directory(&self, org: &OrgId) -> Result<OrgDirectory, StoreError>;

    /// Everything needed to route a call to `number`, in one read.
    async fn route_for_number(&self, number: &E164) -> Result<Option<NumberRoute>, StoreError>;

    /// A user of the directory (their org, numbers, direct line), in one read.
    async fn user(&self, key: &UserKey) -> Result<Option<UserProfile>, StoreError>;

    /// Replace the directories of the orgs in `directory` (other orgs are left alone), each
    /// person's profile keyed by their identity in `style`.
    /// Idempotent: importing the same file twice changes nothing the second time.
    async fn import(
        &self,
        directory: &Directory,
        style: IdentityStyle,
    ) -> Result<ImportReport, StoreError>;

    async fn export(&self) -> Result<Directory, StoreError>;

    /// One org's directory and its version (0 before its first write; each write that changes
    /// its records adds one): what an admin's `ETag` names.
    async fn org_with_version(&self, org: &OrgId) -> Result<(OrgDirectory, u64), StoreError>;

    /// The one write path of an org's directory ([`write`]): the org as it should be, if it is
    /// still at the version expected; only what differs is written, each changed record with
    /// its audit entry, and the people whose numbers changed are told.
    async fn write_org(
        &self,
        write: &OrgWrite<'_>,
    ) -> Result<Result<OrgWritten, WriteRefused>, StoreError>;

    /// The org's audit log before the position `before`, newest first, live at `now_ms`.
    async fn audit_log(
        &self,
        org: &OrgId,
        before: Option<&str>,
        limit: usize,
        now_ms: i64,
    ) -> Result<AuditPage, StoreError>;

    /// The org's `notifications` settings (what its alerts show), in one read.
    async fn notifications(&self, org: &OrgId) -> Result<Notifications, StoreError>;

    /// The next turn of a round-robin group (1, 2, 3, …): one atomic increment, so concurrent
    /// calls each get their own turn, none lost or repeated.
    async fn next_turn(&self, org: &OrgId, group_id: &str) -> Result<u64, StoreError>;
}
