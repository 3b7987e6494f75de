//! Learning records: storage, who may read them, summaries, and the HR systems' upserts.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::feed::{Change, FeedWriter, ResourceType};
use super::people::ItemConflict;
use super::refs::Upserted;
use super::{BeginWrite, Keyset, RowsAffected, Rule, SortValue, Store, StoreError, StoreResult, now, on_pool};
use crate::config::DatabaseKind;
use crate::domain::event::Commitment;
use crate::domain::learning::{
    ActivityType, LearningContext, LearningRecord, RecordContent, RecordRef, Sharing, Skill, Visibility,
};

use super::page::Page;

pub use super::feed::NETWORK_AUDIENCE;

pub use rows::*;

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

impl RecordViewer {
    /// The rule `push_viewer` applies in SQL, for one record.
    pub fn may_read(&self, owner: Uuid, visibility: Visibility, shared_with: &[Uuid]) -> bool {
        self.me == Some(owner)
            || (visibility == Visibility::Network && self.network)
            || (visibility == Visibility::Organisation && shared_with.iter().any(|o| self.organisations.contains(o)))
    }
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

impl<C> RecordsTx for C
where
    C: sqlx::Connection + Send,
    C::Database: sqlx::database::HasStatementCache,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
    <C::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<C::Database>,
    for<'q> &'q str: sqlx::Encode<'q, C::Database> + sqlx::Type<C::Database>,
    usize: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<<C::Database as sqlx::Database>::Row>,
    for<'q> bool: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> chrono::DateTime<chrono::Utc>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> chrono::NaiveDate: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> i64: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::option::Option<chrono::NaiveDate>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::option::Option<i64>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::option::Option<std::string::String>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::option::Option<uuid::Uuid>:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> std::string::String:
        sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    for<'q> uuid::Uuid: sqlx::Encode<'q, C::Database> + sqlx::Decode<'q, C::Database> + sqlx::Type<C::Database>,
    C: InsertRows,
    <C::Database as sqlx::Database>::QueryResult: crate::db::RowsAffected,
{
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
                QueryBuilder::<C::Database>::new("insert into learning_record_shares (record_id, organisation_id) ");
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
            changes.push(Change::delete(ResourceType::LearningRecord, r.id, r.version + 1, false, record_audience(&r)));
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

mod log;
mod rows;
