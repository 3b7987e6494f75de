//! SCIM users (decision 13): people as one organisation's identity provider sees them.
//!
//! A SCIM user is no copy of a person. Its name and address are the person's, its `active`
//! flag is the person's membership of the organisation, its `externalId` is the
//! organisation's reference of system [`SCIM_SYSTEM`], and the row in `scim_users` keeps
//! only what the provider says beyond that (its sign-in name, name parts, language, the
//! enterprise attributes). Every write moves the person's version on, so the change feed
//! tells the organisation's audience, and a deactivation ends the membership the way an
//! admin would.

use super::*;
use crate::scim::user::Attributes;

/// The external-reference system that holds SCIM `externalId`s.
pub const SCIM_SYSTEM: &str = "scim";

/// A SCIM user as stored, with what the network knows of the person now.
#[derive(Debug, Clone)]
pub struct ScimUserRecord {
    pub person_id: Uuid,
    pub user_name: String,
    pub external_id: Option<String>,
    pub attributes: Attributes,
    pub display_name: String,
    pub email: String,
    /// A membership of the organisation that has not ended.
    pub active: bool,
    /// `(group id, group name)`.
    pub groups: Vec<(Uuid, String)>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The row's version plus the person's: it moves whenever either does (a person's
    /// name or address changed elsewhere changes their SCIM view too).
    pub version: i64,
}

/// What [`Store::scim_put_user`] did.
#[derive(Debug, Clone)]
pub struct ScimPut {
    /// The user's id (the person's).
    pub person_id: Uuid,
    /// The user as written, when the write made a new person (nothing else to read back);
    /// `None` for anyone who was in the network before.
    pub created: Option<ScimUserRecord>,
}

/// What a create or replacement says, checked.
#[derive(Debug, Clone)]
pub struct ScimUserWrite {
    pub user_name: String,
    pub external_id: Option<String>,
    pub attributes: Attributes,
    /// The person's name in the network.
    pub name: String,
    /// The person's address; `None`: the provider gives none, so a person keeps theirs and a
    /// new one gets [`placeholder_email`].
    pub email: Option<Email>,
    pub active: bool,
}

/// The address of a person whose identity provider gives none (staff without a mailbox):
/// in the reserved `.invalid` domain (RFC 2606), so it never reaches anyone, and made from
/// the person's id, so it is nobody else's. They never sign in with it (they have no
/// password); the provider's first real address replaces it.
pub fn placeholder_email(person: Uuid) -> Email {
    Email::parse(&format!("{}@no-email.invalid", person.simple())).expect("a valid address")
}

/// What one organisation's provider keeps about a person, for the person's export.
#[derive(Debug, Clone)]
pub struct ScimKept {
    pub organisation_id: Uuid,
    pub user_name: String,
    pub attributes: Attributes,
    /// The groups' names.
    pub groups: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the network holds of a person a provider brings in: the name it gives, an address,
/// an employee (the stakeholder group of people an organisation provisions).
fn new_content(write: &ScimUserWrite, email: Email) -> PersonContent {
    PersonContent {
        name: write.name.clone(),
        email,
        stakeholder_group: StakeholderGroup::Employee,
        birth_year: None,
        age_band: None,
        languages: vec![],
    }
}

/// A new membership of `person` in `organisation`, made at `at`.
fn new_membership(person: Uuid, organisation: Uuid, terms: MembershipTerms, at: DateTime<Utc>) -> Membership {
    Membership {
        id: crate::db::ids::new_id(crate::db::ids::Kind::Membership),
        person_id: person,
        organisation_id: organisation,
        terms,
        created_at: at,
        updated_at: at,
        version: 1,
    }
}

/// Which users a list holds: all of the organisation's, or those these name (and-ed).
#[derive(Debug, Clone, Default)]
pub struct ScimNarrow {
    pub person_id: Option<Uuid>,
    /// Lowercase.
    pub user_name_key: Option<String>,
    pub external_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ScimRow {
    person_id: Uuid,
    user_name: String,
    external_id: Option<String>,
    attributes: String,
    display_name: String,
    email: String,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    /// One of the user's groups (a row per group; none without).
    group_id: Option<Uuid>,
    group_name: Option<String>,
}

fn push_narrow<DB>(qb: &mut QueryBuilder<DB>, organisation: Uuid, narrow: &ScimNarrow)
where
    DB: sqlx::Database,
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push(" where s.organisation_id = ").push_bind(organisation);
    if let Some(id) = narrow.person_id {
        qb.push(" and s.person_id = ").push_bind(id);
    }
    if let Some(key) = &narrow.user_name_key {
        qb.push(" and s.user_name_key = ").push_bind(key.clone());
    }
    if let Some(external_id) = &narrow.external_id {
        qb.push(
            " and s.person_id = (select resource_id from external_refs where scope_id = s.organisation_id
              and system = 'scim' and resource_type = 'person' and external_id = ",
        )
        .push_bind(external_id.clone())
        .push(")");
    }
}

// The reference is read by a subquery on its unique key, not a join: with no statistics yet
// (just after a provider's first load) PostgreSQL would scan the organisation's references
// for each user.
const SCIM_FROM: &str = " from scim_users s join people p on p.id = s.person_id";

// The reads of users and groups are prepared and kept per connection: their texts are few
// (which of the three narrowing columns are set; lists padded to powers of two), and the
// provider's lookups by `userName` are the hottest SCIM path.
impl Store {
    /// The organisation's SCIM users that `narrow` names, in the order they were made, with
    /// how many there are in all; `page` is `(offset, limit)`, `None` for all of them.
    #[tracing::instrument(skip(self))]
    pub async fn scim_users(
        &self,
        organisation: Uuid,
        narrow: &ScimNarrow,
        page: Option<(usize, usize)>,
        today: NaiveDate,
    ) -> StoreResult<(usize, Vec<ScimUserRecord>)> {
        let (total, rows) = on_pool!(self.reader(), |p, DB| async {
            let total: i64 = match page {
                None => 0,
                Some(_) => {
                    let mut qb = QueryBuilder::<DB>::new("select count(*)");
                    qb.push(SCIM_FROM);
                    push_narrow(&mut qb, organisation, narrow);
                    qb.build_query_scalar().fetch_one(p).await?
                }
            };
            // The users (a page of them), then their groups joined on: one query, a row per
            // user and group.
            let mut qb = QueryBuilder::<DB>::new(
                "select u.*, g.id as group_id, g.display_name as group_name from (
                 select s.person_id, s.user_name,
                 (select r.external_id from external_refs r where r.scope_id = s.organisation_id and r.system = 'scim'
                  and r.resource_type = 'person' and r.resource_id = s.person_id) as external_id,
                 s.attributes, p.display_name, p.email,
                 exists (select 1 from memberships m where m.person_id = s.person_id
                         and m.organisation_id = s.organisation_id and (m.ends_on is null or m.ends_on >= ",
            );
            qb.push_bind(today).push(")) as active, s.created_at, s.updated_at, s.version + p.version as version");
            qb.push(SCIM_FROM);
            push_narrow(&mut qb, organisation, narrow);
            qb.push(" order by s.created_at, s.person_id");
            if let Some((offset, limit)) = page {
                qb.push(" limit ")
                    .push_bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .push(" offset ")
                    .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
            }
            qb.push(") u left join scim_group_members gm on gm.organisation_id = ").push_bind(organisation).push(
                " and gm.person_id = u.person_id left join scim_groups g on g.id = gm.group_id
                     order by u.created_at, u.person_id, g.display_name, g.id",
            );
            let rows: Vec<ScimRow> = qb.build_query_as().fetch_all(p).await?;
            Ok::<_, StoreError>((total, rows))
        }
        .await)?;
        let mut users: Vec<ScimUserRecord> = Vec::new();
        for r in rows {
            let group = r.group_id.zip(r.group_name);
            if let Some(user) = users.last_mut().filter(|u| u.person_id == r.person_id) {
                user.groups.extend(group);
                continue;
            }
            users.push(ScimUserRecord {
                attributes: serde_json::from_str(&r.attributes).map_err(|_| invalid_stored("SCIM attributes"))?,
                groups: group.into_iter().collect(),
                person_id: r.person_id,
                user_name: r.user_name,
                external_id: r.external_id,
                display_name: r.display_name,
                email: r.email,
                active: r.active,
                created_at: r.created_at,
                updated_at: r.updated_at,
                version: r.version,
            });
        }
        let total = if page.is_some() { usize::try_from(total).unwrap_or(0) } else { users.len() };
        Ok((total, users))
    }

    /// What every organisation's provider keeps about `person` (their export).
    pub async fn scim_records_of(&self, person: Uuid) -> StoreResult<Vec<ScimKept>> {
        type Row = (Uuid, String, String, DateTime<Utc>, DateTime<Utc>);
        let (rows, groups): (Vec<Row>, Vec<(Uuid, String)>) = on_pool!(self.reader(), |p| async {
            let rows: Vec<Row> = sqlx::query_as(
                "select organisation_id, user_name, attributes, created_at, updated_at from scim_users
                 where person_id = $1 order by created_at",
            )
            .bind(person)
            .fetch_all(p)
            .await?;
            let groups: Vec<(Uuid, String)> = sqlx::query_as(
                "select gm.organisation_id, g.display_name from scim_group_members gm
                 join scim_groups g on g.id = gm.group_id where gm.person_id = $1 order by g.display_name",
            )
            .bind(person)
            .fetch_all(p)
            .await?;
            Ok::<_, StoreError>((rows, groups))
        }
        .await)?;
        rows.into_iter()
            .map(|(organisation_id, user_name, attributes, created_at, updated_at)| {
                Ok(ScimKept {
                    groups: groups.iter().filter(|(o, _)| *o == organisation_id).map(|(_, g)| g.clone()).collect(),
                    attributes: serde_json::from_str(&attributes).map_err(|_| invalid_stored("SCIM attributes"))?,
                    organisation_id,
                    user_name,
                    created_at,
                    updated_at,
                })
            })
            .collect()
    }

    /// The groups of `people`'s organisations they are in: `(person, organisation, group id,
    /// group name)`, by name.
    pub async fn groups_of(&self, people: &[Uuid]) -> StoreResult<Vec<(Uuid, Uuid, Uuid, String)>> {
        if people.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(
                "select gm.person_id, gm.organisation_id, g.id, g.display_name from scim_group_members gm
                 join scim_groups g on g.id = gm.group_id where gm.person_id in (",
            );
            let mut list = qb.separated(", ");
            for id in crate::db::padded_list(people) {
                list.push_bind(id);
            }
            qb.push(") order by g.display_name, g.id");
            qb.build_query_as().persistent(false).fetch_all(p).await
        })?)
    }

    /// One SCIM user of the organisation.
    pub async fn scim_user(&self, organisation: Uuid, person: Uuid, today: NaiveDate) -> StoreResult<ScimUserRecord> {
        let narrow = ScimNarrow { person_id: Some(person), ..Default::default() };
        self.scim_users(organisation, &narrow, None, today).await?.1.pop().ok_or(StoreError::NotFound)
    }

    /// Creates (`target` `None`) or replaces a SCIM user of the organisation, in one
    /// transaction, and gives its id (and the user, when it is a new person). A new user whose address is a person's of the network
    /// is that person, if they are a member of the organisation already; otherwise the
    /// address is taken. `userName` and `externalId` are unique in the organisation.
    /// Integration clients grant and end no admin rights: an `org_admin` membership is not
    /// ended or restored here. A person's sign-in address is theirs to change.
    #[tracing::instrument(skip(self, write))]
    pub async fn scim_put_user(
        &self,
        organisation: Uuid,
        target: Option<Uuid>,
        write: &ScimUserWrite,
        expected_version: Option<i64>,
        today: NaiveDate,
    ) -> StoreResult<ScimPut> {
        // No one's rights change here, so the rights kept for a second stay: a provider
        // grants and ends no admin membership (the only membership that gives rights) and
        // no network role.
        let at = now();
        let yesterday = today.pred_opt().unwrap_or(today);
        let user_name_key = write.user_name.to_lowercase();
        let attributes = serde_json::to_string(&write.attributes).map_err(anyhow::Error::from)?;
        if target.is_none()
            && let Some(put) = self.scim_create_new(organisation, write, &user_name_key, &attributes, at, today).await?
        {
            return Ok(put);
        }
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let conn = &mut *tx;
            // Writes to one person run one at a time (PostgreSQL; SQLite's write transactions
            // already do): the version read below is the one the write replaces.
            if let Some(t) = target {
                conn.lock_people(&[t]).await?;
            }
            let current: Option<(String, String, i64)> = match target {
                None => None,
                Some(t) => {
                    let row: Option<(String, String, i64)> = sqlx::query_as(
                        "select s.user_name, s.attributes, s.version + p.version from scim_users s
                         join people p on p.id = s.person_id where s.organisation_id = $1 and s.person_id = $2",
                    )
                    .bind(organisation)
                    .bind(t)
                    .fetch_optional(&mut *conn)
                    .await?;
                    let row = row.ok_or(StoreError::NotFound)?;
                    if expected_version.is_some_and(|e| e != row.2) {
                        return Err(StoreError::VersionMismatch { current: row.2 });
                    }
                    Some(row)
                }
            };
            // Who holds the user name, the external id and the address now, in one query.
            let (holder, ref_holder, owner): (Option<Uuid>, Option<Uuid>, Option<Uuid>) = sqlx::query_as(
                "select (select person_id from scim_users where organisation_id = $1 and user_name_key = $2),
                        (select resource_id from external_refs where scope_id = $1 and system = 'scim'
                            and resource_type = 'person' and external_id = $3),
                        (select id from people where email_key = $4)",
            )
            .bind(organisation)
            .bind(&user_name_key)
            .bind(write.external_id.as_deref())
            .bind(write.email.as_ref().map(Email::key))
            .fetch_one(&mut *conn)
            .await?;
            if holder.is_some_and(|h| Some(h) != target) {
                return Err(StoreError::conflict(
                    Rule::UserNameTaken,
                    format!("The userName {:?} is another user's in this organisation.", write.user_name),
                ));
            }
            if let Some(external_id) = &write.external_id
                && ref_holder.is_some_and(|h| Some(h) != target)
            {
                return Err(StoreError::conflict(
                    Rule::ReferenceTaken,
                    format!("The externalId {external_id:?} is another user's in this organisation."),
                ));
            }
            let person_id = match (target, owner) {
                (Some(t), Some(o)) if o != t => {
                    return Err(StoreError::conflict(
                        Rule::EmailTaken,
                        "The e-mail address is another person's in the network.",
                    ));
                }
                (Some(t), _) => t,
                (None, Some(o)) => {
                    let known_as: Option<String> = sqlx::query_scalar(
                        "select user_name from scim_users where organisation_id = $1 and person_id = $2",
                    )
                    .bind(organisation)
                    .bind(o)
                    .fetch_optional(&mut *conn)
                    .await?;
                    if let Some(name) = known_as {
                        return Err(StoreError::conflict(
                            Rule::UserNameTaken,
                            format!("The person with this e-mail address is already a user here, as {name:?}."),
                        ));
                    }
                    o
                }
                (None, None) => crate::db::ids::new_id(crate::db::ids::Kind::Person),
            };
            // A new person has nothing to lock or read yet.
            let new_person = target.is_none() && owner.is_none();
            let (existing, memberships) = if new_person {
                (None, vec![])
            } else {
                conn.lock_people(&[person_id]).await?;
                (conn.load_people(&[person_id]).await?.pop(), conn.load_memberships(&[person_id]).await?)
            };
            let mut organisations: Vec<Uuid> = memberships.iter().map(|m| m.organisation_id).collect();
            let member_now = memberships
                .iter()
                .any(|m| m.organisation_id == organisation && m.terms.ends_on.is_none_or(|e| e >= today));
            if target.is_none() && existing.is_some() && !member_now {
                // An organisation does not claim a person of the network by their address, nor
                // a former member: only one who is its member now.
                return Err(StoreError::conflict(
                    Rule::EmailTaken,
                    "The e-mail address belongs to a person who is not a member of this organisation now; an \
                     admin adds their membership first (POST /v1/organisations/{id}/memberships), then they can \
                     be provisioned.",
                ));
            }
            if !organisations.contains(&organisation) {
                organisations.push(organisation);
            }
            organisations.sort_unstable();
            organisations.dedup();
            // The address a person signs in with is theirs: a provider's other address stays in
            // the provider's view and does not replace it (nor stop the rest of the write, so a
            // leaver who changed their address is still deactivated).
            let email = match (&write.email, &existing) {
                (Some(email), Some(person))
                    if person.content.email.key() != email.key()
                        && !conn.people_with_password(&[person_id]).await?.is_empty() =>
                {
                    person.content.email.clone()
                }
                (Some(email), _) => email.clone(),
                (None, Some(person)) => person.content.email.clone(),
                (None, None) => placeholder_email(person_id),
            };

            // The membership: in force when `active`, ended yesterday when not.
            let here: Vec<&Membership> = memberships.iter().filter(|m| m.organisation_id == organisation).collect();
            let in_force = |m: &Membership| m.terms.ends_on.is_none_or(|e| e >= today);
            let mut new_memberships: Vec<Membership> = Vec::new();
            let mut changed: Vec<(&Membership, MembershipTerms)> = Vec::new();
            let admin = |m: &Membership| {
                if m.terms.role == MembershipRole::OrgAdmin {
                    Err(StoreError::Forbidden(format!("The membership {ADMIN_MEMBERSHIP}.")))
                } else {
                    Ok(())
                }
            };
            let active_now = here.iter().any(|m| in_force(m));
            let fresh = |terms: MembershipTerms| new_membership(person_id, organisation, terms, at);
            if write.active && !active_now {
                // Back: a new membership from today, in the role of the last one (history stays as
                // it was). An admin's comes back as an employee's: a provider grants no admin rights.
                let latest = here.iter().max_by_key(|m| (m.terms.starts_on, m.created_at));
                let role = match latest.map(|m| m.terms.role) {
                    Some(MembershipRole::OrgAdmin) | None => MembershipRole::Employee,
                    Some(role) => role,
                };
                new_memberships.push(fresh(MembershipTerms { role, starts_on: today, ends_on: None }));
            } else if !write.active && active_now {
                for m in here.iter().filter(|m| in_force(m)) {
                    admin(m)?;
                    changed.push((
                        m,
                        MembershipTerms {
                            starts_on: m.terms.starts_on.min(yesterday),
                            ends_on: Some(yesterday),
                            ..m.terms
                        },
                    ));
                }
            } else if !write.active && here.is_empty() {
                new_memberships.push(fresh(MembershipTerms {
                    role: MembershipRole::Employee,
                    starts_on: yesterday,
                    ends_on: Some(yesterday),
                }));
            }

            let external_now: Option<String> = if new_person {
                None
            } else {
                conn.refs_of_people(organisation, SCIM_SYSTEM, &[person_id]).await?.pop().map(|(e, _)| e)
            };
            let content = match &existing {
                Some(p) => PersonContent { name: write.name.clone(), email, ..p.content.clone() },
                None => new_content(write, email),
            };
            let row_changed =
                current.as_ref().is_none_or(|(name, attrs, _)| *name != write.user_name || *attrs != attributes)
                    || external_now != write.external_id;
            // The person moves on when what the network holds of them changes (their name or
            // address, or this organisation's reference to them, which its views show); what only
            // the provider keeps moves the SCIM row alone, so other organisations see nothing.
            let person_changed =
                existing.as_ref().is_none_or(|p| p.content != content) || external_now != write.external_id;
            if !row_changed && !person_changed && new_memberships.is_empty() && changed.is_empty() {
                tx.commit().await?;
                return Ok(ScimPut { person_id, created: None });
            }

            // Write it all, then the feed.
            let mut changes = Vec::new();
            let person = match &existing {
                None => {
                    let person = Person {
                        id: person_id,
                        content,
                        role: PersonRole::Member,
                        created_at: at,
                        updated_at: at,
                        version: 1,
                    };
                    conn.insert_people(std::slice::from_ref(&person), None).await?;
                    person
                }
                Some(current) if person_changed => {
                    let person = Person { content, updated_at: at, version: current.version + 1, ..current.clone() };
                    if conn.update_person_row(&person, current.version).await? != 1 {
                        return Err(StoreError::conflict(Rule::ChangedMeanwhile, "The person changed meanwhile."));
                    }
                    person
                }
                Some(current) => current.clone(),
            };
            if person_changed {
                changes.push(person_change(&person, &organisations)?);
            }
            conn.insert_memberships(&new_memberships).await?;
            for m in &new_memberships {
                changes.push(membership_change(m)?);
            }
            for (m, terms) in changed {
                let updated =
                    conn.update_membership_row(m.id, m.version, terms, at).await?.ok_or(StoreError::conflict(
                        Rule::ChangedMeanwhile,
                        "A membership of this person changed meanwhile; try again.",
                    ))?;
                changes.push(membership_change(&updated)?);
            }
            if external_now != write.external_id {
                if external_now.is_some() {
                    sqlx::query(
                        "delete from external_refs where scope_id = $1 and system = 'scim' and resource_type = 'person'
                     and resource_id = $2",
                    )
                    .bind(organisation)
                    .bind(person_id)
                    .execute(&mut *conn)
                    .await?;
                }
                if let Some(external_id) = &write.external_id {
                    conn.insert_refs(
                        organisation,
                        SCIM_SYSTEM,
                        ResourceType::Person,
                        &[(external_id.clone(), person_id)],
                    )
                    .await?;
                }
            }
            if current.is_some() {
                sqlx::query(
                    "update scim_users set user_name = $3, user_name_key = $4, attributes = $5, updated_at = $6,
                     version = version + 1 where organisation_id = $1 and person_id = $2",
                )
                .bind(organisation)
                .bind(person_id)
                .bind(&write.user_name)
                .bind(&user_name_key)
                .bind(&attributes)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            } else {
                sqlx::query(
                    "insert into scim_users (organisation_id, person_id, user_name, user_name_key, attributes,
                     created_at, updated_at, version) values ($1, $2, $3, $4, $5, $6, $6, 1)",
                )
                .bind(organisation)
                .bind(person_id)
                .bind(&write.user_name)
                .bind(&user_name_key)
                .bind(&attributes)
                .bind(at)
                .execute(&mut *conn)
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        StoreError::conflict(
                            Rule::UserNameTaken,
                            format!("The userName {:?} is another user's in this organisation.", write.user_name),
                        )
                    } else {
                        e.into()
                    }
                })?;
            }
            conn.record(&changes).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(ScimPut { person_id, created: None })
        }
        .await)
    }

    /// The common create: a user whose `userName`, `externalId` and address nobody in the
    /// network has yet, so a new person. Their rows go in one call to the database (a
    /// [`Batch`](crate::db::Batch), with the feed's entries on SQLite; PostgreSQL's feed takes
    /// one more), with nothing read first:
    /// the unique keys on the user name, the reference and the address are the checks.
    /// `None` when one of them is taken (nothing is written then): the full path of
    /// [`Store::scim_put_user`] finds out which, and claims a member by their address.
    async fn scim_create_new(
        &self,
        organisation: Uuid,
        write: &ScimUserWrite,
        user_name_key: &str,
        attributes: &str,
        at: DateTime<Utc>,
        today: NaiveDate,
    ) -> StoreResult<Option<ScimPut>> {
        let person_id = crate::db::ids::new_id(crate::db::ids::Kind::Person);
        let person = Person {
            id: person_id,
            content: new_content(write, write.email.clone().unwrap_or_else(|| placeholder_email(person_id))),
            role: PersonRole::Member,
            created_at: at,
            updated_at: at,
            version: 1,
        };
        // In force from today, or (a user made inactive) ended yesterday, as the full path does.
        let yesterday = today.pred_opt().unwrap_or(today);
        let terms = match write.active {
            true => MembershipTerms { role: MembershipRole::Employee, starts_on: today, ends_on: None },
            false => MembershipTerms { role: MembershipRole::Employee, starts_on: yesterday, ends_on: Some(yesterday) },
        };
        let membership = new_membership(person_id, organisation, terms, at);
        let changes = [person_change(&person, &[organisation])?, membership_change(&membership)?];
        let refs: Vec<(String, Uuid)> = write.external_id.iter().map(|e| (e.clone(), person_id)).collect();
        let written = on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let mut batch = crate::db::Batch::<DB>::new();
            push_insert_people(batch.next(), std::slice::from_ref(&person), None);
            push_insert_memberships(batch.next(), std::slice::from_ref(&membership));
            if !refs.is_empty() {
                crate::db::refs::push_insert_refs(batch.next(), organisation, SCIM_SYSTEM, ResourceType::Person, &refs);
            }
            let row = batch.next();
            row.push(
                "insert into scim_users (organisation_id, person_id, user_name, user_name_key, attributes, created_at, \
                 updated_at, version) ",
            );
            row.push_values([()], |mut row, ()| {
                row.push_bind(organisation)
                    .push_bind(person_id)
                    .push_bind(write.user_name.as_str())
                    .push_bind(user_name_key)
                    .push_bind(attributes)
                    .push_bind(at)
                    .push_bind(at)
                    .push_bind(1_i64);
            });
            let recorded = <DB as crate::db::feed::FeedInBatch>::push_changes(&mut batch, &changes);
            match batch.finish().build().execute(&mut *tx).await {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
            if !recorded {
                tx.record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(true)
        }
        .await)?;
        Ok(written.then(|| ScimPut {
            person_id,
            created: Some(ScimUserRecord {
                person_id,
                user_name: write.user_name.clone(),
                external_id: write.external_id.clone(),
                attributes: write.attributes.clone(),
                display_name: person.content.name.clone(),
                email: person.content.email.as_str().to_owned(),
                active: write.active,
                groups: vec![],
                created_at: at,
                updated_at: at,
                // The row's first version and the person's.
                version: 2,
            }),
        }))
    }

    /// Deletes a SCIM user: the person leaves the organisation (their memberships there go,
    /// with the organisation's references and groups). A person who belongs to no other
    /// organisation and has no sign-in of their own is erased instead, as
    /// [`Store::delete_person`] does, in the erasure's one transaction; anyone else stays in
    /// the network. Gives whether the person was erased.
    #[tracing::instrument(skip(self))]
    pub async fn scim_delete_user(
        &self,
        organisation: Uuid,
        person: Uuid,
        expected_version: Option<i64>,
    ) -> StoreResult<bool> {
        // The checks every deletion passes: the user, its version, no admin membership.
        let leaves_nothing = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let conn = &mut *tx;
            let checked = conn.scim_delete_checks(organisation, person, expected_version).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(checked)
        }
        .await)?;
        // Erased when nothing else holds the person (checked again under the erasure's lock);
        // else, or if something came to hold them meanwhile, they leave the organisation.
        if leaves_nothing && self.erase_if_only_of(person, organisation).await? {
            return Ok(true);
        }
        let _rights = self.rights.changing();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let conn = &mut *tx;
            conn.scim_delete_checks(organisation, person, expected_version).await?;
            let memberships = conn.load_memberships(&[person]).await?;
            let here: Vec<&Membership> = memberships.iter().filter(|m| m.organisation_id == organisation).collect();
            let mut changes = Vec::new();
            for m in &here {
                sqlx::query("delete from memberships where id = $1").bind(m.id).execute(&mut *conn).await?;
                changes.push(Change::delete(
                    ResourceType::Membership,
                    m.id,
                    m.version + 1,
                    false,
                    vec![person, organisation],
                ));
            }
            let ids: Vec<Uuid> = here.iter().map(|m| m.id).collect();
            conn.delete_refs(&ids).await?;
            sqlx::query("delete from scim_users where organisation_id = $1 and person_id = $2")
                .bind(organisation)
                .bind(person)
                .execute(&mut *conn)
                .await?;
            changes.extend(conn.leave_if_last(person, organisation).await?);
            conn.record(&changes).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)?;
        Ok(false)
    }
}

/// A SCIM group of the organisation (a team or department) with its members.
#[derive(Debug, Clone)]
pub struct ScimGroupRecord {
    pub id: Uuid,
    pub display_name: String,
    pub external_id: Option<String>,
    /// `(person, their name)`, by name.
    pub members: Vec<(Uuid, String)>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// What a group create or replacement says.
#[derive(Debug, Clone)]
pub struct ScimGroupWrite {
    pub display_name: String,
    pub external_id: Option<String>,
    /// SCIM users of the organisation.
    pub members: Vec<Uuid>,
}

/// Which groups a list holds: all of the organisation's, or those these name (and-ed).
#[derive(Debug, Clone, Default)]
pub struct ScimGroupNarrow {
    pub id: Option<Uuid>,
    /// Lowercase.
    pub display_key: Option<String>,
    pub external_id: Option<String>,
}

type GroupRow = (Uuid, String, Option<String>, DateTime<Utc>, DateTime<Utc>, i64);

fn push_group_narrow<DB>(qb: &mut QueryBuilder<DB>, organisation: Uuid, narrow: &ScimGroupNarrow)
where
    DB: sqlx::Database,
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push(" from scim_groups where organisation_id = ").push_bind(organisation);
    if let Some(id) = narrow.id {
        qb.push(" and id = ").push_bind(id);
    }
    if let Some(key) = &narrow.display_key {
        qb.push(" and display_key = ").push_bind(key.clone());
    }
    if let Some(external_id) = &narrow.external_id {
        qb.push(" and external_id = ").push_bind(external_id.clone());
    }
}

impl Store {
    /// The organisation's groups that `narrow` names, oldest first, with how many there are
    /// in all; `page` is `(offset, limit)`, `None` for all of them.
    #[tracing::instrument(skip(self))]
    pub async fn scim_groups(
        &self,
        organisation: Uuid,
        narrow: &ScimGroupNarrow,
        page: Option<(usize, usize)>,
    ) -> StoreResult<(usize, Vec<ScimGroupRecord>)> {
        let (total, rows, members) = on_pool!(self.reader(), |p, DB| async {
            let total: i64 = match page {
                None => 0,
                Some(_) => {
                    let mut qb = QueryBuilder::<DB>::new("select count(*)");
                    push_group_narrow(&mut qb, organisation, narrow);
                    qb.build_query_scalar().fetch_one(p).await?
                }
            };
            let mut qb =
                QueryBuilder::<DB>::new("select id, display_name, external_id, created_at, updated_at, version");
            push_group_narrow(&mut qb, organisation, narrow);
            qb.push(" order by created_at, id");
            if let Some((offset, limit)) = page {
                qb.push(" limit ")
                    .push_bind(i64::try_from(limit).unwrap_or(i64::MAX))
                    .push(" offset ")
                    .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
            }
            let rows: Vec<GroupRow> = qb.build_query_as().fetch_all(p).await?;
            let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
            let members: Vec<(Uuid, Uuid, String)> = if ids.is_empty() {
                vec![]
            } else {
                let mut qb = QueryBuilder::<DB>::new(
                    "select gm.group_id, gm.person_id, p.display_name from scim_group_members gm
                     join people p on p.id = gm.person_id where gm.organisation_id = ",
                );
                qb.push_bind(organisation);
                if ids.len() <= 500 {
                    qb.push(" and gm.group_id in (");
                    let mut list = qb.separated(", ");
                    for id in crate::db::padded_list(&ids) {
                        list.push_bind(id);
                    }
                    qb.push(")");
                }
                qb.push(" order by p.display_name, gm.person_id");
                qb.build_query_as().fetch_all(p).await?
            };
            Ok::<_, StoreError>((total, rows, members))
        }
        .await)?;
        let total = if page.is_some() { usize::try_from(total).unwrap_or(0) } else { rows.len() };
        let mut by_group: HashMap<Uuid, Vec<(Uuid, String)>> = HashMap::new();
        for (group, person, name) in members {
            by_group.entry(group).or_default().push((person, name));
        }
        let groups = rows
            .into_iter()
            .map(|(id, display_name, external_id, created_at, updated_at, version)| ScimGroupRecord {
                members: by_group.remove(&id).unwrap_or_default(),
                id,
                display_name,
                external_id,
                created_at,
                updated_at,
                version,
            })
            .collect();
        Ok((total, groups))
    }

    /// One group of the organisation.
    pub async fn scim_group(&self, organisation: Uuid, id: Uuid) -> StoreResult<ScimGroupRecord> {
        let narrow = ScimGroupNarrow { id: Some(id), ..Default::default() };
        self.scim_groups(organisation, &narrow, None).await?.1.pop().ok_or(StoreError::NotFound)
    }

    /// Those of `people` who are SCIM users of the organisation.
    pub async fn scim_users_among(&self, organisation: Uuid, people: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        if people.is_empty() {
            return Ok(vec![]);
        }
        Ok(on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new("select person_id from scim_users where organisation_id = ");
            qb.push_bind(organisation).push(" and person_id in (");
            let mut list = qb.separated(", ");
            for id in crate::db::padded_list(people) {
                list.push_bind(id);
            }
            qb.push(")");
            qb.build_query_scalar().persistent(false).fetch_all(p).await
        })?)
    }

    /// Creates (`target` `None`) or replaces a group of the organisation, its members
    /// included, in one transaction; gives its id. `displayName` is unique in the
    /// organisation, ignoring case. A member who is no user of the organisation (any more)
    /// is `NotFound`.
    #[tracing::instrument(skip(self, write))]
    pub async fn scim_put_group(
        &self,
        organisation: Uuid,
        target: Option<Uuid>,
        write: &ScimGroupWrite,
        expected_version: Option<i64>,
    ) -> StoreResult<Uuid> {
        let at = now();
        let key = write.display_name.to_lowercase();
        let mut members = write.members.clone();
        members.sort_unstable();
        members.dedup();
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let conn = &mut *tx;
            let mut read_version = None;
            if let Some(id) = target {
                let version: Option<i64> =
                    sqlx::query_scalar("select version from scim_groups where organisation_id = $1 and id = $2")
                        .bind(organisation)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                let version = version.ok_or(StoreError::NotFound)?;
                if expected_version.is_some_and(|e| e != version) {
                    return Err(StoreError::VersionMismatch { current: version });
                }
                read_version = Some(version);
            }
            let holder: Option<Uuid> =
                sqlx::query_scalar("select id from scim_groups where organisation_id = $1 and display_key = $2")
                    .bind(organisation)
                    .bind(&key)
                    .fetch_optional(&mut *conn)
                    .await?;
            if holder.is_some_and(|h| Some(h) != target) {
                return Err(StoreError::conflict(
                    Rule::GroupNameTaken,
                    format!("A group of this organisation is called {:?} already.", write.display_name),
                ));
            }
            let id = match target {
                Some(id) => {
                    // Only the version read: a write that came in between (PostgreSQL waits for
                    // it, then finds another version) makes this one start again.
                    let version = read_version.unwrap_or_default();
                    let n = sqlx::query(
                        "update scim_groups set display_name = $2, display_key = $3, external_id = $4,
                         updated_at = $5, version = version + 1 where id = $1 and version = $6",
                    )
                    .bind(id)
                    .bind(&write.display_name)
                    .bind(&key)
                    .bind(write.external_id.as_deref())
                    .bind(at)
                    .bind(version)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                    if n != 1 {
                        return Err(StoreError::VersionMismatch { current: version + 1 });
                    }
                    sqlx::query("delete from scim_group_members where group_id = $1")
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    id
                }
                None => {
                    let id = crate::db::ids::new_id(crate::db::ids::Kind::Group);
                    sqlx::query(
                        "insert into scim_groups (id, organisation_id, display_name, display_key, external_id,
                         created_at, updated_at, version) values ($1, $2, $3, $4, $5, $6, $6, 1)",
                    )
                    .bind(id)
                    .bind(organisation)
                    .bind(&write.display_name)
                    .bind(&key)
                    .bind(write.external_id.as_deref())
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                    id
                }
            };
            for chunk in members.chunks(500) {
                let mut qb =
                    QueryBuilder::new("insert into scim_group_members (group_id, organisation_id, person_id) ");
                qb.push_values(chunk, |mut row, person| {
                    row.push_bind(id).push_bind(organisation).push_bind(*person);
                });
                qb.build().persistent(false).execute(&mut *conn).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(id)
        }
        .await)
    }

    /// Deletes a group (its members stay users of the organisation).
    #[tracing::instrument(skip(self))]
    pub async fn scim_delete_group(
        &self,
        organisation: Uuid,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let version: Option<i64> =
                sqlx::query_scalar("select version from scim_groups where organisation_id = $1 and id = $2")
                    .bind(organisation)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let version = version.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|e| e != version) {
                return Err(StoreError::VersionMismatch { current: version });
            }
            sqlx::query("delete from scim_groups where id = $1").bind(id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        }
        .await)
    }
}
