//! People, memberships, and the upsert of people by an organisation's external reference.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::events::ReleaseTx;
use super::feed::{Change, FeedWriter, ResourceType};
use super::idempotency::IdempotencyTx;
use super::learning::RecordsTx;
use super::page::{Keyset, Page, Sort, SortField, SortValue, contains_pattern, fold};
use super::refs::{ExternalRef, RefWriter, Upserted};
use super::solutions::SolutionsConn;
use super::{BeginWrite, Rule, Store, StoreError, StoreResult, is_unique_violation, now, on_pool};
use crate::auth::rights::PersonRole;
use crate::domain::account::Email;
use crate::domain::person::{
    AgeBand, Membership, MembershipRole, MembershipTerms, Person, PersonContent, StakeholderGroup,
};

/// Fields a people list can be sorted by; `name` is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonSort {
    Name,
    CreatedAt,
    UpdatedAt,
}

impl SortField for PersonSort {
    const ALL: &'static [Self] = &[PersonSort::Name, PersonSort::CreatedAt, PersonSort::UpdatedAt];

    fn name(self) -> &'static str {
        match self {
            PersonSort::Name => "name",
            PersonSort::CreatedAt => "created_at",
            PersonSort::UpdatedAt => "updated_at",
        }
    }

    fn is_time(self) -> bool {
        !matches!(self, PersonSort::Name)
    }

    fn column(self) -> &'static str {
        match self {
            PersonSort::Name => "display_name",
            PersonSort::CreatedAt => "created_at",
            PersonSort::UpdatedAt => "updated_at",
        }
    }
}

/// A people list request.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// Only people with a membership (past, present or future) in one of these.
    pub within: Option<Vec<Uuid>>,
    /// Only people with a current membership in this organisation.
    pub organisation_id: Option<Uuid>,
    pub stakeholder_group: Option<StakeholderGroup>,
    /// Words of the name.
    pub q: Option<String>,
}

const PERSON_COLUMNS: &str = "id, email, display_name, role, stakeholder_group, birth_year, age_band, languages, \
                              created_at, updated_at, version";
const MEMBERSHIP_COLUMNS: &str =
    "id, person_id, organisation_id, role, starts_on, ends_on, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: Uuid,
    email: String,
    display_name: String,
    role: String,
    stakeholder_group: String,
    birth_year: Option<i32>,
    age_band: Option<String>,
    languages: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

fn invalid_stored(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {what} is not valid"))
}

impl TryFrom<PersonRow> for Person {
    type Error = StoreError;

    fn try_from(r: PersonRow) -> Result<Self, StoreError> {
        Ok(Person {
            id: r.id,
            content: PersonContent {
                name: r.display_name,
                email: Email::parse(&r.email).map_err(|_| invalid_stored("e-mail address"))?,
                stakeholder_group: StakeholderGroup::parse(&r.stakeholder_group)
                    .ok_or_else(|| invalid_stored("stakeholder group"))?,
                birth_year: r.birth_year,
                age_band: r
                    .age_band
                    .map(|a| AgeBand::parse(&a).ok_or_else(|| invalid_stored("age band")))
                    .transpose()?,
                languages: serde_json::from_str(&r.languages).map_err(anyhow::Error::from)?,
            },
            role: PersonRole::parse(&r.role).ok_or_else(|| invalid_stored("role"))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    id: Uuid,
    person_id: Uuid,
    organisation_id: Uuid,
    role: String,
    starts_on: NaiveDate,
    ends_on: Option<NaiveDate>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;

    fn try_from(r: MembershipRow) -> Result<Self, StoreError> {
        Ok(Membership {
            id: r.id,
            person_id: r.person_id,
            organisation_id: r.organisation_id,
            terms: MembershipTerms {
                role: MembershipRole::parse(&r.role).ok_or_else(|| invalid_stored("membership role"))?,
                starts_on: r.starts_on,
                ends_on: r.ends_on,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

fn search_text(c: &PersonContent) -> String {
    fold(&c.name)
}

fn languages_json(languages: &[String]) -> String {
    serde_json::to_string(languages).unwrap_or_else(|_| "[]".into())
}

fn email_conflict(e: sqlx::Error, email: &Email) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::conflict(
            Rule::EmailTaken,
            format!("a person with e-mail address {} already exists", email.as_str()),
        )
    } else {
        e.into()
    }
}

/// The change of a person, addressed to the person and every organisation they belong to.
fn person_change(person: &Person, organisations: &[Uuid]) -> StoreResult<Change> {
    let mut audience = vec![person.id];
    audience.extend_from_slice(organisations);
    Change::of(person, false, audience)
}

fn membership_change(m: &Membership) -> StoreResult<Change> {
    Change::of(m, false, vec![m.person_id, m.organisation_id])
}

/// One person to create or update by an organisation's external reference.
#[derive(Debug, Clone)]
pub struct PersonUpsert {
    pub external_id: String,
    pub content: PersonContent,
    pub membership: MembershipTerms,
}

/// What upserting one item did.
#[derive(Debug, Clone)]
pub struct UpsertOutcome {
    pub person: Person,
    pub membership: Membership,
    pub result: Upserted,
}

/// Why one item of an upsert was refused (the other items go on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemConflict {
    /// Pointer within the item, such as `/email`.
    pub pointer: &'static str,
    pub detail: String,
    /// The caller lacks the right (403) rather than the item clashing with the data (409).
    pub forbidden: bool,
}

impl ItemConflict {
    pub(crate) fn conflict(pointer: &'static str, detail: impl Into<String>) -> Self {
        Self { pointer, detail: detail.into(), forbidden: false }
    }
}

/// What the caller of an upsert may do beyond managing the organisation's people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpsertRights {
    /// Create, change or end `org_admin` memberships.
    pub grant_admin: bool,
    /// Change the e-mail address of a person who signs in with a password (their login).
    pub change_login: bool,
}

/// Why an upsert without the right to change logins may not change an e-mail address.
pub const LOGIN_EMAIL: &str = "is the address this person signs in with: only they and facilitators change it";

/// Why an upsert without the right to grant admin rights may not touch a membership.
pub const ADMIN_MEMBERSHIP: &str = "is an `org_admin` membership, or would become one: only facilitators and the \
                                    organisation's admins grant, change or end admin rights";

impl Store {
    /// A person's network role and the organisations they administer today, in one
    /// round trip; `None` when the person does not exist (any more). Kept for a second
    /// (see [`super::rights_cache`]).
    #[tracing::instrument(skip(self))]
    pub async fn person_rights(
        &self,
        person_id: Uuid,
        today: NaiveDate,
    ) -> StoreResult<Option<(PersonRole, Vec<Uuid>)>> {
        let generation = match self.rights.get(person_id, today) {
            super::rights_cache::Lookup::Hit(rights) => return Ok(rights),
            super::rights_cache::Lookup::Miss(generation) => generation,
        };
        let rows: Vec<(String, Option<Uuid>)> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select p.role, m.organisation_id from people p
                 left join memberships m on m.person_id = p.id and m.role = 'org_admin'
                      and m.starts_on <= $2 and (m.ends_on is null or m.ends_on >= $2)
                 where p.id = $1",
            )
            .bind(person_id)
            .bind(today)
            .fetch_all(p)
            .await
        })?;
        let rights = match rows.first() {
            None => None,
            Some((role, _)) => Some((
                PersonRole::parse(role).ok_or_else(|| invalid_stored("role"))?,
                rows.iter().filter_map(|(_, org)| *org).collect(),
            )),
        };
        self.rights.put(person_id, today, generation, rights.clone());
        Ok(rights)
    }

    /// `(person, organisation)` for every membership of `people` (current or not).
    pub async fn memberships_of_people(&self, people: &[Uuid]) -> StoreResult<Vec<(Uuid, Uuid)>> {
        if people.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self.reader(), |p, DB| {
            let mut qb =
                QueryBuilder::<DB>::new("select person_id, organisation_id from memberships where person_id in (");
            let mut list = qb.separated(", ");
            for id in people {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as().persistent(false).fetch_all(p).await
        })?)
    }

    /// `(person, organisation id, organisation name)` for every current membership of `people`.
    pub async fn affiliations(&self, people: &[Uuid], today: NaiveDate) -> StoreResult<Vec<(Uuid, Uuid, String)>> {
        if people.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(
                "select distinct m.person_id, o.id, o.name from memberships m join organisations o on o.id = m.organisation_id
                 where m.starts_on <= ",
            );
            qb.push_bind(today).push(" and (m.ends_on is null or m.ends_on >= ").push_bind(today).push(")");
            qb.push(" and m.person_id in (");
            let mut list = qb.separated(", ");
            for id in people {
                list.push_bind(*id);
            }
            qb.push(") order by o.name");
            qb.build_query_as().persistent(false).fetch_all(p).await
        })?)
    }

    #[tracing::instrument(skip(self, filter))]
    pub async fn list_people(
        &self,
        filter: &PersonFilter,
        today: NaiveDate,
        sort: Sort<PersonSort>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Person>> {
        if filter.within.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page { items: vec![], next: None });
        }
        let rows: Vec<PersonRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {PERSON_COLUMNS} from people where 1 = 1"));
            if let Some(within) = &filter.within {
                qb.push(
                    " and exists (select 1 from memberships m where m.person_id = people.id and m.organisation_id in (",
                );
                let mut list = qb.separated(", ");
                for id in within {
                    list.push_bind(*id);
                }
                qb.push("))");
            }
            if let Some(org) = filter.organisation_id {
                qb.push(
                    " and exists (select 1 from memberships m where m.person_id = people.id and m.organisation_id = ",
                )
                .push_bind(org)
                .push(" and m.starts_on <= ")
                .push_bind(today)
                .push(" and (m.ends_on is null or m.ends_on >= ")
                .push_bind(today)
                .push("))");
            }
            if let Some(group) = filter.stakeholder_group {
                qb.push(" and stakeholder_group = ").push_bind(group.as_str());
            }
            if let Some(q) = filter.q.as_deref() {
                qb.push(" and search_text like ").push_bind(contains_pattern(&fold(q))).push(" escape '\\'");
            }
            if let Some(after) = after {
                sort.push_after(&mut qb, after);
            }
            sort.push_order(&mut qb);
            qb.push(" limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        let people = rows.into_iter().map(Person::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(people, limit, |person| {
            let value = match sort.field {
                PersonSort::Name => SortValue::Text(person.content.name.clone()),
                PersonSort::CreatedAt => SortValue::Time(person.created_at),
                PersonSort::UpdatedAt => SortValue::Time(person.updated_at),
            };
            Keyset { value, id: person.id }
        }))
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_person(&self, id: Uuid) -> StoreResult<Person> {
        let row: Option<PersonRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, email, display_name, role, stakeholder_group, birth_year, age_band, languages, created_at,
                        updated_at, version
                 from people where id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Creates a person, with a first membership when given.
    #[tracing::instrument(skip(self, content, password_hash))]
    pub async fn create_person(
        &self,
        content: &PersonContent,
        role: PersonRole,
        password_hash: Option<&str>,
        membership: Option<(Uuid, MembershipTerms)>,
    ) -> StoreResult<(Person, Option<Membership>)> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let at = now();
        let person =
            Person { id: Uuid::now_v7(), content: content.clone(), role, created_at: at, updated_at: at, version: 1 };
        let membership = membership.map(|(organisation_id, terms)| Membership {
            id: Uuid::now_v7(),
            person_id: person.id,
            organisation_id,
            terms,
            created_at: at,
            updated_at: at,
            version: 1,
        });
        let orgs: Vec<Uuid> = membership.iter().map(|m| m.organisation_id).collect();
        let mut changes = vec![person_change(&person, &orgs)?];
        if let Some(m) = &membership {
            changes.push(membership_change(m)?);
        }
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            (*tx)
                .insert_people(std::slice::from_ref(&person), password_hash)
                .await
                .map_err(|e| email_conflict(e, &content.email))?;
            if let Some(m) = &membership {
                (*tx).insert_memberships(std::slice::from_ref(m)).await?;
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)?;
        Ok((person, membership))
    }

    /// Replaces a person's profile and network role if its version is still
    /// `expected_version`, in one transaction.
    #[tracing::instrument(skip(self, content))]
    pub async fn update_person(
        &self,
        id: Uuid,
        expected_version: i64,
        content: &PersonContent,
        role: PersonRole,
    ) -> StoreResult<Person> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let orgs: Vec<Uuid> = self.memberships_of_people(&[id]).await?.into_iter().map(|(_, o)| o).collect();
        let updated: Option<Person> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let row: Option<PersonRow> = sqlx::query_as(
                "update people
                 set email = $3, email_key = $4, display_name = $5, stakeholder_group = $6, birth_year = $7,
                     age_band = $8, languages = $9, search_text = $10, updated_at = $11, role = $12,
                     version = version + 1
                 where id = $1 and version = $2
                 returning id, email, display_name, role, stakeholder_group, birth_year, age_band, languages,
                           created_at, updated_at, version",
            )
            .bind(id)
            .bind(expected_version)
            .bind(content.email.as_str())
            .bind(content.email.key())
            .bind(&content.name)
            .bind(content.stakeholder_group.as_str())
            .bind(content.birth_year)
            .bind(content.age_band.map(AgeBand::as_str))
            .bind(languages_json(&content.languages))
            .bind(search_text(content))
            .bind(now())
            .bind(role.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| email_conflict(e, &content.email))?;
            let person = row.map(Person::try_from).transpose()?;
            if let Some(person) = &person {
                (*tx).record(&[person_change(person, &orgs)?]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(person)
        }
        .await)?;
        match updated {
            Some(person) => Ok(person),
            None => Err(self.current_version_error("people", id).await?),
        }
    }

    /// Sets a person's network-wide role.
    #[tracing::instrument(skip(self))]
    pub async fn set_person_role(&self, id: Uuid, expected_version: i64, role: PersonRole) -> StoreResult<Person> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let orgs: Vec<Uuid> = self.memberships_of_people(&[id]).await?.into_iter().map(|(_, o)| o).collect();
        let updated: Option<Person> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let row: Option<PersonRow> = sqlx::query_as(
                "update people set role = $3, updated_at = $4, version = version + 1
                 where id = $1 and version = $2
                 returning id, email, display_name, role, stakeholder_group, birth_year, age_band, languages,
                           created_at, updated_at, version",
            )
            .bind(id)
            .bind(expected_version)
            .bind(role.as_str())
            .bind(now())
            .fetch_optional(&mut *tx)
            .await?;
            let person = row.map(Person::try_from).transpose()?;
            if let Some(person) = &person {
                (*tx).record(&[person_change(person, &orgs)?]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(person)
        }
        .await)?;
        match updated {
            Some(person) => Ok(person),
            None => Err(self.current_version_error("people", id).await?),
        }
    }

    /// Sets a person's password hash (credentials are not part of the resource: no version).
    pub async fn set_password_hash(&self, id: Uuid, hash: &str) -> StoreResult<()> {
        let n = on_pool!(self.writer(), |p| {
            sqlx::query("update people set password_hash = $2 where id = $1")
                .bind(id)
                .bind(hash)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if n == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    /// Erases a person: their profile, memberships, registrations (seats go to the
    /// waitlists), commitments, records, endorsements, external references and every stored
    /// `Idempotency-Key` answer that names them, leaving tombstones without personal data in
    /// the feed. Then the database's freed space is scrubbed ([`Store::scrub_freed_space`]).
    #[tracing::instrument(skip(self))]
    pub async fn delete_person(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        self.erase_person(id, expected_version).await?;
        if let Err(e) = self.scrub_freed_space().await {
            // The rows are gone; only the overwrite of the space they held is late.
            tracing::warn!(error = %e, "scrubbing freed space after an erasure failed");
        }
        Ok(())
    }

    async fn erase_person(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let deleted: Option<i64> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            (*tx).lock_people(&[id]).await?;
            let current: Option<(i64, String)> = sqlx::query_as("select version, email from people where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            // Seats go back to the waitlists before the person's registrations go.
            let (released, authored) = match &current {
                Some((v, email)) if expected_version.is_none_or(|e| e == *v) => {
                    (*tx).forget_answers_about(id, email).await?;
                    let mut changes = (*tx).release_registrations(id).await?;
                    // The person's learning records go with them (tombstones stay).
                    changes.extend((*tx).forget_records_of(id).await?);
                    // So do their endorsements; what they wrote for others stays.
                    let (endorsements, authored) = (*tx).forget_endorsements_of(id).await?;
                    changes.extend(endorsements);
                    (changes, authored)
                }
                _ => (vec![], Default::default()),
            };
            let memberships: Vec<(Uuid, Uuid, i64)> =
                sqlx::query_as("select id, organisation_id, version from memberships where person_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            let version: Option<i64> = sqlx::query_scalar(
                "delete from people where id = $1 and ($2 is null or version = $2) returning version",
            )
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(v) = version {
                let mut changes = released;
                changes.extend(
                    memberships.iter().map(|(m, org, mv)| {
                        Change::delete(ResourceType::Membership, *m, mv + 1, false, vec![id, *org])
                    }),
                );
                let mut audience = vec![id];
                audience.extend(memberships.iter().map(|(_, org, _)| *org));
                changes.push(Change::delete(ResourceType::Person, id, v + 1, false, audience));
                let mut ids: Vec<Uuid> = memberships.iter().map(|(m, _, _)| *m).collect();
                ids.push(id);
                (*tx).delete_refs(&ids).await?;
                // What they wrote is shown again as from a former member. Every change
                // replaces the feed's earlier entries of its resource, which carry the
                // person's data: only tombstones stay.
                changes.extend((*tx).reissue(&authored).await?);
                (*tx).record(&changes).await?;
                // Nobody reads as the erased person any more.
                sqlx::query("delete from change_audience where audience_id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(version)
        }
        .await)?;
        match deleted {
            Some(_) => Ok(()),
            None => Err(self.current_version_error("people", id).await?),
        }
    }

    // ---- memberships ----

    /// Memberships of a person, of some organisations, or both, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_memberships(
        &self,
        person_id: Option<Uuid>,
        organisations: Option<&[Uuid]>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Membership>> {
        let sort = Sort::<MembershipSort>::default();
        let rows: Vec<MembershipRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select {MEMBERSHIP_COLUMNS} from memberships where 1 = 1"));
            if let Some(person) = person_id {
                qb.push(" and person_id = ").push_bind(person);
            }
            match organisations {
                Some([]) => {
                    qb.push(" and 1 = 0");
                }
                Some(orgs) => {
                    qb.push(" and organisation_id in (");
                    let mut list = qb.separated(", ");
                    for org in orgs {
                        list.push_bind(*org);
                    }
                    qb.push(")");
                }
                None => {}
            }
            if let Some(after) = after {
                sort.push_after(&mut qb, after);
            }
            sort.push_order(&mut qb);
            qb.push(" limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        let items = rows.into_iter().map(Membership::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |m| Keyset { value: SortValue::Time(m.created_at), id: m.id }))
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_membership(&self, id: Uuid) -> StoreResult<Membership> {
        let row: Option<MembershipRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select id, person_id, organisation_id, role, starts_on, ends_on, created_at, updated_at, version
                 from memberships where id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Adds a membership. When the person joins an organisation they had no membership of,
    /// the person's own version moves on too, with that organisation in the change's
    /// audience: its admins and clients learn about the person from the feed.
    #[tracing::instrument(skip(self))]
    pub async fn create_membership(
        &self,
        person_id: Uuid,
        organisation_id: Uuid,
        terms: MembershipTerms,
    ) -> StoreResult<Membership> {
        self.create_membership_with_ref(person_id, organisation_id, terms, None).await
    }

    async fn create_membership_with_ref(
        &self,
        person_id: Uuid,
        organisation_id: Uuid,
        terms: MembershipTerms,
        reference: Option<&ExternalRef>,
    ) -> StoreResult<Membership> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let at = now();
        let m = Membership {
            id: Uuid::now_v7(),
            person_id,
            organisation_id,
            terms,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        let mut changes = vec![membership_change(&m)?];
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            (*tx).lock_people(&[person_id]).await?;
            let before = (*tx).load_memberships(&[person_id]).await?;
            (*tx).insert_memberships(std::slice::from_ref(&m)).await?;
            if let Some(reference) = reference {
                (*tx).insert_ref(organisation_id, reference, ResourceType::Membership, m.id).await?;
            }
            if !before.iter().any(|b| b.organisation_id == organisation_id) {
                let row: Option<PersonRow> = sqlx::query_as(
                    "update people set version = version + 1, updated_at = $2 where id = $1
                     returning id, email, display_name, role, stakeholder_group, birth_year, age_band, languages,
                               created_at, updated_at, version",
                )
                .bind(person_id)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
                let person = Person::try_from(row.ok_or(StoreError::NotFound)?)?;
                let mut orgs: Vec<Uuid> = before.iter().map(|b| b.organisation_id).collect();
                orgs.push(organisation_id);
                changes.push(person_change(&person, &orgs)?);
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)?;
        Ok(m)
    }

    #[tracing::instrument(skip(self))]
    pub async fn update_membership(
        &self,
        id: Uuid,
        expected_version: i64,
        terms: MembershipTerms,
    ) -> StoreResult<Membership> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let updated: Option<Membership> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let m = (*tx).update_membership_row(id, expected_version, terms, now()).await?;
            if let Some(m) = &m {
                (*tx).record(&[membership_change(m)?]).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(m)
        }
        .await)?;
        match updated {
            Some(m) => Ok(m),
            None => Err(self.current_version_error("memberships", id).await?),
        }
    }

    #[tracing::instrument(skip(self))]
    pub async fn delete_membership(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        let deleted: Option<(Uuid, Uuid, i64)> = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let person: Option<Uuid> = sqlx::query_scalar("select person_id from memberships where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            (*tx).lock_people(person.as_slice()).await?;
            let row: Option<(Uuid, Uuid, i64)> = sqlx::query_as(
                "delete from memberships where id = $1 and ($2 is null or version = $2)
                 returning person_id, organisation_id, version",
            )
            .bind(id)
            .bind(expected_version)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((person, org, v)) = row {
                (*tx).delete_refs(&[id]).await?;
                let mut changes = vec![Change::delete(ResourceType::Membership, id, v + 1, false, vec![person, org])];
                changes.extend((*tx).leave_if_last(person, org).await?);
                (*tx).record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(row)
        }
        .await)?;
        match deleted {
            Some(_) => Ok(()),
            None => Err(self.current_version_error("memberships", id).await?),
        }
    }

    // ---- upserts by external reference ----

    /// Creates or updates the membership an organisation's system knows by `reference`.
    /// `Conflict` when the reference names a membership of another person.
    #[tracing::instrument(skip(self))]
    pub async fn upsert_membership_by_ref(
        &self,
        organisation_id: Uuid,
        reference: &ExternalRef,
        person_id: Uuid,
        terms: MembershipTerms,
        rights: UpsertRights,
    ) -> StoreResult<(Membership, Upserted)> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        for attempt in 0..3 {
            let found =
                self.find_ref(organisation_id, &reference.system, ResourceType::Membership, &reference.id).await?;
            let result = match found {
                Some(id) => {
                    let current = self.get_membership(id).await?;
                    if current.person_id != person_id {
                        return Err(StoreError::conflict(
                            Rule::ReferenceOfAnotherPerson,
                            format!(
                                "the reference {}/{} names a membership of another person",
                                reference.system, reference.id
                            ),
                        ));
                    }
                    if current.terms == terms {
                        return Ok((current, Upserted::Unchanged));
                    }
                    if current.terms.role == MembershipRole::OrgAdmin && !rights.grant_admin {
                        return Err(StoreError::Forbidden(format!("The membership {ADMIN_MEMBERSHIP}.")));
                    }
                    self.update_membership(id, current.version, terms).await.map(|m| (m, Upserted::Updated))
                }
                None => self
                    .create_membership_with_ref(person_id, organisation_id, terms, Some(reference))
                    .await
                    .map(|m| (m, Upserted::Created)),
            };
            match result {
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) if attempt < 2 => continue,
                other => return other,
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Creates or updates people (and their membership of `organisation_id`) named by
    /// `system` references in that organisation's scope. Returns one result per item, in
    /// order; a refused item never stops the others. Runs as one transaction; if a
    /// concurrent writer makes it fail, it is retried, and finally each item runs alone.
    #[tracing::instrument(skip(self, items), fields(items = items.len()))]
    pub async fn upsert_people(
        &self,
        organisation_id: Uuid,
        system: &str,
        items: &[PersonUpsert],
        rights: UpsertRights,
    ) -> StoreResult<Vec<Result<UpsertOutcome, ItemConflict>>> {
        // Rights may change: the cached ones go when this is done.
        let _rights = self.rights.changing();
        for _ in 0..3 {
            match self.upsert_people_once(organisation_id, system, items, rights).await {
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) => continue,
                other => return other,
            }
        }
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let one = self.upsert_people_once(organisation_id, system, std::slice::from_ref(item), rights).await;
            results.push(match one {
                Ok(mut r) => r.pop().expect("one result per item"),
                Err(StoreError::Conflict(c)) => Err(ItemConflict::conflict("", c.detail)),
                Err(e) => return Err(e),
            });
        }
        Ok(results)
    }

    async fn upsert_people_once(
        &self,
        organisation_id: Uuid,
        system: &str,
        items: &[PersonUpsert],
        rights: UpsertRights,
    ) -> StoreResult<Vec<Result<UpsertOutcome, ItemConflict>>> {
        let at = now();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let conn = &mut *tx;

            // What exists: references, people by reference and by e-mail, their memberships.
            let external_ids: Vec<&str> = items.iter().map(|i| i.external_id.as_str()).collect();
            let refs: HashMap<String, Uuid> =
                conn.person_refs(organisation_id, system, &external_ids).await?.into_iter().collect();
            let keys: Vec<&str> = items.iter().map(|i| i.content.email.key()).collect();
            let by_email: HashMap<String, Uuid> = conn.people_by_email(&keys).await?.into_iter().collect();
            let candidates: Vec<Uuid> =
                refs.values().chain(by_email.values()).copied().collect::<HashSet<_>>().into_iter().collect();
            conn.lock_people(&candidates).await?;
            let people: HashMap<Uuid, Person> =
                conn.load_people(&candidates).await?.into_iter().map(|p| (p.id, p)).collect();
            let owners: Vec<Uuid> = by_email.values().copied().collect();
            let mut known_as: HashMap<Uuid, String> = conn
                .refs_of_people(organisation_id, system, &owners)
                .await?
                .into_iter()
                .map(|(external_id, person)| (person, external_id))
                .collect();
            let logins: HashSet<Uuid> = if rights.change_login {
                HashSet::new()
            } else {
                conn.people_with_password(&candidates).await?.into_iter().collect()
            };
            let all_memberships = conn.load_memberships(&candidates).await?;
            let mut orgs_of: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
            let mut here: HashMap<Uuid, Membership> = HashMap::new();
            for m in all_memberships {
                orgs_of.entry(m.person_id).or_default().push(m.organisation_id);
                if m.organisation_id == organisation_id {
                    let newer = here
                        .get(&m.person_id)
                        .is_none_or(|h| (m.terms.starts_on, m.created_at) > (h.terms.starts_on, h.created_at));
                    if newer {
                        here.insert(m.person_id, m);
                    }
                }
            }

            // Decide each item in order.
            let mut results = Vec::with_capacity(items.len());
            let mut new_people: Vec<Person> = Vec::new();
            let mut changed_people: Vec<(Person, i64)> = Vec::new();
            let mut new_memberships: Vec<Membership> = Vec::new();
            let mut changed_memberships: Vec<(Membership, i64)> = Vec::new();
            let mut new_refs: Vec<(ExternalRef, Uuid)> = Vec::new();
            let mut seen_ids: HashSet<&str> = HashSet::new();
            let mut claimed_emails: HashMap<&str, Uuid> = HashMap::new();
            for item in items {
                if !seen_ids.insert(item.external_id.as_str()) {
                    results.push(Err(ItemConflict::conflict("/external_id", "appears more than once in this request")));
                    continue;
                }
                let linked = refs.get(&item.external_id).copied();
                let owner = by_email.get(item.content.email.key()).copied();
                let target = match (linked, owner) {
                    (Some(t), Some(o)) if t != o => {
                        results.push(Err(ItemConflict::conflict("/email", "belongs to another person in the network")));
                        continue;
                    }
                    (Some(t), _) => Some(t),
                    // The person behind the address is already known to this system under
                    // another id: one person has one reference per system.
                    (None, Some(o)) if known_as.contains_key(&o) => {
                        results.push(Err(ItemConflict::conflict(
                            "/external_id",
                            format!(
                                "the person with this e-mail address is already known in `{system}` as `{}`",
                                known_as[&o]
                            ),
                        )));
                        continue;
                    }
                    // An existing person joins this organisation's references only if the
                    // organisation already counts them among its members.
                    (None, Some(o)) if orgs_of.get(&o).is_some_and(|orgs| orgs.contains(&organisation_id)) => Some(o),
                    (None, Some(_)) => {
                        results.push(Err(ItemConflict::conflict(
                            "/email",
                            "belongs to a person who is not a member of this organisation; add their membership first",
                        )));
                        continue;
                    }
                    (None, None) => None,
                };
                let person_id = target.unwrap_or_else(Uuid::now_v7);
                match claimed_emails.get(item.content.email.key()) {
                    Some(other) if *other != person_id => {
                        results.push(Err(ItemConflict::conflict("/email", "is used by another item of this request")));
                        continue;
                    }
                    _ => {
                        claimed_emails.insert(item.content.email.key(), person_id);
                    }
                }

                let touches_admin = item.membership.role == MembershipRole::OrgAdmin
                    || here
                        .get(&person_id)
                        .is_some_and(|m| m.terms.role == MembershipRole::OrgAdmin && m.terms != item.membership);
                if touches_admin && !rights.grant_admin {
                    results.push(Err(ItemConflict {
                        pointer: "/membership/role",
                        detail: ADMIN_MEMBERSHIP.into(),
                        forbidden: true,
                    }));
                    continue;
                }
                let changes_login = target.is_some_and(|t| {
                    logins.contains(&t)
                        && people.get(&t).is_some_and(|p| p.content.email.key() != item.content.email.key())
                });
                if changes_login {
                    results.push(Err(ItemConflict { pointer: "/email", detail: LOGIN_EMAIL.into(), forbidden: true }));
                    continue;
                }
                let mut result = Upserted::Unchanged;
                // An existing person who gets their first membership here changes too: the
                // organisation's audience must learn about them from the feed.
                let joins = !here.contains_key(&person_id);
                let person = match target.and_then(|t| people.get(&t)) {
                    None => {
                        result = Upserted::Created;
                        let person = Person {
                            id: person_id,
                            content: item.content.clone(),
                            role: PersonRole::Member,
                            created_at: at,
                            updated_at: at,
                            version: 1,
                        };
                        new_people.push(person.clone());
                        person
                    }
                    Some(current) if current.content != item.content || joins => {
                        result = Upserted::Updated;
                        let person = Person {
                            content: item.content.clone(),
                            updated_at: at,
                            version: current.version + 1,
                            ..current.clone()
                        };
                        changed_people.push((person.clone(), current.version));
                        person
                    }
                    Some(current) => current.clone(),
                };
                if linked.is_none() {
                    known_as.insert(person_id, item.external_id.clone());
                    new_refs
                        .push((ExternalRef { system: system.to_string(), id: item.external_id.clone() }, person_id));
                    if result == Upserted::Unchanged {
                        result = Upserted::Updated;
                    }
                }
                let membership = match here.get(&person_id) {
                    None => {
                        let m = Membership {
                            id: Uuid::now_v7(),
                            person_id,
                            organisation_id,
                            terms: item.membership,
                            created_at: at,
                            updated_at: at,
                            version: 1,
                        };
                        new_memberships.push(m.clone());
                        if result == Upserted::Unchanged {
                            result = Upserted::Updated;
                        }
                        m
                    }
                    Some(current) if current.terms != item.membership => {
                        let m = Membership {
                            terms: item.membership,
                            updated_at: at,
                            version: current.version + 1,
                            ..current.clone()
                        };
                        changed_memberships.push((m.clone(), current.version));
                        if result == Upserted::Unchanged {
                            result = Upserted::Updated;
                        }
                        m
                    }
                    Some(current) => current.clone(),
                };
                results.push(Ok(UpsertOutcome { person, membership, result }));
            }

            // Write it all, then the feed.
            let mut changes = Vec::new();
            for person in new_people.iter().chain(changed_people.iter().map(|(p, _)| p)) {
                let mut orgs = orgs_of.get(&person.id).cloned().unwrap_or_default();
                if !orgs.contains(&organisation_id) {
                    orgs.push(organisation_id);
                }
                changes.push(person_change(person, &orgs)?);
            }
            for m in new_memberships.iter().chain(changed_memberships.iter().map(|(m, _)| m)) {
                changes.push(membership_change(m)?);
            }
            for chunk in new_people.chunks(500) {
                conn.insert_people(chunk, None).await.map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::conflict(Rule::ChangedMeanwhile, "concurrent change")
                    } else {
                        e.into()
                    }
                })?;
            }
            for (person, expected) in &changed_people {
                let n = conn.update_person_row(person, *expected).await.map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::conflict(Rule::ChangedMeanwhile, "concurrent change")
                    } else {
                        e.into()
                    }
                })?;
                if n != 1 {
                    return Err(StoreError::VersionMismatch { current: *expected });
                }
            }
            for chunk in new_memberships.chunks(500) {
                conn.insert_memberships(chunk).await?;
            }
            for (m, expected) in &changed_memberships {
                if conn.update_membership_row(m.id, *expected, m.terms, at).await?.is_none() {
                    return Err(StoreError::VersionMismatch { current: *expected });
                }
            }
            let new_refs: Vec<(String, Uuid)> = new_refs.into_iter().map(|(r, p)| (r.id, p)).collect();
            conn.insert_refs(organisation_id, system, ResourceType::Person, &new_refs).await?;
            for chunk in changes.chunks(1000) {
                conn.record(chunk).await?;
            }
            tx.commit().await?;
            Ok(results)
        }
        .await)
    }
}

/// Fields a membership list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipSort {
    CreatedAt,
}

impl SortField for MembershipSort {
    const ALL: &'static [Self] = &[MembershipSort::CreatedAt];

    fn name(self) -> &'static str {
        "created_at"
    }

    fn column(self) -> &'static str {
        "created_at"
    }

    fn is_time(self) -> bool {
        true
    }
}

/// Statements that run inside a transaction, on either database. The bodies are written
/// once, in `people_tx!`, and instantiated for each connection type.
#[allow(async_fn_in_trait)]
trait PeopleTx {
    async fn insert_people(&mut self, people: &[Person], password_hash: Option<&str>) -> Result<(), sqlx::Error>;
    async fn update_person_row(&mut self, person: &Person, expected_version: i64) -> Result<u64, sqlx::Error>;
    async fn insert_memberships(&mut self, memberships: &[Membership]) -> Result<(), sqlx::Error>;
    async fn update_membership_row(
        &mut self,
        id: Uuid,
        expected_version: i64,
        terms: MembershipTerms,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Membership>>;
    async fn delete_refs(&mut self, resources: &[Uuid]) -> Result<(), sqlx::Error>;
    async fn person_refs(
        &mut self,
        scope: Uuid,
        system: &str,
        external_ids: &[&str],
    ) -> Result<Vec<(String, Uuid)>, sqlx::Error>;
    async fn people_by_email(&mut self, keys: &[&str]) -> Result<Vec<(String, Uuid)>, sqlx::Error>;
    /// The external ids `system` uses in `scope` for `people`: `(external id, person)`.
    async fn refs_of_people(
        &mut self,
        scope: Uuid,
        system: &str,
        people: &[Uuid],
    ) -> Result<Vec<(String, Uuid)>, sqlx::Error>;
    async fn load_people(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Person>>;
    async fn load_memberships(&mut self, people: &[Uuid]) -> StoreResult<Vec<Membership>>;
    /// After a membership of `organisation` was removed: if it was the person's last one
    /// there, the organisation stops seeing them. Drops the organisation's references to
    /// the person and moves the person's version on, returning a tombstone addressed to
    /// the organisation (its replicas drop the person) followed by the person's update for
    /// everyone who still sees them. Nothing when the person is still a member.
    async fn leave_if_last(&mut self, person: Uuid, organisation: Uuid) -> StoreResult<Vec<Change>>;
    /// Locks people's rows until the transaction ends, so that decisions based on their
    /// memberships (joins, leaves, deletes) never interleave. A no-op on SQLite, whose
    /// write transactions already run one at a time.
    async fn lock_people(&mut self, ids: &[Uuid]) -> Result<(), sqlx::Error>;
    /// Those of `ids` who sign in with a password.
    async fn people_with_password(&mut self, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error>;
}

macro_rules! people_tx {
    ($conn:ty, $db:ty, row_locks: $row_locks:literal) => {
        impl PeopleTx for $conn {
            async fn people_with_password(&mut self, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
                if ids.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = QueryBuilder::<$db>::new("select id from people where password_hash is not null and id in (");
                let mut list = qb.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_scalar().persistent(false).fetch_all(&mut *self).await
            }

            async fn lock_people(&mut self, ids: &[Uuid]) -> Result<(), sqlx::Error> {
                if !$row_locks || ids.is_empty() {
                    return Ok(());
                }
                let mut ids = ids.to_vec();
                ids.sort_unstable();
                let mut qb = QueryBuilder::<$db>::new("select id from people where id in (");
                let mut list = qb.separated(", ");
                for id in &ids {
                    list.push_bind(*id);
                }
                qb.push(") order by id for update");
                qb.build().persistent(false).execute(&mut *self).await?;
                Ok(())
            }

            async fn insert_people(&mut self, people: &[Person], password_hash: Option<&str>) -> Result<(), sqlx::Error> {
                if people.is_empty() {
                    return Ok(());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "insert into people (id, email, email_key, display_name, role, password_hash, stakeholder_group, \
                     birth_year, age_band, languages, search_text, created_at, updated_at, version) ",
                );
                qb.push_values(people, |mut row, person| {
                    let c = &person.content;
                    row.push_bind(person.id)
                        .push_bind(c.email.as_str())
                        .push_bind(c.email.key())
                        .push_bind(&c.name)
                        .push_bind(person.role.as_str())
                        .push_bind(password_hash)
                        .push_bind(c.stakeholder_group.as_str())
                        .push_bind(c.birth_year)
                        .push_bind(c.age_band.map(AgeBand::as_str))
                        .push_bind(languages_json(&c.languages))
                        .push_bind(search_text(c))
                        .push_bind(person.created_at)
                        .push_bind(person.updated_at)
                        .push_bind(person.version);
                });
                qb.build().persistent(false).execute(&mut *self).await?;
                Ok(())
            }

            async fn update_person_row(&mut self, person: &Person, expected_version: i64) -> Result<u64, sqlx::Error> {
                let c = &person.content;
                Ok(sqlx::query(
                    "update people
                     set email = $3, email_key = $4, display_name = $5, stakeholder_group = $6, birth_year = $7,
                         age_band = $8, languages = $9, search_text = $10, updated_at = $11, version = $12
                     where id = $1 and version = $2",
                )
                .bind(person.id)
                .bind(expected_version)
                .bind(c.email.as_str())
                .bind(c.email.key())
                .bind(&c.name)
                .bind(c.stakeholder_group.as_str())
                .bind(c.birth_year)
                .bind(c.age_band.map(AgeBand::as_str))
                .bind(languages_json(&c.languages))
                .bind(search_text(c))
                .bind(person.updated_at)
                .bind(person.version)
                .execute(&mut *self)
                .await?
                .rows_affected())
            }

            async fn insert_memberships(&mut self, memberships: &[Membership]) -> Result<(), sqlx::Error> {
                if memberships.is_empty() {
                    return Ok(());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "insert into memberships (id, person_id, organisation_id, role, starts_on, ends_on, created_at, \
                     updated_at, version) ",
                );
                qb.push_values(memberships, |mut row, m| {
                    row.push_bind(m.id)
                        .push_bind(m.person_id)
                        .push_bind(m.organisation_id)
                        .push_bind(m.terms.role.as_str())
                        .push_bind(m.terms.starts_on)
                        .push_bind(m.terms.ends_on)
                        .push_bind(m.created_at)
                        .push_bind(m.updated_at)
                        .push_bind(m.version);
                });
                qb.build().persistent(false).execute(&mut *self).await?;
                Ok(())
            }

            async fn update_membership_row(
                &mut self,
                id: Uuid,
                expected_version: i64,
                terms: MembershipTerms,
                at: DateTime<Utc>,
            ) -> StoreResult<Option<Membership>> {
                let row: Option<MembershipRow> = sqlx::query_as(
                    "update memberships set role = $3, starts_on = $4, ends_on = $5, updated_at = $6, version = version + 1
                     where id = $1 and version = $2
                     returning id, person_id, organisation_id, role, starts_on, ends_on, created_at, updated_at, version",
                )
                .bind(id)
                .bind(expected_version)
                .bind(terms.role.as_str())
                .bind(terms.starts_on)
                .bind(terms.ends_on)
                .bind(at)
                .fetch_optional(&mut *self)
                .await?;
                row.map(Membership::try_from).transpose()
            }

            async fn delete_refs(&mut self, resources: &[Uuid]) -> Result<(), sqlx::Error> {
                if resources.is_empty() {
                    return Ok(());
                }
                let mut qb = QueryBuilder::<$db>::new("delete from external_refs where resource_id in (");
                let mut list = qb.separated(", ");
                for id in resources {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build().persistent(false).execute(&mut *self).await?;
                Ok(())
            }

            async fn person_refs(
                &mut self,
                scope: Uuid,
                system: &str,
                external_ids: &[&str],
            ) -> Result<Vec<(String, Uuid)>, sqlx::Error> {
                if external_ids.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "select external_id, resource_id from external_refs where resource_type = 'person' and scope_id = ",
                );
                qb.push_bind(scope).push(" and system = ").push_bind(system.to_string()).push(" and external_id in (");
                let mut list = qb.separated(", ");
                for id in external_ids {
                    list.push_bind(id.to_string());
                }
                qb.push(")");
                qb.build_query_as().persistent(false).fetch_all(&mut *self).await
            }

            async fn refs_of_people(
                &mut self,
                scope: Uuid,
                system: &str,
                people: &[Uuid],
            ) -> Result<Vec<(String, Uuid)>, sqlx::Error> {
                if people.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "select external_id, resource_id from external_refs where resource_type = 'person' and scope_id = ",
                );
                qb.push_bind(scope).push(" and system = ").push_bind(system.to_string()).push(" and resource_id in (");
                let mut list = qb.separated(", ");
                for id in people {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().persistent(false).fetch_all(&mut *self).await
            }

            async fn people_by_email(&mut self, keys: &[&str]) -> Result<Vec<(String, Uuid)>, sqlx::Error> {
                if keys.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = QueryBuilder::<$db>::new("select email_key, id from people where email_key in (");
                let mut list = qb.separated(", ");
                for key in keys {
                    list.push_bind(key.to_string());
                }
                qb.push(")");
                qb.build_query_as().persistent(false).fetch_all(&mut *self).await
            }

            async fn load_people(&mut self, ids: &[Uuid]) -> StoreResult<Vec<Person>> {
                if ids.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = QueryBuilder::<$db>::new(format!("select {PERSON_COLUMNS} from people where id in ("));
                let mut list = qb.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                qb.push(")");
                let rows: Vec<PersonRow> = qb.build_query_as().persistent(false).fetch_all(&mut *self).await?;
                rows.into_iter().map(Person::try_from).collect()
            }

            async fn load_memberships(&mut self, people: &[Uuid]) -> StoreResult<Vec<Membership>> {
                if people.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb =
                    QueryBuilder::<$db>::new(format!("select {MEMBERSHIP_COLUMNS} from memberships where person_id in ("));
                let mut list = qb.separated(", ");
                for id in people {
                    list.push_bind(*id);
                }
                qb.push(")");
                let rows: Vec<MembershipRow> = qb.build_query_as().persistent(false).fetch_all(&mut *self).await?;
                rows.into_iter().map(Membership::try_from).collect()
            }

            async fn leave_if_last(&mut self, person: Uuid, organisation: Uuid) -> StoreResult<Vec<Change>> {
                let remaining: Vec<Uuid> =
                    sqlx::query_scalar("select distinct organisation_id from memberships where person_id = $1")
                        .bind(person)
                        .fetch_all(&mut *self)
                        .await?;
                if remaining.contains(&organisation) {
                    return Ok(vec![]);
                }
                sqlx::query("delete from external_refs where scope_id = $1 and resource_id = $2")
                    .bind(organisation)
                    .bind(person)
                    .execute(&mut *self)
                    .await?;
                let mut qb = QueryBuilder::<$db>::new("update people set version = version + 1, updated_at = ");
                qb.push_bind(now()).push(" where id = ").push_bind(person);
                qb.push(format!(" returning {PERSON_COLUMNS}"));
                let row: Option<PersonRow> = qb.build_query_as().persistent(false).fetch_optional(&mut *self).await?;
                let updated = Person::try_from(row.ok_or(StoreError::NotFound)?)?;
                let mut changes = vec![
                    Change::withdraw(ResourceType::Person, person, updated.version, vec![organisation]),
                    person_change(&updated, &remaining)?,
                ];
                // What they shared with the organisation was shared with their employer:
                // it stops being shared when they no longer belong to it.
                changes.extend(self.unshare_records_with(person, organisation).await?);
                changes.extend(self.unshare_commitments_with(person, organisation).await?);
                Ok(changes)
            }
        }
    };
}

people_tx!(sqlx::SqliteConnection, sqlx::Sqlite, row_locks: false);
people_tx!(sqlx::PgConnection, sqlx::Postgres, row_locks: true);
