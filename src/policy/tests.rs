//! Roles × objects × actions. Each row is an object as the rules see it, and for every
//! actor three letters for read, change, delete: `A` allowed, `F` forbidden (403), `H`
//! hidden (404). A new resource joins by adding its rows.

use uuid::Uuid;

use super::*;

const ORG_A: Uuid = Uuid::from_u128(0xA);
const ORG_B: Uuid = Uuid::from_u128(0xB);
const FACILITATOR: Uuid = Uuid::from_u128(1);
const ADMIN_A: Uuid = Uuid::from_u128(2);
/// A member of A who owns, authors or co-authors the objects below.
const OWNER: Uuid = Uuid::from_u128(3);
const MEMBER_A: Uuid = Uuid::from_u128(4);
const ADMIN_B: Uuid = Uuid::from_u128(5);

const ALL_SCOPES: [Scope; 6] = [
    Scope::PeopleRead,
    Scope::PeopleWrite,
    Scope::RegistrationsWrite,
    Scope::LearningRecordsRead,
    Scope::LearningRecordsWrite,
    Scope::WebhooksWrite,
];

/// The actors, in the order of the table's columns.
fn actors() -> Vec<(&'static str, Option<Access>)> {
    vec![
        ("anonymous", None),
        ("facilitator", Some(Access::Facilitator { id: FACILITATOR })),
        ("admin of A", Some(Access::Person { id: ADMIN_A, admin_of: vec![ORG_A] })),
        ("owner", Some(Access::Person { id: OWNER, admin_of: vec![] })),
        ("member of A", Some(Access::Person { id: MEMBER_A, admin_of: vec![] })),
        ("admin of B", Some(Access::Person { id: ADMIN_B, admin_of: vec![ORG_B] })),
        (
            "client of A",
            Some(Access::Client { id: Uuid::from_u128(6), organisation_id: Some(ORG_A), scopes: ALL_SCOPES.to_vec() }),
        ),
        (
            "client of A, no scopes",
            Some(Access::Client { id: Uuid::from_u128(7), organisation_id: Some(ORG_A), scopes: vec![] }),
        ),
        (
            "client of B",
            Some(Access::Client { id: Uuid::from_u128(8), organisation_id: Some(ORG_B), scopes: ALL_SCOPES.to_vec() }),
        ),
    ]
}

const A: &[Uuid] = &[ORG_A];
const OWNER_ONLY: &[Uuid] = &[OWNER];

/// Object, then read/change/delete per actor in the order of [`actors`]:
/// anonymous, facilitator, admin of A, owner, member of A, admin of B, client of A,
/// client of A without scopes, client of B.
fn table() -> Vec<(&'static str, Object<'static>, [&'static str; 9])> {
    use Visibility::*;
    vec![
        ("theme", Object::Theme, ["AHH", "AAA", "AFF", "AFF", "AFF", "AFF", "AFF", "AFF", "AFF"]),
        (
            "organisation A",
            Object::Organisation { id: ORG_A },
            ["HHH", "AAA", "AAF", "AFF", "AFF", "AFF", "AFF", "AFF", "AFF"],
        ),
        (
            "a member of A",
            Object::Person { id: OWNER, organisations: A },
            ["HHH", "AAA", "AAF", "AAF", "AFF", "AFF", "AAF", "HHH", "HHH"],
        ),
        (
            "a draft event of A",
            Object::Event { organisers: A, public: false },
            ["HHH", "AAA", "AAA", "HHH", "HHH", "HHH", "HHH", "HHH", "HHH"],
        ),
        (
            "a published event of A",
            Object::Event { organisers: A, public: true },
            ["AHH", "AAA", "AAA", "AFF", "AFF", "AFF", "AFF", "AFF", "AFF"],
        ),
        (
            "the owner's registration for A's event",
            Object::Registration { person_id: OWNER, organisation_id: Some(ORG_A), organisers: A },
            ["HHH", "AAA", "AAA", "AAA", "HHH", "HHH", "AAA", "HHH", "HHH"],
        ),
        (
            "a private commitment at A's event",
            Object::Commitment {
                owner: OWNER,
                shared_with_organiser: false,
                organisers: A,
                shared_with_organisation: None,
            },
            ["HHH", "HHH", "HHH", "AAA", "HHH", "HHH", "HHH", "HHH", "HHH"],
        ),
        (
            "a commitment shared with A as organiser",
            Object::Commitment {
                owner: OWNER,
                shared_with_organiser: true,
                organisers: A,
                shared_with_organisation: None,
            },
            ["HHH", "HHH", "AFF", "AAA", "HHH", "HHH", "HHH", "HHH", "HHH"],
        ),
        (
            "a private learning record",
            Object::LearningRecord { owner: OWNER, visibility: Private, shared_with: &[] },
            ["HHH", "HHH", "HHH", "AAA", "HHH", "HHH", "HHH", "HHH", "HHH"],
        ),
        (
            "a learning record shared with A",
            Object::LearningRecord { owner: OWNER, visibility: Organisation, shared_with: A },
            ["HHH", "HHH", "AFF", "AAA", "HHH", "HHH", "AFF", "HHH", "HHH"],
        ),
        (
            "a learning record shared with the network",
            Object::LearningRecord { owner: OWNER, visibility: Network, shared_with: &[] },
            ["HHH", "AFA", "AFF", "AAA", "AFF", "AFF", "HHH", "HHH", "HHH"],
        ),
        (
            "a challenge",
            Object::Challenge { author: Some(OWNER) },
            ["HHH", "AAA", "AFF", "AAF", "AFF", "AFF", "AFF", "AFF", "AFF"],
        ),
        (
            "a draft solution",
            Object::Solution { co_authors: OWNER_ONLY, published: false },
            ["HHH", "AAA", "HHH", "AAA", "HHH", "HHH", "HHH", "HHH", "HHH"],
        ),
        (
            "a published solution",
            Object::Solution { co_authors: OWNER_ONLY, published: true },
            ["AHH", "AAA", "AFF", "AAA", "AFF", "AFF", "AFF", "AFF", "AFF"],
        ),
        (
            "a comment",
            Object::Comment { author: Some(OWNER) },
            ["AHH", "AFA", "AFF", "AAA", "AFF", "AFF", "AFF", "AFF", "AFF"],
        ),
        (
            "A's webhook subscriptions",
            Object::Webhooks { organisation: ORG_A },
            ["HHH", "AAA", "AAA", "FFF", "FFF", "FFF", "AAA", "FFF", "HHH"],
        ),
    ]
}

fn letter(d: Decision) -> char {
    match d {
        Decision::Allow => 'A',
        Decision::Forbidden => 'F',
        Decision::Hidden => 'H',
    }
}

#[test]
fn every_role_on_every_object_gets_the_documented_answer() {
    let actors = actors();
    let mut wrong = Vec::new();
    for (name, object, expected) in table() {
        for ((actor, access), expected) in actors.iter().zip(expected) {
            let got: String = [Action::Read, Action::Change, Action::Delete]
                .into_iter()
                .map(|action| letter(decide(access.as_ref(), action, &object)))
                .collect();
            if got != expected {
                wrong.push(format!("{name}, {actor}: expected {expected}, got {got}"));
            }
        }
    }
    assert!(wrong.is_empty(), "read/change/delete differ from the table:\n{}", wrong.join("\n"));
}

#[test]
fn nobody_is_told_to_go_away_from_what_they_may_not_see() {
    // 403 says "it exists": only for what the caller can read.
    let actors = actors();
    for (name, object, _) in table() {
        for (actor, access) in &actors {
            if decide(access.as_ref(), Action::Read, &object) == Decision::Hidden {
                for action in [Action::Change, Action::Delete] {
                    assert_eq!(
                        decide(access.as_ref(), action, &object),
                        Decision::Hidden,
                        "{actor} cannot read {name}, so {action:?} must be 404"
                    );
                }
            }
        }
    }
}
