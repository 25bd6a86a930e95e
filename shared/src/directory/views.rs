//! The questions the service asks of an org's directory: who a number rings, which numbers
//! ring a user, what each user's profile holds, where its users may call and text.

use std::collections::BTreeSet;

use super::{
    AssignedPhone, Assignment, AssignmentKind, Group, NumberRoute, OrgDirectory, UserProfile,
};
use crate::destinations::Policy;
use crate::domain::{Email, Identity, IdentityStyle, OrgId};

impl NumberRoute {
    /// Who the number belongs to: its user, or each member of its group.
    pub fn users(&self) -> Vec<&Email> {
        match (&self.phone.assignment, &self.group) {
            (Assignment::User(email), _) => vec![email],
            (Assignment::Group(_), Some(group)) => group.members.iter().collect(),
            (Assignment::Group(_), None) => Vec::new(),
        }
    }
}

impl OrgDirectory {
    pub fn empty(org_id: OrgId) -> Self {
        Self {
            org_id,
            users: Vec::new(),
            groups: Vec::new(),
            phones: Vec::new(),
            outbound: super::Outbound::default(),
            notifications: super::Notifications::default(),
        }
    }

    /// Where this org's users may call and text: the regions its file allows, else those of
    /// its own numbers.
    pub fn outbound_policy(&self) -> Policy {
        let default = || Policy::regions_of(self.phones.iter().map(|p| &p.phone_number));
        Policy {
            allow_regions: match &self.outbound.allow_regions {
                Some(regions) => regions.clone(),
                None => default().allow_regions,
            },
            allow_premium: self.outbound.allow_premium,
        }
    }

    /// Everyone this org's directory names: listed users, group members, direct-number
    /// owners, each once, in file order.
    pub fn emails(&self) -> Vec<&Email> {
        let listed = self.users.iter().map(|u| &u.email);
        let members = self.groups.iter().flat_map(|g| g.members.iter());
        let owners = self.phones.iter().filter_map(|p| match &p.assignment {
            Assignment::User(email) => Some(email),
            Assignment::Group(_) => None,
        });
        let mut seen = BTreeSet::new();
        listed
            .chain(members)
            .chain(owners)
            .filter(|e| seen.insert(*e))
            .collect()
    }

    /// What routing and outgoing calls need to know about each user, keyed for one read by
    /// their identity in `style` (a person the style cannot name is left out: see
    /// [`super::Directory::check_identity_style`]).
    pub fn user_profiles(&self, style: IdentityStyle) -> Vec<UserProfile> {
        let outbound = self.outbound_policy();
        let routes = self.routes();
        self.emails()
            .into_iter()
            .filter_map(|email| {
                let identity = Identity::for_person(&self.org_id, email, style).ok()?;
                Some((email, identity))
            })
            .map(|(email, identity)| UserProfile {
                org_id: self.org_id.clone(),
                identity,
                email: email.clone(),
                name: self
                    .users
                    .iter()
                    .find(|u| &u.email == email)
                    .and_then(|u| u.name.clone()),
                assigned_phones: self.assigned_phones(email),
                phone_users: self
                    .assigned_phones(email)
                    .iter()
                    .filter_map(|phone| {
                        let users = routes.iter().find(|r| r.phone.id == phone.id)?.users();
                        Some((phone.id.clone(), users.into_iter().cloned().collect()))
                    })
                    .collect(),
                direct_phone: self
                    .phones
                    .iter()
                    .find(|p| matches!(&p.assignment, Assignment::User(owner) if owner == email))
                    .cloned(),
                outbound: outbound.clone(),
            })
            .collect()
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The numbers that ring `email`, directly or through a group, in directory order.
    pub fn assigned_phones(&self, email: &Email) -> Vec<AssignedPhone> {
        self.phones
            .iter()
            .filter_map(|phone| match &phone.assignment {
                Assignment::User(user) if user == email => Some(AssignedPhone {
                    id: phone.id.clone(),
                    phone_number: phone.phone_number.clone(),
                    friendly_name: phone.friendly_name.clone(),
                    assignment: AssignmentKind::Direct,
                    group_id: None,
                    group_name: None,
                }),
                Assignment::Group(group_id) => {
                    let group = self.group(group_id)?;
                    group.members.contains(email).then(|| AssignedPhone {
                        id: phone.id.clone(),
                        phone_number: phone.phone_number.clone(),
                        friendly_name: phone.friendly_name.clone(),
                        assignment: AssignmentKind::Group,
                        group_id: Some(group.id.clone()),
                        group_name: Some(group.name.clone()),
                    })
                }
                Assignment::User(_) => None,
            })
            .collect()
    }

    /// The routing view of each of this org's numbers.
    pub fn routes(&self) -> Vec<NumberRoute> {
        self.phones
            .iter()
            .map(|phone| NumberRoute {
                org_id: self.org_id.clone(),
                phone: phone.clone(),
                group: match &phone.assignment {
                    Assignment::Group(id) => self.group(id).cloned(),
                    Assignment::User(_) => None,
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::Directory;

    const DEMO: &str = include_str!("../../../demo/directory.json");

    #[test]
    fn the_demo_directory_is_valid_and_answers_assigned_phones() {
        let dir = Directory::parse(DEMO).unwrap();
        let org = dir
            .org(&OrgId::parse_field("org_demo", "o").unwrap())
            .unwrap();
        let alice = Email::parse_field("alice@example.com", "e").unwrap();
        let phones = org.assigned_phones(&alice);
        let kinds: Vec<_> = phones
            .iter()
            .map(|p| (p.id.as_str(), p.assignment))
            .collect();
        assert!(kinds.contains(&("phone-sales", AssignmentKind::Group)));
        assert!(kinds.contains(&("phone-alice", AssignmentKind::Direct)));
    }

    #[test]
    fn every_user_gets_a_profile_with_numbers_and_voicemail() {
        let dir = Directory::parse(DEMO).unwrap();
        let profiles = dir.orgs[0].user_profiles(IdentityStyle::Safe);
        let alice = profiles
            .iter()
            .find(|p| p.email.as_str() == "alice@example.com")
            .unwrap();
        let regions: Vec<_> = alice
            .outbound
            .allow_regions
            .iter()
            .map(|r| r.as_str())
            .collect();
        assert_eq!(regions, ["US"], "the regions of the org's own numbers");
        assert!(!alice.outbound.allow_premium);
        assert_eq!(alice.direct_phone.as_ref().unwrap().id, "phone-alice");
        assert_eq!(alice.assigned_phones.len(), 2);
        let emails: BTreeSet<_> = profiles.iter().map(|p| p.email.as_str()).collect();
        assert_eq!(emails.len(), profiles.len(), "each user once");
    }
}
