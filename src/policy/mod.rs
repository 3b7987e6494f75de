//! Who may do what to which object: the service's access rules in one place.
//!
//! Handlers resolve the caller's [`Access`], read the object, and ask [`decide`]; the list
//! queries apply the same rules in SQL through the viewers built here ([`record_viewer`],
//! [`commitment_viewer`], [`Access::feed_reader`]). The answer is one of three:
//!
//! - [`Decision::Allow`];
//! - [`Decision::Forbidden`] (403): the caller may see the object but not do this to it;
//! - [`Decision::Hidden`] (404): the caller may not know the object exists, so the answer is
//!   the same as for an id that was never used.
//!
//! `tests.rs` enumerates roles × objects × actions; a new resource joins by adding an
//! [`Object`] variant (the `match` below then fails to compile until its rules are written)
//! and its rows in the table.

use uuid::Uuid;

pub use crate::auth::access::Access;
use crate::auth::rights::Scope;
use crate::db::feed::ResourceType;
use crate::db::learning::RecordViewer;
use crate::domain::event::{Commitment, Event, Registration};
use crate::domain::learning::{LearningRecord, Visibility};
use crate::domain::solution::Solution;
use crate::error::ApiError;

/// What a caller wants to do to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Read,
    Change,
    Delete,
}

/// The answer to "may this caller do this?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// 403: visible, but not theirs to change.
    Forbidden,
    /// 404: not theirs to know of.
    Hidden,
}

impl Decision {
    pub fn allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// The facts about one object that its rules depend on.
#[derive(Debug, Clone, Copy)]
pub enum Object<'a> {
    /// The network's taxonomy: everyone reads, facilitators curate.
    Theme,
    Organisation {
        id: Uuid,
    },
    /// A person, with the organisations they are a member of.
    Person {
        id: Uuid,
        organisations: &'a [Uuid],
    },
    /// An event; `public` once published (drafts are their organisers' and facilitators').
    Event {
        organisers: &'a [Uuid],
        public: bool,
    },
    /// A registration, with the organisation it was made for and the event's organisers.
    Registration {
        person_id: Uuid,
        organisation_id: Option<Uuid>,
        organisers: &'a [Uuid],
    },
    Commitment {
        owner: Uuid,
        shared_with_organiser: bool,
        organisers: &'a [Uuid],
        shared_with_organisation: Option<Uuid>,
    },
    LearningRecord {
        owner: Uuid,
        visibility: Visibility,
        shared_with: &'a [Uuid],
    },
    /// A challenge; every signed-in caller reads it.
    Challenge {
        author: Option<Uuid>,
    },
    /// A solution: drafts are their co-authors' (and facilitators'); published ones anyone's.
    Solution {
        co_authors: &'a [Uuid],
        published: bool,
    },
    /// A comment, readable where its challenge or solution is (checked on that first).
    Comment {
        author: Option<Uuid>,
    },
    /// An organisation's webhook subscriptions (see [`manages_webhooks`]).
    Webhooks {
        organisation: Uuid,
    },
}

/// Whether `access` (None: no token) may do `action` to `object`.
pub fn decide(access: Option<&Access>, action: Action, object: &Object<'_>) -> Decision {
    use Action::*;
    use Decision::*;
    let Some(access) = access else {
        // Without a token: what the network publishes, read only.
        let public = match object {
            Object::Theme => true,
            Object::Event { public, .. } => *public,
            Object::Solution { published, .. } => *published,
            // As readable as what it comments on, which the handler checks first.
            Object::Comment { .. } => true,
            _ => false,
        };
        return if public && action == Read { Allow } else { Hidden };
    };
    let facilitator = access.is_facilitator();
    let me = access.person_id();
    let is_me = |id: Uuid| me == Some(id);
    // Readable but not changeable: 403 for the change, else the read decides.
    let write_if = |readable: Decision, may_write: bool| match (action, readable) {
        (Read, r) => r,
        (_, Allow) if may_write => Allow,
        (_, Allow) => Forbidden,
        (_, r) => r,
    };
    match *object {
        Object::Theme => write_if(Allow, facilitator),
        Object::Organisation { id } => {
            let admin = matches!(access, Access::Person { admin_of, .. } if admin_of.contains(&id));
            write_if(Allow, facilitator || (admin && action != Delete))
        }
        Object::Person { id, organisations } => {
            let shares = |orgs: Option<Vec<Uuid>>| orgs.is_none_or(|o| organisations.iter().any(|x| o.contains(x)));
            let readable = if facilitator || is_me(id) || shares(access.readable_organisations()) {
                Allow
            } else if matches!(access, Access::Person { .. }) {
                // The network directory: people see each other's network profile.
                Allow
            } else {
                Hidden
            };
            match action {
                Read => readable,
                Change => write_if(readable, facilitator || is_me(id) || shares(access.managed_organisations())),
                Delete => write_if(readable, facilitator),
            }
        }
        Object::Event { organisers, public } => {
            let runs = access.runs_event(organisers);
            write_if(if public || runs { Allow } else { Hidden }, runs)
        }
        Object::Registration { person_id, organisation_id, organisers } => {
            let readable = match access {
                Access::Facilitator { .. } => true,
                Access::Person { id, admin_of } => {
                    person_id == *id || admin_of.iter().any(|o| organisers.contains(o) || organisation_id == Some(*o))
                }
                Access::Client { organisation_id: Some(org), scopes, .. } => {
                    scopes.contains(&Scope::RegistrationsWrite)
                        && (organisation_id == Some(*org) || organisers.contains(org))
                }
                Access::Client { .. } => false,
            };
            // The person cancels their own; organisers record attendance (their handlers
            // say which change is which).
            write_if(if readable { Allow } else { Hidden }, true)
        }
        Object::Commitment { owner, shared_with_organiser, organisers, shared_with_organisation } => {
            let readable = commitment_viewer(access).is_some_and(|(me, orgs)| {
                me == owner
                    || (shared_with_organiser && organisers.iter().any(|o| orgs.contains(o)))
                    || shared_with_organisation.is_some_and(|o| orgs.contains(&o))
            });
            write_if(if readable { Allow } else { Hidden }, is_me(owner))
        }
        Object::LearningRecord { owner, visibility, shared_with } => {
            let readable = record_viewer(access).is_some_and(|v| v.may_read(owner, visibility, shared_with));
            let may_write = match action {
                Delete => is_me(owner) || (facilitator && visibility == Visibility::Network),
                _ => is_me(owner),
            };
            write_if(if readable { Allow } else { Hidden }, may_write)
        }
        Object::Challenge { author } => {
            // Its author edits and closes it; removing it is moderation.
            let by_author = author.is_some() && author == me;
            write_if(Allow, facilitator || (by_author && action != Delete))
        }
        Object::Solution { co_authors, published } => {
            let co_author = me.is_some_and(|p| co_authors.contains(&p));
            let readable = if published || co_author || facilitator { Allow } else { Hidden };
            // Deleting a published one is a rule of its own ("published stays"), not a right.
            write_if(readable, co_author || facilitator)
        }
        Object::Comment { author } => {
            // Only its author rewrites it; facilitators, moderating, remove it.
            let by_author = author.is_some() && author == me;
            write_if(Allow, by_author || (facilitator && action == Delete))
        }
        // Reading them is managing them: they name the organisation's systems.
        Object::Webhooks { organisation } => manages_webhooks(access, organisation),
    }
}

/// [`decide`] as a handler's answer: `Ok` when allowed, `missing()` (the resource's 404)
/// when hidden, 403 with `why` when forbidden.
pub fn check(
    access: Option<&Access>,
    action: Action,
    object: &Object<'_>,
    missing: impl FnOnce() -> ApiError,
    why: &str,
) -> Result<(), ApiError> {
    match decide(access, action, object) {
        Decision::Allow => Ok(()),
        Decision::Hidden => Err(missing()),
        Decision::Forbidden => Err(ApiError::Forbidden(why.into())),
    }
}

impl<'a> Object<'a> {
    pub fn commitment(c: &'a Commitment, organisers: &'a [Uuid]) -> Self {
        Object::Commitment {
            owner: c.person_id,
            shared_with_organiser: c.content.shared_with_organiser,
            organisers,
            shared_with_organisation: c.content.shared_with_organisation,
        }
    }

    pub fn registration(r: &'a Registration, organisers: &'a [Uuid]) -> Self {
        Object::Registration { person_id: r.person_id, organisation_id: r.organisation_id, organisers }
    }

    pub fn record(r: &'a LearningRecord) -> Self {
        Object::LearningRecord {
            owner: r.person_id,
            visibility: r.sharing.visibility,
            shared_with: &r.sharing.shared_with,
        }
    }

    pub fn event(organisers: &'a [Uuid], e: &Event) -> Self {
        Object::Event { organisers, public: e.status.is_public() }
    }

    pub fn solution(co_authors: &'a [Uuid], s: &Solution) -> Self {
        Object::Solution { co_authors, published: s.is_published() }
    }
}

/// Who reads which learning records (the list query applies the same [`RecordViewer`]):
/// people their own and those shared with the network or with organisations they
/// administer; facilitators, moderating, the network-visible ones too; a client with
/// `learning-records:read` or `:write` those shared with its organisation.
pub fn record_viewer(access: &Access) -> Option<RecordViewer> {
    match access {
        Access::Facilitator { id } => Some(RecordViewer { me: Some(*id), organisations: vec![], network: true }),
        Access::Person { id, admin_of } => {
            Some(RecordViewer { me: Some(*id), organisations: admin_of.clone(), network: true })
        }
        Access::Client { organisation_id, scopes, .. } => {
            let reads = scopes.contains(&Scope::LearningRecordsRead) || scopes.contains(&Scope::LearningRecordsWrite);
            match organisation_id {
                Some(org) if reads => Some(RecordViewer { me: None, organisations: vec![*org], network: false }),
                _ => None,
            }
        }
    }
}

/// Who reads commitments: the person who made one, and admins of the organisations it is
/// shared with (as organiser or as employer). Facilitators read them as members do; clients
/// not at all. `(me, organisations)`, for the list query too.
pub fn commitment_viewer(access: &Access) -> Option<(Uuid, Vec<Uuid>)> {
    match access {
        Access::Facilitator { id } => Some((*id, vec![])),
        Access::Person { id, admin_of } => Some((*id, admin_of.clone())),
        Access::Client { .. } => None,
    }
}

/// Who manages an organisation's webhook subscriptions: facilitators, its admins, and its
/// integration clients with `webhooks:write`. Another organisation's client may not know
/// of them (404); anyone else signed in may know the organisation but not change its
/// subscriptions (403).
pub fn manages_webhooks(access: &Access, organisation: Uuid) -> Decision {
    match access {
        Access::Facilitator { .. } => Decision::Allow,
        Access::Person { admin_of, .. } if admin_of.contains(&organisation) => Decision::Allow,
        Access::Person { .. } => Decision::Forbidden,
        Access::Client { organisation_id: Some(own), scopes, .. } if *own == organisation => {
            if scopes.contains(&Scope::WebhooksWrite) { Decision::Allow } else { Decision::Forbidden }
        }
        Access::Client { .. } => Decision::Hidden,
    }
}

/// The read scopes a subscription to `types` delivers with: it receives what the
/// organisation's integration clients with those scopes read in the change feed, never
/// more. `Err` names the first type `access` may not subscribe to: commitments are their
/// people's own (no client reads them), and a client subscribes only to what its own
/// scopes let it read.
pub fn webhook_scopes(access: &Access, types: &[ResourceType]) -> Result<Vec<Scope>, ResourceType> {
    let mut granted = Vec::new();
    for &t in types {
        let (scope, readers): (Scope, &[Scope]) = match t {
            ResourceType::Person | ResourceType::Membership => {
                (Scope::PeopleRead, &[Scope::PeopleRead, Scope::PeopleWrite])
            }
            ResourceType::Registration => (Scope::RegistrationsWrite, &[Scope::RegistrationsWrite]),
            ResourceType::LearningRecord => {
                (Scope::LearningRecordsRead, &[Scope::LearningRecordsRead, Scope::LearningRecordsWrite])
            }
            ResourceType::Commitment => return Err(t),
            ResourceType::Theme
            | ResourceType::Organisation
            | ResourceType::Event
            | ResourceType::Challenge
            | ResourceType::Solution
            | ResourceType::Comment
            | ResourceType::Endorsement => continue,
        };
        if let Access::Client { scopes, .. } = access
            && !readers.iter().any(|r| scopes.contains(r))
        {
            return Err(t);
        }
        if !granted.contains(&scope) {
            granted.push(scope);
        }
    }
    granted.sort();
    Ok(granted)
}

#[cfg(test)]
mod tests;
