//! What a caller may reach, resolved once per request: the token says who is calling, live
//! memberships say which organisations a person administers (so removing an admin takes
//! effect at once, not when their token expires).

use uuid::Uuid;

use super::rights::{Role, Scope};
use super::{Caller, Subject};
use crate::db::feed::{FeedReader, NETWORK_AUDIENCE, ResourceType, admins_of};

/// A caller's reach.
#[derive(Debug, Clone)]
pub enum Access {
    /// VOV staff: every object.
    Facilitator { id: Uuid },
    /// A person: their own data, the network directory, and the organisations they
    /// administer (active `org_admin` memberships).
    Person { id: Uuid, admin_of: Vec<Uuid> },
    /// An integration client: its own organisation, within its scopes.
    Client { id: Uuid, organisation_id: Option<Uuid>, scopes: Vec<Scope> },
}

impl Access {
    /// The caller's reach. The extractor already read the person's role and the
    /// organisations they administer live, so this takes no query.
    pub fn of(caller: &Caller) -> Self {
        match caller.subject {
            Subject::Person(id) if caller.has_role(Role::Facilitator) => Access::Facilitator { id },
            Subject::Person(id) => Access::Person { id, admin_of: caller.admin_of.clone() },
            Subject::Client(id) => {
                Access::Client { id, organisation_id: caller.organisation_id, scopes: caller.scopes.clone() }
            }
        }
    }

    pub fn is_facilitator(&self) -> bool {
        matches!(self, Access::Facilitator { .. })
    }

    /// The person behind the caller, if any.
    pub fn person_id(&self) -> Option<Uuid> {
        match self {
            Access::Facilitator { id } | Access::Person { id, .. } => Some(*id),
            Access::Client { .. } => None,
        }
    }

    /// The organisations whose members and data this caller manages: every one for
    /// facilitators (`None`), those a person administers, a client's own with `people:write`.
    pub fn managed_organisations(&self) -> Option<Vec<Uuid>> {
        match self {
            Access::Facilitator { .. } => None,
            Access::Person { admin_of, .. } => Some(admin_of.clone()),
            Access::Client { organisation_id, scopes, .. } => {
                Some(organisation_id.filter(|_| scopes.contains(&Scope::PeopleWrite)).into_iter().collect())
            }
        }
    }

    /// The organisations whose members this caller may read in full.
    pub fn readable_organisations(&self) -> Option<Vec<Uuid>> {
        match self {
            Access::Facilitator { .. } => None,
            Access::Person { admin_of, .. } => Some(admin_of.clone()),
            Access::Client { organisation_id, scopes, .. } => Some(
                organisation_id
                    .filter(|_| scopes.contains(&Scope::PeopleRead) || scopes.contains(&Scope::PeopleWrite))
                    .into_iter()
                    .collect(),
            ),
        }
    }

    /// Whether this caller manages `organisation`'s members and data.
    pub fn manages(&self, organisation: Uuid) -> bool {
        self.managed_organisations().is_none_or(|orgs| orgs.contains(&organisation))
    }

    /// Whether this caller may make someone an admin of `organisation`, or change or end an
    /// admin's membership: facilitators and the organisation's current admins. Integration
    /// clients never: a system account must not hand out people's rights.
    pub fn grants_admin(&self, organisation: Uuid) -> bool {
        match self {
            Access::Facilitator { .. } => true,
            Access::Person { admin_of, .. } => admin_of.contains(&organisation),
            Access::Client { .. } => false,
        }
    }

    /// Whether this caller reads `organisation`'s members in full.
    pub fn reads(&self, organisation: Uuid) -> bool {
        self.readable_organisations().is_none_or(|orgs| orgs.contains(&organisation))
    }

    /// Whether this caller runs `organisers`' events: facilitators, and admins of one of
    /// the organising organisations.
    pub fn runs_event(&self, organisers: &[Uuid]) -> bool {
        match self {
            Access::Facilitator { .. } => true,
            Access::Person { admin_of, .. } => organisers.iter().any(|o| admin_of.contains(o)),
            Access::Client { .. } => false,
        }
    }

    /// The organisations whose draft events this caller sees (`None`: all).
    pub fn draft_events_of(&self) -> Option<Vec<Uuid>> {
        match self {
            Access::Facilitator { .. } => None,
            Access::Person { admin_of, .. } => Some(admin_of.clone()),
            Access::Client { .. } => Some(vec![]),
        }
    }

    /// What this caller may see of the change feed.
    pub fn feed_reader(&self) -> FeedReader {
        match self {
            // Facilitators moderate learning records but do not read the private ones: of
            // those, and of commitments, they see what every member sees.
            Access::Facilitator { id } => FeedReader {
                audience: vec![*id, NETWORK_AUDIENCE],
                types: ResourceType::ALL.to_vec(),
                open: ResourceType::ALL
                    .iter()
                    .copied()
                    .filter(|t| !matches!(t, ResourceType::LearningRecord | ResourceType::Commitment))
                    .collect(),
            },
            Access::Person { id, admin_of } => {
                let mut audience = admin_of.clone();
                audience.extend(admin_of.iter().copied().map(admins_of));
                audience.push(*id);
                audience.push(NETWORK_AUDIENCE);
                FeedReader {
                    open: vec![],
                    audience,
                    types: vec![
                        ResourceType::Theme,
                        ResourceType::Organisation,
                        ResourceType::Person,
                        ResourceType::Membership,
                        ResourceType::Event,
                        ResourceType::Registration,
                        ResourceType::Commitment,
                        ResourceType::LearningRecord,
                        ResourceType::Challenge,
                        ResourceType::Solution,
                        ResourceType::Comment,
                        ResourceType::Endorsement,
                    ],
                }
            }
            Access::Client { organisation_id, scopes, .. } => {
                // Challenges and published solutions with their comments and endorsements
                // are the network's shared memory: every client reads them.
                let mut types = vec![
                    ResourceType::Theme,
                    ResourceType::Organisation,
                    ResourceType::Event,
                    ResourceType::Challenge,
                    ResourceType::Solution,
                    ResourceType::Comment,
                    ResourceType::Endorsement,
                ];
                if scopes.contains(&Scope::PeopleRead) || scopes.contains(&Scope::PeopleWrite) {
                    types.extend([ResourceType::Person, ResourceType::Membership]);
                }
                if scopes.contains(&Scope::RegistrationsWrite) {
                    types.push(ResourceType::Registration);
                }
                if scopes.contains(&Scope::LearningRecordsRead) || scopes.contains(&Scope::LearningRecordsWrite) {
                    types.push(ResourceType::LearningRecord);
                }
                FeedReader { audience: organisation_id.iter().copied().collect(), types, open: vec![] }
            }
        }
    }
}
