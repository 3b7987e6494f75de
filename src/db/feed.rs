//! The change feed: every create, update and delete, in commit order, with who may see it.
//!
//! Writers call [`FeedWriter::record`] inside the transaction that makes the change, as its
//! last step. On PostgreSQL that step takes a transaction-scoped advisory lock, so change
//! sequence numbers are handed out in commit order across every instance: a reader that
//! has seen `seq = n` can never later find a committed change below `n`. On SQLite the one
//! writer connection gives the same order. See `docs/decisions/0005-change-feed.md`.

use std::future::Future;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, QueryBuilder, SqliteConnection};
use uuid::Uuid;

use super::{Batch, BeginWrite, Store, StoreError, StoreResult, now, on_pool};

/// The advisory lock that orders feed writers on PostgreSQL ("VOVFEED" in ASCII).
const FEED_LOCK: i64 = 0x0056_4F56_4645_4544;

crate::domain::str_enum! {
    /// A resource type in the change feed.
    ResourceType {
        Theme = "theme",
        Organisation = "organisation",
        Person = "person",
        Membership = "membership",
        Event = "event",
        Registration = "registration",
        Commitment = "commitment",
        LearningRecord = "learning_record",
        Challenge = "challenge",
        Solution = "solution",
        Comment = "comment",
        Endorsement = "endorsement",
    }
}

crate::domain::str_enum! {
    /// What happened to the resource.
    Operation {
        Create = "create",
        Update = "update",
        Delete = "delete",
    }
}

/// The audience of every signed-in person (network-visible learning records); no client
/// reads it.
pub const NETWORK_AUDIENCE: Uuid = Uuid::from_u128(0x564f_565f_4e45_5457_4f52_4b5f_4d45_4d42);

/// Namespace of the audiences that only an organisation's admins make up.
const ADMINS_NAMESPACE: Uuid = Uuid::from_u128(0x564f_565f_4144_4d49_4e53_5f4f_4e4c_5921);

/// The audience of `organisation`'s admins alone: not its integration clients (an
/// organisation's own id addresses both). Draft events and commitments go to admins only.
pub fn admins_of(organisation: Uuid) -> Uuid {
    Uuid::new_v5(&ADMINS_NAMESPACE, organisation.as_bytes())
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change {
    pub resource_type: ResourceType,
    pub resource_id: Uuid,
    pub version: i64,
    pub operation: Operation,
    /// The resource as of this version (JSON); `None` for deletes.
    pub body: Option<String>,
    /// Every signed-in caller may see it (themes, organisations).
    pub public: bool,
    /// Organisations and people who may see it when it is not public.
    pub audience: Vec<Uuid>,
    /// For a delete: the resource lives on, only `audience` loses sight of it.
    pub withdrawal: bool,
}

impl Change {
    /// A tombstone: the resource is gone. Its earlier entries go with it.
    pub fn delete(resource_type: ResourceType, id: Uuid, version: i64, public: bool, audience: Vec<Uuid>) -> Self {
        Self {
            resource_type,
            resource_id: id,
            version,
            operation: Operation::Delete,
            body: None,
            public,
            audience,
            withdrawal: false,
        }
    }

    /// A tombstone for `audience` only, who may no longer read a resource that lives on:
    /// they delete their copy, and the resource's entries are no longer theirs to read.
    pub fn withdraw(resource_type: ResourceType, id: Uuid, version: i64, audience: Vec<Uuid>) -> Self {
        Self { withdrawal: true, ..Self::delete(resource_type, id, version, false, audience) }
    }

    /// Whether this change replaces what the feed held of its resource: anything but a
    /// withdrawal, which only narrows. (A create of a new resource has nothing before it,
    /// but a resource re-issued to a new audience at version 1 does.)
    fn supersedes(&self) -> bool {
        !self.withdrawal
    }
}

/// What the feed holds of one resource after a write, per the rule of
/// `docs/decisions/0009-feed-follows-current-rights.md`: at most one entry with content (its
/// latest, for its current audience) and tombstones. Returns the changes to insert, in
/// order (withdrawals first, so the update that follows is the resource's latest entry),
/// without any content change that a later change of the same batch supersedes.
fn settle(changes: &[Change]) -> Vec<&Change> {
    let mut last_superseding: std::collections::HashMap<Uuid, usize> = std::collections::HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        if c.supersedes() {
            last_superseding.insert(c.resource_id, i);
        }
    }
    let mut kept: Vec<&Change> = changes
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            c.operation == Operation::Delete || last_superseding.get(&c.resource_id).is_none_or(|last| last <= i)
        })
        .map(|(_, c)| c)
        .collect();
    kept.sort_by_key(|c| !c.withdrawal);
    kept
}

/// Records changes on a connection inside the writing transaction.
pub trait FeedWriter {
    fn record<'a>(&'a mut self, changes: &'a [Change]) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a;
}

/// Writes `changes` on a connection inside the caller's transaction: the entries, their
/// audiences, and the removal of what they supersede. Generic over the database.
/// Whether a multi-row insert of `rows` rows is prepared once and cached: the few short
/// ones every single write makes are (a handful of texts per connection), a batch's are not
/// (they would fill the statement cache with texts used once).
fn cached(rows: usize) -> bool {
    rows <= 4
}

/// The values of one entry of `insert into changes (resource_type, resource_id, version,
/// operation, body, public, changed_at)`.
fn push_change<DB>(mut row: sqlx::query_builder::Separated<'_, DB, &'static str>, c: &Change, at: DateTime<Utc>)
where
    DB: sqlx::Database,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    row.push_bind(c.resource_type.as_str())
        .push_bind(c.resource_id)
        .push_bind(c.version)
        .push_bind(c.operation.as_str())
        .push_bind(c.body.as_deref())
        .push_bind(c.public)
        .push_bind(at);
}

async fn write_changes<DB>(conn: &mut DB::Connection, changes: &[Change]) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'r> (i64, Uuid, i64, String): sqlx::FromRow<'r, DB::Row>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let changes = settle(changes);
    let at = now();
    // Bounded by the largest batch (1,000 items, two changes each) times 7
    // parameters: far below both databases' parameter limits.
    let mut qb = QueryBuilder::<DB>::new(
        "insert into changes (resource_type, resource_id, version, operation, body, public, changed_at) ",
    );
    qb.push_values(&changes, |row, c| push_change(row, c, at));
    // A person who leaves an organisation gets two changes of one version: a
    // tombstone for the organisation and an update for everyone else.
    qb.push(" returning seq, resource_id, version, operation");
    let seqs: Vec<(i64, Uuid, i64, String)> =
        qb.build_query_as().persistent(cached(changes.len())).fetch_all(&mut *conn).await?;
    let first = seqs.iter().map(|(seq, ..)| *seq).min().unwrap_or(0);
    let seq_of: std::collections::HashMap<(Uuid, i64, String), i64> =
        seqs.into_iter().map(|(seq, id, version, op)| ((id, version, op), seq)).collect();
    let mut audience: Vec<(Uuid, i64)> = Vec::new();
    for c in &changes {
        if let Some(seq) = seq_of.get(&(c.resource_id, c.version, c.operation.as_str().to_string())) {
            audience.extend(c.audience.iter().map(|a| (*a, *seq)));
        }
    }
    audience.sort_unstable();
    audience.dedup();
    for chunk in audience.chunks(1000) {
        let mut qb = QueryBuilder::<DB>::new("insert into change_audience (audience_id, seq) ");
        qb.push_values(chunk, |mut row, (a, seq)| {
            row.push_bind(*a).push_bind(*seq);
        });
        qb.build().persistent(cached(chunk.len())).execute(&mut *conn).await?;
    }
    // An update or a delete replaces every earlier entry with content: those
    // were addressed to whom could read the resource then, not now.
    let superseded = superseded(&changes);
    for chunk in superseded.chunks(1000) {
        let mut qb = QueryBuilder::<DB>::new("delete from changes where operation <> 'delete' and seq < ");
        qb.push_bind(first).push(" and resource_id in (");
        let mut list = qb.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        qb.push(")");
        qb.build().persistent(false).execute(&mut *conn).await?;
    }
    withdraw_earlier::<DB>(conn, &changes, &superseded, first).await
}

/// The resources whose earlier entries `changes` replace, sorted.
fn superseded(changes: &[&Change]) -> Vec<Uuid> {
    let mut superseded: Vec<Uuid> = changes.iter().filter(|c| c.supersedes()).map(|c| c.resource_id).collect();
    superseded.sort_unstable();
    superseded.dedup();
    superseded
}

/// A withdrawal alone (the resource did not change): whoever it names no longer reads the
/// resource's entries before `first` (the first of this write's).
async fn withdraw_earlier<DB>(
    conn: &mut DB::Connection,
    changes: &[&Change],
    superseded: &[Uuid],
    first: i64,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database + sqlx::database::HasStatementCache,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for w in changes.iter().filter(|c| c.withdrawal && superseded.binary_search(&c.resource_id).is_err()) {
        let mut qb = QueryBuilder::<DB>::new(
            "delete from change_audience where seq in (select seq from changes where resource_id = ",
        );
        qb.push_bind(w.resource_id).push(" and seq < ").push_bind(first).push(") and audience_id in (");
        let mut list = qb.separated(", ");
        for a in &w.audience {
            list.push_bind(*a);
        }
        qb.push(")");
        qb.build().persistent(false).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The feed's writes as part of a [`Batch`] of a transaction's writes, where the database
/// allows it, so that they cost no round trip of their own.
pub(crate) trait FeedInBatch: sqlx::Database + super::Dialect + Sized {
    /// Pushes the entries of `changes` onto `batch` and gives `true`; or pushes nothing and
    /// gives `false`, and the caller records them with [`FeedWriter::record`] after the batch.
    fn push_changes(batch: &mut Batch<Self>, changes: &[Change]) -> bool;
}

/// The changes of one single write at the most (a resource and its neighbours); more go as
/// [`write_changes`] writes them, in multi-row statements.
const SMALL: usize = 4;

impl FeedInBatch for sqlx::Sqlite {
    /// The single writer assigns the sequence numbers of one transaction one after another,
    /// so each entry's audience takes the latest number, and what the entries supersede is
    /// everything of theirs before the first of them. A write that only narrows (a
    /// withdrawal), or a batch of many, is not taken.
    fn push_changes(batch: &mut Batch<Self>, changes: &[Change]) -> bool {
        let changes = settle(changes);
        if changes.is_empty() || changes.len() > SMALL || changes.iter().any(|c| c.withdrawal) {
            return false;
        }
        let at = now();
        for c in &changes {
            batch
                .next()
                .push("insert into changes (resource_type, resource_id, version, operation, body, public, changed_at) ")
                .push_values([c], |row, c| push_change(row, c, at));
            let mut audience = c.audience.clone();
            audience.sort_unstable();
            audience.dedup();
            if !audience.is_empty() {
                let qb = batch.next();
                qb.push("insert into change_audience (audience_id, seq) select column1, (select max(seq) from changes) from (");
                qb.push_values(&audience, |mut row, a| {
                    row.push_bind(*a);
                });
                qb.push(")");
            }
        }
        let superseded = superseded(&changes);
        if !superseded.is_empty() {
            let qb = batch.next();
            qb.push("delete from changes where operation <> 'delete' and seq <= (select max(seq) from changes) - ")
                .push_bind(i64::try_from(changes.len()).unwrap_or(i64::MAX))
                .push(" and resource_id in (");
            let mut list = qb.separated(", ");
            for id in &superseded {
                list.push_bind(*id);
            }
            qb.push(")");
        }
        true
    }
}

impl FeedInBatch for sqlx::Postgres {
    /// Never: its feed statement takes the feed's lock, held to the commit, and is best
    /// sent last.
    fn push_changes(_: &mut Batch<Self>, _: &[Change]) -> bool {
        false
    }
}

impl FeedWriter for SqliteConnection {
    async fn record(&mut self, changes: &[Change]) -> Result<(), sqlx::Error> {
        // The single writer connection already serialises commits.
        if changes.is_empty() {
            return Ok(());
        }
        // A single write's few entries in one call; more as a batch's.
        let mut batch = Batch::new();
        if sqlx::Sqlite::push_changes(&mut batch, changes) {
            // Kept prepared when its text recurs (short audiences, as most single writes
            // have), so that one-off texts do not push the hot statements out of the cache.
            let recurring = changes.iter().all(|c| c.audience.len() <= SMALL);
            batch.finish().build().persistent(recurring).execute(&mut *self).await?;
            return Ok(());
        }
        write_changes::<sqlx::Sqlite>(self, changes).await
    }
}

impl FeedWriter for PgConnection {
    async fn record(&mut self, changes: &[Change]) -> Result<(), sqlx::Error> {
        if changes.is_empty() {
            return Ok(());
        }
        let changes = settle(changes);
        let superseded = superseded(&changes);
        // One statement, the same text for any number of changes (prepared once, cached):
        // it takes the feed lock (held to commit, so seq order is commit order), inserts the
        // entries in order with their audiences, and removes what they supersede (the
        // statement does not see its own inserts, so only earlier entries go).
        let (mut types, mut ids, mut versions, mut operations, mut bodies, mut public) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut audience, mut audience_of) = (vec![], vec![]);
        for (n, c) in changes.iter().enumerate() {
            types.push(c.resource_type.as_str());
            ids.push(c.resource_id);
            versions.push(c.version);
            operations.push(c.operation.as_str());
            bodies.push(c.body.as_deref());
            public.push(c.public);
            for a in &c.audience {
                audience.push(*a);
                audience_of.push(i64::try_from(n + 1).unwrap_or(i64::MAX));
            }
        }
        let first: Option<i64> = sqlx::query_scalar(
            "with feed_lock as materialized (select pg_advisory_xact_lock($1)),
             input as (
                 select * from unnest($2::text[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::boolean[])
                     with ordinality as i (resource_type, resource_id, version, operation, body, public, n)
             ),
             entries as (
                 insert into changes (resource_type, resource_id, version, operation, body, public, changed_at)
                 select i.resource_type, i.resource_id, i.version, i.operation, i.body, i.public, $8
                 from input i cross join feed_lock
                 order by i.n
                 returning seq, resource_id, version, operation
             ),
             audiences as (
                 insert into change_audience (audience_id, seq)
                 select distinct a.audience_id, e.seq
                 from unnest($9::uuid[], $10::bigint[]) as a (audience_id, n)
                 join input i on i.n = a.n
                 join entries e on e.resource_id = i.resource_id and e.version = i.version
                                and e.operation = i.operation
             ),
             replaced as (
                 delete from changes where operation <> 'delete' and resource_id = any($11::uuid[])
             )
             select min(seq) from entries",
        )
        .bind(FEED_LOCK)
        .bind(types)
        .bind(ids)
        .bind(versions)
        .bind(operations)
        .bind(bodies)
        .bind(public)
        .bind(now())
        .bind(audience)
        .bind(audience_of)
        .bind(&superseded)
        .fetch_one(&mut *self)
        .await?;
        withdraw_earlier::<sqlx::Postgres>(self, &changes, &superseded, first.unwrap_or(0)).await
    }
}

/// Who is reading the feed: they see changes of `types` that are public, of a type in
/// `open`, or addressed to one of `audience`.
#[derive(Debug, Clone)]
pub struct FeedReader {
    pub audience: Vec<Uuid>,
    pub types: Vec<ResourceType>,
    pub open: Vec<ResourceType>,
}

/// One change as read back.
#[derive(Debug, Clone)]
pub struct ChangeEntry {
    pub seq: i64,
    pub resource_type: ResourceType,
    pub resource_id: Uuid,
    pub version: i64,
    pub operation: Operation,
    pub body: Option<String>,
    pub changed_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct ChangeRow {
    seq: i64,
    resource_type: String,
    resource_id: Uuid,
    version: i64,
    operation: String,
    body: Option<String>,
    changed_at: DateTime<Utc>,
}

impl TryFrom<ChangeRow> for ChangeEntry {
    type Error = StoreError;

    fn try_from(r: ChangeRow) -> Result<Self, StoreError> {
        Ok(ChangeEntry {
            seq: r.seq,
            resource_type: ResourceType::parse(&r.resource_type)
                .ok_or_else(|| anyhow::anyhow!("stored resource type {:?}", r.resource_type))?,
            resource_id: r.resource_id,
            version: r.version,
            operation: Operation::parse(&r.operation)
                .ok_or_else(|| anyhow::anyhow!("stored operation {:?}", r.operation))?,
            body: r.body,
            changed_at: r.changed_at,
        })
    }
}

/// A page of the feed.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub entries: Vec<ChangeEntry>,
    /// Whether more changes follow right away.
    pub more: bool,
    /// The last change committed when the page was read: with `more` false, everything up
    /// to here has been read, whether or not the reader may see it.
    pub head: i64,
}

impl Store {
    /// The position before which history has been purged: cursors below it are gone.
    pub async fn feed_horizon(&self) -> StoreResult<i64> {
        Ok(on_pool!(self.reader(), |p| sqlx::query_scalar("select seq from feed_horizon where id = 1")
            .fetch_one(p)
            .await)?)
    }

    /// Where the feed stands: the last committed change and the purge horizon. Every write
    /// moves it, so it tells whether anything changed since it was last read.
    pub async fn feed_position(&self) -> StoreResult<(i64, i64)> {
        Ok(on_pool!(self.reader(), |p| sqlx::query_as(
            "select (select coalesce(max(seq), 0) from changes), (select seq from feed_horizon where id = 1)"
        )
        .fetch_one(p)
        .await)?)
    }

    /// Changes after `after` that `reader` may see, of `types` (all when empty), in order.
    #[tracing::instrument(skip(self))]
    pub async fn read_changes(
        &self,
        reader: &FeedReader,
        after: i64,
        types: &[ResourceType],
        limit: usize,
    ) -> StoreResult<FeedPage> {
        let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
        // Every change up to the head is committed: on PostgreSQL changes take their seq
        // under the feed lock, held to commit, so no lower seq can still appear.
        let head: i64 = on_pool!(self.reader(), |p| sqlx::query_scalar("select coalesce(max(seq), 0) from changes")
            .fetch_one(p)
            .await)?;
        let rows: Vec<ChangeRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(
                "select c.seq, c.resource_type, c.resource_id, c.version, c.operation, c.body, c.changed_at
                 from changes c where c.seq > ",
            );
            qb.push_bind(after).push(" and c.seq <= ").push_bind(head);
            if !types.is_empty() {
                qb.push(" and c.resource_type in (");
                let mut list = qb.separated(", ");
                for t in types {
                    list.push_bind(t.as_str());
                }
                qb.push(")");
            }
            {
                let FeedReader { audience, types: allowed, open } = reader;
                qb.push(" and c.resource_type in (");
                let mut list = qb.separated(", ");
                for t in allowed {
                    list.push_bind(t.as_str());
                }
                list.push_unseparated(")");
                qb.push(" and (c.public = ").push_bind(true);
                if !open.is_empty() {
                    qb.push(" or c.resource_type in (");
                    let mut list = qb.separated(", ");
                    for t in open {
                        list.push_bind(t.as_str());
                    }
                    qb.push(")");
                }
                if !audience.is_empty() {
                    qb.push(" or exists (select 1 from change_audience a where a.seq = c.seq and a.audience_id in (");
                    let mut list = qb.separated(", ");
                    for a in audience {
                        list.push_bind(*a);
                    }
                    qb.push("))");
                }
                qb.push(")");
            }
            qb.push(" order by c.seq limit ").push_bind(fetch);
            qb.build_query_as().fetch_all(p).await
        })?;
        let more = rows.len() > limit;
        let entries = rows.into_iter().take(limit).map(ChangeEntry::try_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(FeedPage { entries, more, head })
    }

    /// Drops history older than `before` that a client no longer needs for a correct state:
    /// tombstones, and changes superseded by a later change of the same resource. The latest
    /// change of every existing resource stays, so reading the feed from the start still
    /// yields the whole current state. Moves the horizon past what was dropped.
    #[tracing::instrument(skip(self))]
    pub async fn purge_feed(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let postgres = self.kind() == crate::config::DatabaseKind::Postgres;
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            if postgres {
                // Writers delete superseded entries under the feed lock too: taking it
                // first keeps the two from deadlocking on the same rows.
                sqlx::query("select pg_advisory_xact_lock($1)").bind(FEED_LOCK).execute(&mut *tx).await?;
            }
            let purged: Option<i64> = sqlx::query_scalar(
                "select max(c.seq) from changes c
                 where c.changed_at < $1
                   and (c.operation = 'delete'
                        or exists (select 1 from changes n where n.resource_id = c.resource_id and n.seq > c.seq))",
            )
            .bind(before)
            .fetch_one(&mut *tx)
            .await?;
            let Some(horizon) = purged else { return Ok::<u64, sqlx::Error>(0) };
            let n = sqlx::query(
                "delete from changes
                 where seq <= $1 and changed_at < $2
                   and (operation = 'delete'
                        or exists (select 1 from changes n where n.resource_id = changes.resource_id and n.seq > changes.seq))",
            )
            .bind(horizon)
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("update feed_horizon set seq = $1 where id = 1 and seq < $1")
                .bind(horizon)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(n)
        }
        .await)
        .map_err(StoreError::from)
    }
}

/// A resource that appears in the feed: its type and its full representation (the one
/// facilitators and the resource's audience read). Implemented next to each API view.
pub trait FeedResource {
    const TYPE: ResourceType;
    fn feed_id(&self) -> Uuid;
    fn feed_version(&self) -> i64;
    fn feed_json(&self) -> serde_json::Result<String>;
}

/// [`FeedResource`] for a resource with `id` and `version` fields, carried in the feed as
/// the view `$view` makes of it (the same view GET answers with):
/// `feed_resource!(Theme, Theme, |t| ThemeView::from(t.clone()));`.
macro_rules! feed_resource {
    ($resource:ty, $kind:ident, $view:expr) => {
        impl $crate::db::feed::FeedResource for $resource {
            const TYPE: $crate::db::feed::ResourceType = $crate::db::feed::ResourceType::$kind;

            fn feed_id(&self) -> uuid::Uuid {
                self.id
            }

            fn feed_version(&self) -> i64 {
                self.version
            }

            fn feed_json(&self) -> serde_json::Result<String> {
                let view: fn(&$resource) -> _ = $view;
                serde_json::to_string(&view(self))
            }
        }
    };
}
pub(crate) use feed_resource;

impl Change {
    /// The create or update of `resource`, as it now is.
    pub fn of<R: FeedResource>(resource: &R, public: bool, audience: Vec<Uuid>) -> StoreResult<Self> {
        let version = resource.feed_version();
        Ok(Self {
            resource_type: R::TYPE,
            resource_id: resource.feed_id(),
            version,
            operation: if version == 1 { Operation::Create } else { Operation::Update },
            body: Some(resource.feed_json().map_err(anyhow::Error::from)?),
            public,
            audience,
            withdrawal: false,
        })
    }
}
