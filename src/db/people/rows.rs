//! Rows as stored, and what they turn into.

use super::*;
pub(super) use crate::db::invalid_stored;

pub(super) const PERSON_COLUMNS: &str = "id, email, display_name, role, stakeholder_group, birth_year, age_band, languages, \
                              created_at, updated_at, version";
pub(super) const MEMBERSHIP_COLUMNS: &str =
    "id, person_id, organisation_id, role, starts_on, ends_on, created_at, updated_at, version";

/// A membership as a person's view needs it: the organisation, its name, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tie {
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

impl Tie {
    /// Whether the membership is in force on `day`.
    pub fn current(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && self.ends_on.is_none_or(|end| end >= day)
    }
}

pub(super) type TieRow = (Uuid, Uuid, String, NaiveDate, Option<NaiveDate>);

impl From<TieRow> for Tie {
    fn from((person_id, organisation_id, name, starts_on, ends_on): TieRow) -> Self {
        Tie { person_id, organisation_id, name, starts_on, ends_on }
    }
}

/// The memberships of `people` with their organisations' names (see [`Tie`]), by name.
pub(super) fn ties_query<DB>(people: &[Uuid]) -> QueryBuilder<DB>
where
    DB: sqlx::Database,
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new(
        "select m.person_id, m.organisation_id, o.name, m.starts_on, m.ends_on
         from memberships m join organisations o on o.id = m.organisation_id where m.person_id in (",
    );
    let mut list = qb.separated(", ");
    for id in crate::db::padded_list(people) {
        list.push_bind(id);
    }
    qb.push(") order by o.name, m.organisation_id");
    qb
}

/// A person with one of their memberships (none: `None`s), see [`Store::get_person_tied`].
#[derive(sqlx::FromRow)]
pub(super) struct PersonTieRow {
    #[sqlx(flatten)]
    pub(super) person: PersonRow,
    pub(super) organisation_id: Option<Uuid>,
    pub(super) organisation_name: Option<String>,
    pub(super) starts_on: Option<NaiveDate>,
    pub(super) ends_on: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
pub(super) struct PersonRow {
    pub(super) id: Uuid,
    pub(super) email: String,
    pub(super) display_name: String,
    pub(super) role: String,
    pub(super) stakeholder_group: String,
    pub(super) birth_year: Option<i32>,
    pub(super) age_band: Option<String>,
    pub(super) languages: String,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
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
pub(super) struct MembershipRow {
    pub(super) id: Uuid,
    pub(super) person_id: Uuid,
    pub(super) organisation_id: Uuid,
    pub(super) role: String,
    pub(super) starts_on: NaiveDate,
    pub(super) ends_on: Option<NaiveDate>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
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

pub(super) fn search_text(c: &PersonContent) -> String {
    fold(&c.name)
}

pub(super) fn languages_json(languages: &[String]) -> String {
    serde_json::to_string(languages).unwrap_or_else(|_| "[]".into())
}

pub(super) fn email_conflict(e: sqlx::Error, email: &Email) -> StoreError {
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
pub(super) fn person_change(person: &Person, organisations: &[Uuid]) -> StoreResult<Change> {
    let mut audience = vec![person.id];
    audience.extend_from_slice(organisations);
    Change::of(person, false, audience)
}

pub(super) fn membership_change(m: &Membership) -> StoreResult<Change> {
    Change::of(m, false, vec![m.person_id, m.organisation_id])
}
