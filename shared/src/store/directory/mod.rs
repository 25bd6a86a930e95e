//! The directory store: each org's numbers, groups and users as imported, and the two views a
//! call or a request reads in one lookup (a number's route, a user's profile). Here the trait;
//! how an import is diffed (both stores report alike) in [`import`]; implemented in
//! `memory.rs` and `dynamo.rs`.

mod dynamo;
pub mod import;
pub(super) mod memory;

use async_trait::async_trait;

use self::import::ImportReport;
use super::StoreError;
use crate::directory::{Directory, NumberRoute, OrgDirectory, UserProfile};
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

    /// The next turn of a round-robin group (1, 2, 3, …): one atomic increment, so concurrent
    /// calls each get their own turn, none lost or repeated.
    async fn next_turn(&self, org: &OrgId, group_id: &str) -> Result<u64, StoreError>;
}
