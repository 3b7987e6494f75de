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
use super::{
    BeginWrite, RowsAffected, Rule, Store, StoreError, StoreResult, execute, is_unique_violation, now, on_pool,
};
use crate::auth::rights::PersonRole;
use crate::domain::account::Email;
use crate::domain::person::{
    AgeBand, Membership, MembershipRole, MembershipTerms, Person, PersonContent, StakeholderGroup,
};

/// Pushes the `insert` of `people` (not empty) onto `qb`, alone or in a [`Batch`](crate::db::Batch).
pub(crate) fn push_insert_people<DB>(qb: &mut QueryBuilder<DB>, people: &[Person], password_hash: Option<&str>)
where
    DB: sqlx::Database,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i32>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push(
        "insert into people (id, email, email_key, display_name, role, password_hash, stakeholder_group, \
         birth_year, age_band, languages, search_text, created_at, updated_at, version) ",
    );
    qb.push_values(people, |mut row, person| {
        let c = &person.content;
        row.push_bind(person.id)
            .push_bind(c.email.as_str())
            .push_bind(c.email.key())
            .push_bind(c.name.as_str())
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
}

/// Pushes the `insert` of `memberships` (not empty) onto `qb`, alone or in a [`Batch`](crate::db::Batch).
pub(crate) fn push_insert_memberships<DB>(qb: &mut QueryBuilder<DB>, memberships: &[Membership])
where
    DB: sqlx::Database,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<NaiveDate>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push(
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
}

pub use rows::Tie;
use rows::*;

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
    /// Only people with a current membership in this organisation (any membership with
    /// `include_former`).
    pub organisation_id: Option<Uuid>,
    pub include_former: bool,
    pub stakeholder_group: Option<StakeholderGroup>,
    /// Words of the name.
    pub q: Option<String>,
    /// Only these people.
    pub ids: Option<Vec<Uuid>>,
    /// Only the person an organisation's system knows by this reference.
    pub external_ref: Option<RefFilter>,
    /// Only people changed after this moment.
    pub updated_after: Option<DateTime<Utc>>,
}

/// People by an organisation's reference to them.
#[derive(Debug, Clone)]
pub struct RefFilter {
    /// The organisations whose references count; `None`: every organisation's.
    pub scopes: Option<Vec<Uuid>>,
    /// Only this system's references.
    pub system: Option<String>,
    /// Only this id.
    pub external_id: Option<String>,
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
    /// Before a SCIM user of `organisation` is deleted: locks the person; `NotFound` without
    /// the user, `VersionMismatch` when `expected` is not its version, `Forbidden` for an admin
    /// membership. Gives whether the person belongs to this organisation alone and has no
    /// sign-in (whether deleting the user erases them).
    async fn scim_delete_checks(
        &mut self,
        organisation: Uuid,
        person: Uuid,
        expected: Option<i64>,
    ) -> StoreResult<bool>;
}

impl<C> PeopleTx for C
where
    C: sqlx::Connection + Send,
    C::Database: sqlx::database::HasStatementCache + crate::db::Dialect,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    for<'q> &'q str: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    usize: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'q> chrono::DateTime<chrono::Utc>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> chrono::NaiveDate: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> i32: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> i64: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::option::Option<&'q str>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::option::Option<chrono::NaiveDate>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::option::Option<i32>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::string::String:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> uuid::Uuid: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    C: crate::db::learning::RecordsTx + crate::db::events::ReleaseTx,
    <C::Database as sqlx::Database>::QueryResult: crate::db::RowsAffected,
{
    async fn scim_delete_checks(
        &mut self,
        organisation: Uuid,
        person: Uuid,
        expected: Option<i64>,
    ) -> StoreResult<bool> {
        self.lock_people(&[person]).await?;
        let version: Option<i64> = sqlx::query_scalar(
            "select s.version + p.version from scim_users s join people p on p.id = s.person_id
             where s.organisation_id = $1 and s.person_id = $2",
        )
        .bind(organisation)
        .bind(person)
        .fetch_optional(&mut *self)
        .await?;
        let version = version.ok_or(StoreError::NotFound)?;
        if expected.is_some_and(|e| e != version) {
            return Err(StoreError::VersionMismatch { current: version });
        }
        let memberships = self.load_memberships(&[person]).await?;
        let here = |m: &&Membership| m.organisation_id == organisation;
        if memberships.iter().filter(here).any(|m| m.terms.role == MembershipRole::OrgAdmin) {
            return Err(StoreError::Forbidden(format!("The membership {ADMIN_MEMBERSHIP}.")));
        }
        let elsewhere = memberships.iter().any(|m| m.organisation_id != organisation);
        Ok(!elsewhere && self.people_with_password(&[person]).await?.is_empty())
    }

    async fn people_with_password(&mut self, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut qb =
            QueryBuilder::<C::Database>::new("select id from people where password_hash is not null and id in (");
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        qb.push(")");
        qb.build_query_scalar().persistent(false).fetch_all(&mut *self).await
    }

    async fn lock_people(&mut self, ids: &[Uuid]) -> Result<(), sqlx::Error> {
        if !<C::Database as crate::db::Dialect>::ROW_LOCKS || ids.is_empty() {
            return Ok(());
        }
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        let mut qb = QueryBuilder::<C::Database>::new("select id from people where id in (");
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
        let mut qb = QueryBuilder::<C::Database>::new("");
        push_insert_people(&mut qb, people, password_hash);
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
        let mut qb = QueryBuilder::<C::Database>::new("");
        push_insert_memberships(&mut qb, memberships);
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
        let mut qb = QueryBuilder::<C::Database>::new("delete from external_refs where resource_id in (");
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
        let mut qb = QueryBuilder::<C::Database>::new(
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
        let mut qb = QueryBuilder::<C::Database>::new(
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
        let mut qb = QueryBuilder::<C::Database>::new("select email_key, id from people where email_key in (");
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
        let mut qb = QueryBuilder::<C::Database>::new(format!("select {PERSON_COLUMNS} from people where id in ("));
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
        let mut qb = QueryBuilder::<C::Database>::new(format!(
            "select {MEMBERSHIP_COLUMNS} from memberships where person_id in ("
        ));
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
        // Nor does its identity provider: the SCIM user goes, with its groups.
        sqlx::query("delete from scim_users where organisation_id = $1 and person_id = $2")
            .bind(organisation)
            .bind(person)
            .execute(&mut *self)
            .await?;
        let mut qb = QueryBuilder::<C::Database>::new("update people set version = version + 1, updated_at = ");
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

mod memberships;
mod profiles;
mod rows;
mod scim;
mod sync;

pub use scim::{
    SCIM_SYSTEM, ScimGroupNarrow, ScimGroupRecord, ScimGroupWrite, ScimNarrow, ScimPut, ScimUserRecord, ScimUserWrite,
    placeholder_email,
};
