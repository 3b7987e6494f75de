//! Learning records: storage, who may read them, summaries, and the HR systems' upserts.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::feed::{Change, FeedWriter, ResourceType};
use super::people::ItemConflict;
use super::refs::Upserted;
use super::{BeginWrite, Keyset, Rule, SortValue, Store, StoreError, StoreResult, now, on_pool};
use crate::config::DatabaseKind;
use crate::domain::event::Commitment;
use crate::domain::learning::{
    ActivityType, LearningContext, LearningRecord, RecordContent, RecordRef, Sharing, Skill, Visibility,
};

use super::page::Page;

pub use super::feed::NETWORK_AUDIENCE;

/// Whose records a reader may see besides their own.
#[derive(Debug, Clone, Default)]
pub struct RecordViewer {
    /// The reader's own records (a person).
    pub me: Option<Uuid>,
    /// Records shared with these organisations (`organisation` visibility).
    pub organisations: Vec<Uuid>,
    /// Records shared with the network (signed-in members).
    pub network: bool,
}

/// Filters of a record list.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    pub person_id: Option<Uuid>,
    pub activity_type: Option<ActivityType>,
    pub context: Option<LearningContext>,
    pub visibility: Option<Visibility>,
    pub theme: Option<String>,
    /// Records that took place (started) on or after this day.
    pub from: Option<NaiveDate>,
    /// ... and on or before this day.
    pub to: Option<NaiveDate>,
}

/// Hours and counts of a set of records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub activity_type: ActivityType,
    pub context: LearningContext,
    /// `2027-Q1`.
    pub quarter: String,
    pub records: i64,
    pub minutes: i64,
}

/// One item of an HR system's upsert.
#[derive(Debug, Clone)]
pub struct RecordUpsert {
    pub external_id: String,
    pub person_id: Uuid,
    pub content: RecordContent,
}

/// What an upsert did to one item.
#[derive(Debug, Clone, Copy)]
pub struct RecordUpsertOutcome {
    pub id: Uuid,
    pub version: i64,
    pub result: Upserted,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: Uuid,
    person_id: Uuid,
    title: String,
    description: Option<String>,
    learned: Option<String>,
    will_do_differently: Option<String>,
    activity_type: String,
    context: String,
    context_chosen: bool,
    started_on: NaiveDate,
    ended_on: Option<NaiveDate>,
    duration_minutes: Option<i64>,
    skills: String,
    themes: String,
    evidence: String,
    event_id: Option<Uuid>,
    commitment_id: Option<Uuid>,
    solution_id: Option<Uuid>,
    source: String,
    visibility: String,
    shared_with: String,
    ref_scope: Option<Uuid>,
    ref_system: Option<String>,
    ref_external_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

const RECORD_COLUMNS: &str = "r.id, r.person_id, r.title, r.description, r.learned, r.will_do_differently, \
     r.activity_type, r.context, r.context_chosen, r.started_on, r.ended_on, r.duration_minutes, r.skills, r.themes, \
     r.evidence, r.event_id, r.commitment_id, r.source, r.visibility, r.shared_with, r.ref_scope, r.ref_system, \
     r.ref_external_id, r.created_at, r.updated_at, r.version, r.solution_id";

fn invalid_stored(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("a stored learning record has an invalid {what}"))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|_| invalid_stored(what))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

impl TryFrom<RecordRow> for LearningRecord {
    type Error = StoreError;

    fn try_from(r: RecordRow) -> Result<Self, StoreError> {
        let skills: Vec<Skill> = from_json(&r.skills, "skill list")?;
        Ok(LearningRecord {
            id: r.id,
            person_id: r.person_id,
            content: RecordContent {
                title: r.title,
                description: r.description,
                learned: r.learned,
                will_do_differently: r.will_do_differently,
                activity_type: ActivityType::parse(&r.activity_type).ok_or_else(|| invalid_stored("activity type"))?,
                context: LearningContext::parse(&r.context).ok_or_else(|| invalid_stored("context"))?,
                context_chosen: r.context_chosen,
                started_on: r.started_on,
                ended_on: r.ended_on,
                duration_minutes: r.duration_minutes,
                skills,
                themes: from_json(&r.themes, "theme list")?,
                evidence: from_json(&r.evidence, "evidence list")?,
                event_id: r.event_id,
                commitment_id: r.commitment_id,
                solution_id: r.solution_id,
            },
            sharing: Sharing {
                visibility: Visibility::parse(&r.visibility).ok_or_else(|| invalid_stored("visibility"))?,
                shared_with: from_json(&r.shared_with, "organisation list")?,
            },
            source: r.source,
            external_ref: match (r.ref_scope, r.ref_system, r.ref_external_id) {
                (Some(scope), Some(system), Some(external_id)) => Some(RecordRef { scope, system, external_id }),
                _ => None,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
    }
}

/// Who may read a record besides facilitators' moderation: its owner, the organisations it
/// is shared with, and with `network` every signed-in member.
pub fn record_audience(r: &LearningRecord) -> Vec<Uuid> {
    let mut audience = vec![r.person_id];
    match r.sharing.visibility {
        Visibility::Private => {}
        Visibility::Organisation => audience.extend(r.sharing.shared_with.iter().copied()),
        Visibility::Network => audience.push(NETWORK_AUDIENCE),
    }
    audience
}

/// The feed entries of a change from `before` to `after`: a tombstone for whoever no
/// longer may read the record, then the record for whoever may.
fn change_entries(before: Option<&LearningRecord>, after: &LearningRecord) -> StoreResult<Vec<Change>> {
    let now_audience = record_audience(after);
    let mut changes = Vec::with_capacity(2);
    if let Some(before) = before {
        let dropped: Vec<Uuid> = record_audience(before).into_iter().filter(|a| !now_audience.contains(a)).collect();
        if !dropped.is_empty() {
            changes.push(Change::withdraw(ResourceType::LearningRecord, after.id, after.version, dropped));
        }
    }
    changes.push(Change::of(after, false, now_audience)?);
    Ok(changes)
}

/// Binds the columns of a record, in `INSERT_COLUMNS` order.
macro_rules! push_record {
    ($row:ident, $r:expr) => {{
        let r: &LearningRecord = $r;
        let c = &r.content;
        let reference = r.external_ref.as_ref();
        $row.push_bind(r.id)
            .push_bind(r.person_id)
            .push_bind(c.title.clone())
            .push_bind(c.description.clone())
            .push_bind(c.learned.clone())
            .push_bind(c.will_do_differently.clone())
            .push_bind(c.activity_type.as_str())
            .push_bind(c.context.as_str())
            .push_bind(c.context_chosen)
            .push_bind(c.started_on)
            .push_bind(c.ended_on)
            .push_bind(c.duration_minutes)
            .push_bind(to_json(&c.skills))
            .push_bind(to_json(&c.themes))
            .push_bind(to_json(&c.evidence))
            .push_bind(c.event_id)
            .push_bind(c.commitment_id)
            .push_bind(r.source.clone())
            .push_bind(r.sharing.visibility.as_str())
            .push_bind(to_json(&r.sharing.shared_with))
            .push_bind(reference.map(|x| x.scope))
            .push_bind(reference.map(|x| x.system.clone()))
            .push_bind(reference.map(|x| x.external_id.clone()))
            .push_bind(r.created_at)
            .push_bind(r.updated_at)
            .push_bind(r.version)
            .push_bind(c.solution_id);
    }};
}

const INSERT_COLUMNS: &str = "insert into learning_records (id, person_id, title, description, learned, \
     will_do_differently, activity_type, context, context_chosen, started_on, ended_on, duration_minutes, skills, themes, \
     evidence, event_id, commitment_id, source, visibility, shared_with, ref_scope, ref_system, ref_external_id, \
     created_at, updated_at, version, solution_id) ";

/// 27 parameters a row: 1,000 rows stay under SQLite's 32,766 and PostgreSQL's 65,535.
const INSERT_CHUNK: usize = 1_000;

/// Record writes inside a transaction, for both backends.
#[allow(async_fn_in_trait)]
pub(crate) trait RecordsTx {
    async fn insert_records(&mut self, records: &[&LearningRecord]) -> StoreResult<()>;
    async fn update_record_row(&mut self, r: &LearningRecord, expected_version: i64) -> StoreResult<bool>;
    async fn replace_shares(&mut self, records: &[&LearningRecord], fresh: bool) -> StoreResult<()>;
    /// Tombstones for every record of `person` (they go with the person).
    async fn forget_records_of(&mut self, person: Uuid) -> StoreResult<Vec<Change>>;
    /// Ends the sharing of a person's records with an organisation they no longer belong
    /// to (a record shared with it alone becomes private): its readers get tombstones.
    async fn unshare_records_with(&mut self, person: Uuid, organisation: Uuid) -> StoreResult<Vec<Change>>;
}

macro_rules! records_tx {
    ($conn:ty, $db:ty) => {
        impl RecordsTx for $conn {
            async fn insert_records(&mut self, records: &[&LearningRecord]) -> StoreResult<()> {
                for chunk in records.chunks(INSERT_CHUNK) {
                    self.insert_rows(chunk).await?;
                }
                self.replace_shares(records, true).await
            }

            async fn update_record_row(&mut self, r: &LearningRecord, expected_version: i64) -> StoreResult<bool> {
                let c = &r.content;
                let n = sqlx::query(
                    "update learning_records set title = $3, description = $4, learned = $5, will_do_differently = $6,
                         activity_type = $7, context = $8, context_chosen = $9, started_on = $10, ended_on = $11,
                         duration_minutes = $12, skills = $13, themes = $14, evidence = $15, event_id = $16,
                         commitment_id = $17, visibility = $18, shared_with = $19, updated_at = $20, version = $21, solution_id = $22
                     where id = $1 and version = $2",
                )
                .bind(r.id)
                .bind(expected_version)
                .bind(&c.title)
                .bind(&c.description)
                .bind(&c.learned)
                .bind(&c.will_do_differently)
                .bind(c.activity_type.as_str())
                .bind(c.context.as_str())
                .bind(c.context_chosen)
                .bind(c.started_on)
                .bind(c.ended_on)
                .bind(c.duration_minutes)
                .bind(to_json(&c.skills))
                .bind(to_json(&c.themes))
                .bind(to_json(&c.evidence))
                .bind(c.event_id)
                .bind(c.commitment_id)
                .bind(r.sharing.visibility.as_str())
                .bind(to_json(&r.sharing.shared_with))
                .bind(r.updated_at)
                .bind(r.version)
                .bind(c.solution_id)
                .execute(&mut *self)
                .await?
                .rows_affected();
                Ok(n == 1)
            }

            async fn replace_shares(&mut self, records: &[&LearningRecord], fresh: bool) -> StoreResult<()> {
                if !fresh {
                    for r in records {
                        sqlx::query("delete from learning_record_shares where record_id = $1")
                            .bind(r.id)
                            .execute(&mut *self)
                            .await?;
                    }
                }
                let shares: Vec<(Uuid, Uuid)> = records
                    .iter()
                    .filter(|r| r.sharing.visibility == Visibility::Organisation)
                    .flat_map(|r| r.sharing.shared_with.iter().map(|o| (r.id, *o)))
                    .collect();
                for chunk in shares.chunks(INSERT_CHUNK) {
                    let mut qb =
                        QueryBuilder::<$db>::new("insert into learning_record_shares (record_id, organisation_id) ");
                    qb.push_values(chunk, |mut row, (r, o)| {
                        row.push_bind(*r).push_bind(*o);
                    });
                    qb.build().persistent(false).execute(&mut *self).await?;
                }
                Ok(())
            }

            async fn forget_records_of(&mut self, person: Uuid) -> StoreResult<Vec<Change>> {
                let rows: Vec<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "select {RECORD_COLUMNS} from learning_records r where r.person_id = $1"
                )))
                .bind(person)
                .fetch_all(&mut *self)
                .await?;
                let mut changes = Vec::with_capacity(rows.len());
                for row in rows {
                    let r = LearningRecord::try_from(row)?;
                    changes.push(Change::delete(
                        ResourceType::LearningRecord,
                        r.id,
                        r.version + 1,
                        false,
                        record_audience(&r),
                    ));
                }
                // The person is gone, so no sync can bring their records back: the
                // references kept for that go too (an HR system's ids often name the person).
                sqlx::query("delete from deleted_record_refs where person_id = $1").bind(person).execute(&mut *self).await?;
                sqlx::query("delete from learning_records where person_id = $1").bind(person).execute(&mut *self).await?;
                Ok(changes)
            }

            async fn unshare_records_with(&mut self, person: Uuid, organisation: Uuid) -> StoreResult<Vec<Change>> {
                let rows: Vec<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "select {RECORD_COLUMNS} from learning_records r
                     where r.person_id = $1 and r.visibility = 'organisation'
                       and exists (select 1 from learning_record_shares s where s.record_id = r.id and s.organisation_id = $2)"
                )))
                .bind(person)
                .bind(organisation)
                .fetch_all(&mut *self)
                .await?;
                let at = now();
                let mut changes = Vec::with_capacity(rows.len() * 2);
                for row in rows {
                    let before = LearningRecord::try_from(row)?;
                    let mut after = before.clone();
                    after.sharing.shared_with.retain(|o| *o != organisation);
                    if after.sharing.shared_with.is_empty() {
                        after.sharing = Sharing::default();
                    }
                    after.updated_at = at;
                    after.version += 1;
                    if !self.update_record_row(&after, before.version).await? {
                        return Err(StoreError::VersionMismatch { current: before.version });
                    }
                    self.replace_shares(&[&after], false).await?;
                    changes.extend(change_entries(Some(&before), &after)?);
                }
                Ok(changes)
            }
        }
    };
}

records_tx!(sqlx::SqliteConnection, sqlx::Sqlite);
records_tx!(sqlx::PgConnection, sqlx::Postgres);

/// One multi-row insert of records, in each database's fastest form.
trait InsertRows {
    async fn insert_rows(&mut self, rows: &[&LearningRecord]) -> Result<(), sqlx::Error>;
}

impl InsertRows for sqlx::SqliteConnection {
    async fn insert_rows(&mut self, rows: &[&LearningRecord]) -> Result<(), sqlx::Error> {
        let mut qb = QueryBuilder::<sqlx::Sqlite>::new(INSERT_COLUMNS);
        qb.push_values(rows, |mut row, r| push_record!(row, r));
        qb.build().persistent(false).execute(&mut *self).await?;
        Ok(())
    }
}

/// PostgreSQL takes the columns as 26 arrays and `unnest`s them: one statement whose text
/// and parameter count do not grow with the rows, much cheaper to parse, plan and bind than
/// a `VALUES` list of 27,000 parameters.
impl InsertRows for sqlx::PgConnection {
    async fn insert_rows(&mut self, rows: &[&LearningRecord]) -> Result<(), sqlx::Error> {
        let col = |f: &dyn Fn(&LearningRecord) -> Option<String>| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
        let refs = |r: &LearningRecord| r.external_ref.clone();
        sqlx::query(
            "insert into learning_records (id, person_id, title, description, learned, will_do_differently,
                 activity_type, context, context_chosen, started_on, ended_on, duration_minutes, skills, themes,
                 evidence, event_id, commitment_id, source, visibility, shared_with, ref_scope, ref_system,
                 ref_external_id, created_at, updated_at, version, solution_id)
             select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::text[], $9::boolean[], $10::date[], $11::date[], $12::bigint[], $13::text[], $14::text[],
                 $15::text[], $16::uuid[], $17::uuid[], $18::text[], $19::text[], $20::text[], $21::uuid[],
                 $22::text[], $23::text[], $24::timestamptz[], $25::timestamptz[], $26::bigint[], $27::uuid[])",
        )
        .bind(rows.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.person_id).collect::<Vec<_>>())
        .bind(col(&|r| Some(r.content.title.clone())))
        .bind(col(&|r| r.content.description.clone()))
        .bind(col(&|r| r.content.learned.clone()))
        .bind(col(&|r| r.content.will_do_differently.clone()))
        .bind(col(&|r| Some(r.content.activity_type.as_str().to_string())))
        .bind(col(&|r| Some(r.content.context.as_str().to_string())))
        .bind(rows.iter().map(|r| r.content.context_chosen).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.content.started_on).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.content.ended_on).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.content.duration_minutes).collect::<Vec<_>>())
        .bind(col(&|r| Some(to_json(&r.content.skills))))
        .bind(col(&|r| Some(to_json(&r.content.themes))))
        .bind(col(&|r| Some(to_json(&r.content.evidence))))
        .bind(rows.iter().map(|r| r.content.event_id).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.content.commitment_id).collect::<Vec<_>>())
        .bind(col(&|r| Some(r.source.clone())))
        .bind(col(&|r| Some(r.sharing.visibility.as_str().to_string())))
        .bind(col(&|r| Some(to_json(&r.sharing.shared_with))))
        .bind(rows.iter().map(|r| refs(r).map(|x| x.scope)).collect::<Vec<_>>())
        .bind(col(&|r| refs(r).map(|x| x.system)))
        .bind(col(&|r| refs(r).map(|x| x.external_id)))
        .bind(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.updated_at).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
        .bind(rows.iter().map(|r| r.content.solution_id).collect::<Vec<_>>())
        .execute(&mut *self)
        .await?;
        Ok(())
    }
}

/// Keeps the reference of a deleted synced record, so a later sync does not bring it back.
async fn remember_deleted_ref<'c, E>(conn: E, person: Uuid, x: &RecordRef) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c>,
    for<'q> Uuid: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> String: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
{
    sqlx::query(
        "insert into deleted_record_refs (ref_scope, ref_system, ref_external_id, deleted_at, person_id)
         values ($1, $2, $3, $4, $5)
         on conflict (ref_scope, ref_system, ref_external_id) do nothing",
    )
    .bind(x.scope)
    .bind(x.system.clone())
    .bind(x.external_id.clone())
    .bind(now())
    .bind(person)
    .execute(conn)
    .await?;
    Ok(())
}

fn push_viewer<DB>(qb: &mut QueryBuilder<DB>, viewer: &RecordViewer)
where
    DB: sqlx::Database,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    qb.push(" and (1 = 0");
    if let Some(me) = viewer.me {
        qb.push(" or r.person_id = ").push_bind(me);
    }
    if !viewer.organisations.is_empty() {
        qb.push(" or (r.visibility = 'organisation' and exists (select 1 from learning_record_shares s where s.record_id = r.id and s.organisation_id in (");
        let mut list = qb.separated(", ");
        for o in &viewer.organisations {
            list.push_bind(*o);
        }
        qb.push(")))");
    }
    if viewer.network {
        qb.push(" or r.visibility = 'network'");
    }
    qb.push(")");
}

fn push_filter<DB>(qb: &mut QueryBuilder<DB>, filter: &RecordFilter)
where
    DB: sqlx::Database,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(p) = filter.person_id {
        qb.push(" and r.person_id = ").push_bind(p);
    }
    if let Some(t) = filter.activity_type {
        qb.push(" and r.activity_type = ").push_bind(t.as_str());
    }
    if let Some(c) = filter.context {
        qb.push(" and r.context = ").push_bind(c.as_str());
    }
    if let Some(v) = filter.visibility {
        qb.push(" and r.visibility = ").push_bind(v.as_str());
    }
    if let Some(theme) = &filter.theme {
        // Slugs are `[a-z0-9-]`: the quoted slug matches exactly one array element.
        qb.push(" and r.themes like ").push_bind(format!("%\"{theme}\"%"));
    }
    if let Some(from) = filter.from {
        qb.push(" and r.started_on >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        qb.push(" and r.started_on <= ").push_bind(to);
    }
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn get_record(&self, id: Uuid) -> StoreResult<LearningRecord> {
        let row: Option<RecordRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {RECORD_COLUMNS} from learning_records r where r.id = $1"
            )))
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Records matching `filter` that `viewer` may read (`None`: every record, for the
    /// export of one's own data), oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_records(
        &self,
        filter: &RecordFilter,
        viewer: Option<&RecordViewer>,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<LearningRecord>> {
        let rows: Vec<RecordRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb =
                QueryBuilder::<DB>::new(format!("select {RECORD_COLUMNS} from learning_records r where 1 = 1"));
            push_filter(&mut qb, filter);
            if let Some(viewer) = viewer {
                push_viewer(&mut qb, viewer);
            }
            if let Some(after) = after {
                qb.push(" and (r.created_at, r.id) > (");
                match &after.value {
                    SortValue::Time(t) => qb.push_bind(*t),
                    SortValue::Text(s) => qb.push_bind(s.clone()),
                };
                qb.push(", ").push_bind(after.id).push(")");
            }
            qb.push(" order by r.created_at, r.id limit ").push_bind(i64::try_from(limit + 1).unwrap_or(i64::MAX));
            qb.build_query_as().fetch_all(p).await
        })?;
        let items = rows.into_iter().map(LearningRecord::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |r| Keyset { value: SortValue::Time(r.created_at), id: r.id }))
    }

    /// Counts and minutes of `person`'s records from `from` to `to`, per activity type,
    /// context and quarter; with `organisations`, only the records shared with one of them.
    /// Grouped in SQL, so a person's thousand records come back as a few dozen rows.
    #[tracing::instrument(skip(self))]
    pub async fn record_summary(
        &self,
        person: Uuid,
        organisations: Option<&[Uuid]>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> StoreResult<Vec<SummaryRow>> {
        // The calendar quarter of the start date, `2027-Q1`: dates are ISO text in SQLite.
        let quarter = match self.kind() {
            DatabaseKind::Sqlite => {
                "substr(r.started_on, 1, 4) || '-Q' || ((cast(substr(r.started_on, 6, 2) as integer) + 2) / 3)"
            }
            // `extract` on a date is plain arithmetic; `to_char` casts each date to a
            // timestamp with time zone first, forty times slower over a thousand rows.
            DatabaseKind::Postgres => {
                "extract(year from r.started_on)::int || '-Q' || extract(quarter from r.started_on)::int"
            }
        };
        let rows: Vec<(String, String, String, i64, i64)> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!(
                "select r.activity_type, r.context, {quarter} as quarter, count(*),
                     cast(coalesce(sum(r.duration_minutes), 0) as bigint)
                 from learning_records r where r.person_id = "
            ));
            qb.push_bind(person);
            if let Some(from) = from {
                qb.push(" and r.started_on >= ").push_bind(from);
            }
            if let Some(to) = to {
                qb.push(" and r.started_on <= ").push_bind(to);
            }
            if let Some(orgs) = organisations {
                push_viewer(&mut qb, &RecordViewer { me: None, organisations: orgs.to_vec(), network: false });
            }
            qb.push(" group by r.activity_type, r.context, quarter");
            qb.build_query_as().fetch_all(p).await
        })?;
        rows.into_iter()
            .map(|(t, c, quarter, records, minutes)| {
                Ok(SummaryRow {
                    activity_type: ActivityType::parse(&t).ok_or_else(|| invalid_stored("activity type"))?,
                    context: LearningContext::parse(&c).ok_or_else(|| invalid_stored("context"))?,
                    quarter,
                    records,
                    minutes,
                })
            })
            .collect()
    }

    /// Stores a new record. With `done` (a done commitment as it will be once linked), the
    /// commitment is linked to the record in the same transaction.
    #[tracing::instrument(skip(self, record, done))]
    pub async fn create_record(&self, record: &LearningRecord, done: Option<&Commitment>) -> StoreResult<()> {
        let mut changes = change_entries(None, record)?;
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            if let Some(c) = done {
                let n = sqlx::query(
                    "update commitments set learning_record_id = $3, updated_at = $4, version = version + 1
                     where id = $1 and version = $2 and learning_record_id is null",
                )
                .bind(c.id)
                .bind(c.version - 1)
                .bind(record.id)
                .bind(c.updated_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n != 1 {
                    return Err(StoreError::conflict(
                        Rule::ChangedMeanwhile,
                        "The commitment changed meanwhile, or has a learning record already; read it again.",
                    ));
                }
                changes.push(super::events::commitment_change_in(&mut *tx, c).await?);
            }
            (*tx).insert_records(&[record]).await?;
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// Replaces a record's content and sharing if its version is still `expected_version`.
    #[tracing::instrument(skip(self, current, updated))]
    pub async fn update_record(
        &self,
        current: &LearningRecord,
        updated: &LearningRecord,
        expected_version: i64,
    ) -> StoreResult<()> {
        let changes = change_entries(Some(current), updated)?;
        let saved = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let saved = (*tx).update_record_row(updated, expected_version).await?;
            if saved {
                (*tx).replace_shares(&[updated], false).await?;
                (*tx).record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(saved)
        }
        .await)?;
        if saved { Ok(()) } else { Err(self.record_version_error(current.id).await?) }
    }

    async fn record_version_error(&self, id: Uuid) -> StoreResult<StoreError> {
        let current: Option<i64> =
            on_pool!(self.writer(), |p| sqlx::query_scalar("select version from learning_records where id = $1")
                .bind(id)
                .fetch_optional(p)
                .await)?;
        Ok(match current {
            Some(current) => StoreError::VersionMismatch { current },
            None => StoreError::NotFound,
        })
    }

    /// Deletes a record (the feed keeps a tombstone). A synced record's reference is kept,
    /// so the HR system cannot bring it back; a commitment it showed loses the link.
    #[tracing::instrument(skip(self, current, unlinked))]
    pub async fn delete_record(
        &self,
        current: &LearningRecord,
        expected_version: Option<i64>,
        unlinked: Vec<Commitment>,
    ) -> StoreResult<()> {
        let mut changes = vec![Change::delete(
            ResourceType::LearningRecord,
            current.id,
            current.version + 1,
            false,
            record_audience(current),
        )];
        let deleted = on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let n = sqlx::query("delete from learning_records where id = $1 and ($2 is null or version = $2)")
                .bind(current.id)
                .bind(expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                if let Some(x) = &current.external_ref {
                    remember_deleted_ref(&mut *tx, current.person_id, x).await?;
                }
                for c in &unlinked {
                    let n = sqlx::query(
                        "update commitments set learning_record_id = null, updated_at = $3, version = version + 1
                         where id = $1 and version = $2",
                    )
                    .bind(c.id)
                    .bind(c.version - 1)
                    .bind(c.updated_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n != 1 {
                        return Err(StoreError::conflict(
                            Rule::ChangedMeanwhile,
                            "A commitment linked to this record changed meanwhile; try again.",
                        ));
                    }
                    changes.push(super::events::commitment_change_in(&mut *tx, c).await?);
                }
                (*tx).record(&changes).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(n == 1)
        }
        .await)?;
        if deleted { Ok(()) } else { Err(self.record_version_error(current.id).await?) }
    }

    /// The record `person` made of an event, if any.
    pub async fn record_of_event(&self, person: Uuid, event: Uuid) -> StoreResult<Option<Uuid>> {
        Ok(on_pool!(self.reader(), |p| sqlx::query_scalar(
            "select id from learning_records where person_id = $1 and event_id = $2 and commitment_id is null limit 1"
        )
        .bind(person)
        .bind(event)
        .fetch_optional(p)
        .await)?)
    }

    /// The commitments that point at a record.
    pub async fn commitments_showing(&self, record: Uuid) -> StoreResult<Vec<Uuid>> {
        Ok(on_pool!(self.reader(), |p| sqlx::query_scalar("select id from commitments where learning_record_id = $1")
            .bind(record)
            .fetch_all(p)
            .await)?)
    }

    /// Which of `people` are current members of `organisation` on `today`.
    pub async fn members_among(
        &self,
        organisation: Uuid,
        people: &[Uuid],
        today: NaiveDate,
    ) -> StoreResult<HashSet<Uuid>> {
        let mut members = HashSet::new();
        for chunk in people.chunks(1_000) {
            let found: Vec<Uuid> = on_pool!(self.reader(), |p, DB| {
                let mut qb =
                    QueryBuilder::<DB>::new("select distinct person_id from memberships where organisation_id = ");
                qb.push_bind(organisation);
                qb.push(" and starts_on <= ").push_bind(today);
                qb.push(" and (ends_on is null or ends_on >= ").push_bind(today).push(")");
                qb.push(" and person_id in (");
                let mut list = qb.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_scalar().persistent(false).fetch_all(p).await
            })?;
            members.extend(found);
        }
        Ok(members)
    }

    /// Creates or updates records named by `(organisation, system, external id)`, one
    /// result per item in order; a refused item never stops the others. New records are
    /// private (their person decides whom to share them with) and keep `source`; an update
    /// changes the content only, never the sharing. A reference whose record its person
    /// deleted is refused. Runs as one transaction; retried when a concurrent writer
    /// breaks it, and finally item by item.
    #[tracing::instrument(skip(self, items), fields(items = items.len()))]
    pub async fn upsert_records(
        &self,
        organisation: Uuid,
        system: &str,
        source: &str,
        items: &[RecordUpsert],
    ) -> StoreResult<Vec<Result<RecordUpsertOutcome, ItemConflict>>> {
        for _ in 0..3 {
            match self.upsert_records_once(organisation, system, source, items).await {
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) => continue,
                other => return other,
            }
        }
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let one = self.upsert_records_once(organisation, system, source, std::slice::from_ref(item)).await;
            results.push(match one {
                Ok(mut r) => r.pop().expect("one result per item"),
                Err(StoreError::Conflict(_) | StoreError::VersionMismatch { .. }) => {
                    Err(ItemConflict::conflict("", "the record changed meanwhile; send it again"))
                }
                Err(e) => return Err(e),
            });
        }
        Ok(results)
    }

    async fn upsert_records_once(
        &self,
        organisation: Uuid,
        system: &str,
        source: &str,
        items: &[RecordUpsert],
    ) -> StoreResult<Vec<Result<RecordUpsertOutcome, ItemConflict>>> {
        let at = now();
        on_pool!(self.writer(), |p, DB| async {
            let mut tx = p.begin_write().await?;
            let mut existing: HashMap<String, LearningRecord> = HashMap::new();
            let mut deleted: HashSet<String> = HashSet::new();
            for chunk in items.chunks(1_000) {
                let mut qb = QueryBuilder::<DB>::new(format!(
                    "select {RECORD_COLUMNS} from learning_records r where r.ref_scope = "
                ));
                qb.push_bind(organisation).push(" and r.ref_system = ").push_bind(system);
                qb.push(" and r.ref_external_id in (");
                let mut list = qb.separated(", ");
                for item in chunk {
                    list.push_bind(item.external_id.as_str());
                }
                qb.push(")");
                let rows: Vec<RecordRow> = qb.build_query_as().persistent(false).fetch_all(&mut *tx).await?;
                for row in rows {
                    let r = LearningRecord::try_from(row)?;
                    let key = r.external_ref.as_ref().map(|x| x.external_id.clone()).unwrap_or_default();
                    existing.insert(key, r);
                }
                let mut qb =
                    QueryBuilder::<DB>::new("select ref_external_id from deleted_record_refs where ref_scope = ");
                qb.push_bind(organisation).push(" and ref_system = ").push_bind(system);
                qb.push(" and ref_external_id in (");
                let mut list = qb.separated(", ");
                for item in chunk {
                    list.push_bind(item.external_id.as_str());
                }
                qb.push(")");
                let gone: Vec<String> = qb.build_query_scalar().persistent(false).fetch_all(&mut *tx).await?;
                deleted.extend(gone);
            }

            let mut results = Vec::with_capacity(items.len());
            let mut created: Vec<LearningRecord> = Vec::new();
            let mut updated: Vec<(LearningRecord, LearningRecord)> = Vec::new();
            let mut seen: HashSet<&str> = HashSet::new();
            for item in items {
                if !seen.insert(item.external_id.as_str()) {
                    results.push(Err(ItemConflict::conflict("/external_id", "appears more than once in this request")));
                    continue;
                }
                if deleted.contains(&item.external_id) {
                    results.push(Err(ItemConflict::conflict(
                        "/external_id",
                        "names a record its person deleted; it is not brought back",
                    )));
                    continue;
                }
                match existing.get(&item.external_id) {
                    Some(current) if current.person_id != item.person_id => {
                        results.push(Err(ItemConflict::conflict(
                            "/person_id",
                            "this external id names another person's record; a record never changes owner",
                        )));
                    }
                    // The link to a solution is the person's, not the HR system's: a sync
                    // keeps it.
                    Some(current)
                        if current.content
                            == RecordContent { solution_id: current.content.solution_id, ..item.content.clone() } =>
                    {
                        results.push(Ok(RecordUpsertOutcome {
                            id: current.id,
                            version: current.version,
                            result: Upserted::Unchanged,
                        }));
                    }
                    Some(current) => {
                        let next = LearningRecord {
                            content: RecordContent { solution_id: current.content.solution_id, ..item.content.clone() },
                            updated_at: at,
                            version: current.version + 1,
                            ..current.clone()
                        };
                        results.push(Ok(RecordUpsertOutcome {
                            id: next.id,
                            version: next.version,
                            result: Upserted::Updated,
                        }));
                        updated.push((current.clone(), next));
                    }
                    None => {
                        let record = LearningRecord {
                            id: Uuid::now_v7(),
                            person_id: item.person_id,
                            content: item.content.clone(),
                            sharing: Sharing::default(),
                            source: source.to_string(),
                            external_ref: Some(RecordRef {
                                scope: organisation,
                                system: system.to_string(),
                                external_id: item.external_id.clone(),
                            }),
                            created_at: at,
                            updated_at: at,
                            version: 1,
                        };
                        results.push(Ok(RecordUpsertOutcome { id: record.id, version: 1, result: Upserted::Created }));
                        created.push(record);
                    }
                }
            }
            let mut changes = Vec::with_capacity(created.len() + updated.len());
            let fresh: Vec<&LearningRecord> = created.iter().collect();
            (*tx).insert_records(&fresh).await?;
            for r in &created {
                changes.extend(change_entries(None, r)?);
            }
            for (before, after) in &updated {
                if !(*tx).update_record_row(after, before.version).await? {
                    return Err(StoreError::VersionMismatch { current: before.version });
                }
                changes.extend(change_entries(Some(before), after)?);
            }
            for chunk in changes.chunks(2_000) {
                (*tx).record(chunk).await?;
            }
            tx.commit().await?;
            Ok(results)
        }
        .await)
    }
}
