//! Roles and scopes: the one place that names them and says what each grants.
//!
//! A person has one network-wide role (facilitator, member or policy reader) and may be an
//! organisation admin through memberships; an integration client has the `integration`
//! role, acts for one organisation and holds the scopes its admin granted. Handlers state
//! what they need in one line (`caller.require_role(Role::Facilitator)?`); object-level
//! rights (whose record, which organisation) are enforced in the storage queries.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What kind of actor a caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// VOV staff: everything; curates themes; moderates.
    Facilitator,
    /// Manages an organisation, its members, events and API clients.
    OrgAdmin,
    /// A person in the network: own profile, registrations, learning log, solutions.
    Member,
    /// Reads anonymised, aggregated insights; poses challenges.
    PolicyReader,
    /// A machine client (HR system, partner back end) acting for one organisation.
    Integration,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Facilitator => "facilitator",
            Role::OrgAdmin => "org_admin",
            Role::Member => "member",
            Role::PolicyReader => "policy_reader",
            Role::Integration => "integration",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "facilitator" => Role::Facilitator,
            "org_admin" => Role::OrgAdmin,
            "member" => Role::Member,
            "policy_reader" => Role::PolicyReader,
            "integration" => Role::Integration,
            _ => return None,
        })
    }
}

/// The network-wide role stored on a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    Facilitator,
    Member,
    PolicyReader,
}

impl PersonRole {
    pub const fn as_str(self) -> &'static str {
        self.role().as_str()
    }

    pub const fn role(self) -> Role {
        match self {
            PersonRole::Facilitator => Role::Facilitator,
            PersonRole::Member => Role::Member,
            PersonRole::PolicyReader => Role::PolicyReader,
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match Role::parse(value)? {
            Role::Facilitator => Some(PersonRole::Facilitator),
            Role::Member => Some(PersonRole::Member),
            Role::PolicyReader => Some(PersonRole::PolicyReader),
            _ => None,
        }
    }
}

/// A right an integration client can be granted. People's tokens carry no scopes: what a
/// person may do follows from their role and their memberships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    /// Read the people of the client's organisation and their memberships.
    #[serde(rename = "people:read")]
    PeopleRead,
    /// Create and update the people of the client's organisation and their memberships.
    #[serde(rename = "people:write")]
    PeopleWrite,
    /// Register the people of the client's organisation for events, cancel those
    /// registrations, and read them.
    #[serde(rename = "registrations:write")]
    RegistrationsWrite,
    /// Read the learning records the members of the client's organisation shared with it.
    #[serde(rename = "learning-records:read")]
    LearningRecordsRead,
    /// Create and update (upsert) learning records for the members of the client's
    /// organisation, and read the ones shared with it.
    #[serde(rename = "learning-records:write")]
    LearningRecordsWrite,
    /// Read the network's insights for policy (`/v1/insights`), as a policy reader does.
    /// Only facilitators grant it.
    #[serde(rename = "insights:read")]
    InsightsRead,
    /// Provision the people of the client's organisation, their memberships and its groups
    /// over SCIM 2.0 (`/scim/v2`), as an identity provider does.
    #[serde(rename = "scim")]
    Scim,
    /// Manage the client's organisation's webhook subscriptions (`/v1/organisations/{id}/webhooks`).
    #[serde(rename = "webhooks:write")]
    WebhooksWrite,
}

impl Scope {
    /// Every scope, in the order the OpenAPI document lists them.
    pub const ALL: &'static [Scope] = &[
        Scope::PeopleRead,
        Scope::PeopleWrite,
        Scope::RegistrationsWrite,
        Scope::LearningRecordsRead,
        Scope::LearningRecordsWrite,
        Scope::InsightsRead,
        Scope::Scim,
        Scope::WebhooksWrite,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::PeopleRead => "people:read",
            Scope::PeopleWrite => "people:write",
            Scope::RegistrationsWrite => "registrations:write",
            Scope::LearningRecordsRead => "learning-records:read",
            Scope::LearningRecordsWrite => "learning-records:write",
            Scope::InsightsRead => "insights:read",
            Scope::Scim => "scim",
            Scope::WebhooksWrite => "webhooks:write",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            Scope::PeopleRead => "Read the people of the client's organisation",
            Scope::PeopleWrite => "Create and update the people of the client's organisation",
            Scope::RegistrationsWrite => "Register the people of the client's organisation for events",
            Scope::LearningRecordsRead => "Read the learning records shared with the client's organisation",
            Scope::LearningRecordsWrite => "Sync the learning records of the client's organisation's members",
            Scope::InsightsRead => "Read the network's insights for policy (granted by facilitators only)",
            Scope::Scim => "Provision the client's organisation's people and groups over SCIM 2.0",
            Scope::WebhooksWrite => "Manage the client's organisation's webhook subscriptions",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Scope::ALL.iter().copied().find(|s| s.as_str() == value)
    }

    /// Parses a space-separated scope string (RFC 6749 §3.3); `Err` names the first unknown one.
    pub fn parse_list(value: &str) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for word in value.split(' ').filter(|w| !w.is_empty()) {
            let scope = Scope::parse(word).ok_or_else(|| word.to_string())?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        scopes.sort();
        Ok(scopes)
    }

    /// Joins scopes into the space-separated form.
    pub fn join(scopes: &[Scope]) -> String {
        scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes_round_trip_through_their_names() {
        for role in [Role::Facilitator, Role::OrgAdmin, Role::Member, Role::PolicyReader, Role::Integration] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(*scope));
            assert_eq!(serde_json::to_value(scope).unwrap(), scope.as_str());
        }
    }

    #[test]
    fn scope_lists_are_space_separated_deduplicated_and_checked() {
        assert_eq!(
            Scope::parse_list("people:write  people:read people:write").unwrap(),
            vec![Scope::PeopleRead, Scope::PeopleWrite]
        );
        assert_eq!(Scope::parse_list("people:read admin").unwrap_err(), "admin");
        assert!(Scope::parse_list("").unwrap().is_empty());
    }

    #[test]
    fn only_network_roles_are_person_roles() {
        assert_eq!(PersonRole::parse("facilitator"), Some(PersonRole::Facilitator));
        assert_eq!(PersonRole::parse("integration"), None);
        assert_eq!(PersonRole::parse("org_admin"), None);
    }
}
