//! Storage: one `Store` over SQLite (the embedded default) or PostgreSQL, picked from the
//! `DATABASE_URL` scheme at start.
//!
//! Each query is written once. The `on_pool!` macro instantiates the code for the backend
//! in use, so both backends run the same SQL and there is no generic plumbing through
//! the handlers; where the dialects really differ, the two statements stand side by side
//! in one `match`. Connection-level traits are blanket impls over both connections, with
//! what differs in [`Dialect`]. See `docs/decisions/0001-one-store-two-databases.md`.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use secrecy::ExposeSecret;
use sqlx::QueryBuilder;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

use crate::config::{DatabaseKind, Settings};

pub mod accounts;
mod error;
pub mod events;
pub mod feed;
pub mod idempotency;
pub mod ids;
pub mod insights;
pub mod learning;
pub mod organisations;
pub mod page;
pub mod people;
pub mod refs;
pub mod rights_cache;
pub mod solutions;
pub mod themes;
pub mod webhooks;

pub(crate) use error::is_unique_violation;
pub use error::{Conflict, Found, Rule, StoreError, StoreResult};
pub use page::{Keyset, SortValue};

/// The values of an `in (...)` list, padded to a power of two by repeating the last one (which
/// changes nothing in an `in`), so that the statement has one of a few texts and can be
/// prepared once per connection and cached, instead of parsed (and, on PostgreSQL, described
/// in a round trip of its own) on every request (decision 12).
pub(crate) fn padded_list<T: Copy>(values: &[T]) -> impl Iterator<Item = T> + '_ {
    let padding = values.len().next_power_of_two() - values.len();
    values.iter().copied().chain(values.last().copied().into_iter().cycle().take(padding))
}

/// Runs `$body` with `$p` bound to the concrete pool of the backend in use. The body is
/// compiled once per backend, so it must be valid SQL for both (`$1` placeholders work in
/// SQLite and PostgreSQL alike). The second form also names the `sqlx::Database` type.
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
    ($pool:expr, |$p:ident, $db:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                $body
            }
            $crate::db::Pool::Postgres($p) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                $body
            }
        }
    };
}
pub(crate) use on_pool;

/// Runs one statement with its binds (in order, `$1`, `$2`, ...) on whichever database
/// `$pool` is; gives the number of rows it touched.
macro_rules! execute {
    ($pool:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::db::on_pool!($pool, |p| sqlx::query($sql)$(.bind($bind))*.execute(p).await.map(|r| r.rows_affected()))
    };
}
pub(crate) use execute;

/// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken
/// at once (waiting up to the busy timeout), so a transaction that reads before it writes
/// can never fail to upgrade when another connection (or instance) wrote in between.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>> + Send {
        self.begin()
    }
}

/// A borrowed pool of either backend.
#[derive(Clone, Copy)]
pub enum Pool<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

#[derive(Clone)]
enum Backend {
    /// Readers share a pool; all writes go through one connection, so writers never wait
    /// on SQLite's lock inside one process.
    Sqlite {
        reader: SqlitePool,
        writer: SqlitePool,
    },
    Postgres(PgPool),
}

/// The service's storage. Cheap to clone (pools are reference-counted).
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// Registrations waiting to be written, per event (see [`Store::register`]).
    seat_lanes: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Uuid, events::Lane>>>,
    /// People's rights as recently read (see [`Store::person_rights`]).
    rights: rights_cache::RightsCache,
    /// Pool checkouts asked for, by the reader and by the writer (see [`Store::reader`]).
    checkouts: std::sync::Arc<[std::sync::atomic::AtomicU64; 2]>,
}

/// What differs between the two databases in code that is otherwise the same for both.
pub(crate) trait Dialect {
    /// Whether `select ... for update` locks rows. SQLite's single writer connection
    /// serialises writes anyway.
    const ROW_LOCKS: bool;
    /// The statement that locks a solution's row for the transaction (none on SQLite).
    const LOCK_SOLUTION: &'static str;
    /// Whether writes can be `with` clauses of one statement (see [`Batch`]).
    const WITH_WRITES: bool;
}

impl Dialect for sqlx::Sqlite {
    const ROW_LOCKS: bool = false;
    const LOCK_SOLUTION: &'static str = "";
    const WITH_WRITES: bool = false;
}

impl Dialect for sqlx::Postgres {
    const ROW_LOCKS: bool = true;
    const LOCK_SOLUTION: &'static str = "select id from solutions where id = $1 for update";
    const WITH_WRITES: bool = true;
}

/// Writes sent to the database in one call, so that a transaction of several inserts costs
/// one round trip: on PostgreSQL one statement of data-modifying `with` clauses
/// (`with w1 as (insert ...), w2 as (insert ...) select 1`), on SQLite a batch of statements
/// (`insert ...; insert ...`). Every part runs to its end, in order on SQLite and at once
/// on PostgreSQL, so no part may read what another writes (foreign keys are checked at the
/// statement's end, so a row and the rows that refer to it can go together).
pub(crate) struct Batch<DB: sqlx::Database> {
    qb: QueryBuilder<DB>,
    parts: usize,
}

impl<DB: sqlx::Database + Dialect> Batch<DB> {
    pub(crate) fn new() -> Self {
        Self { qb: QueryBuilder::new(""), parts: 0 }
    }

    /// Starts the next write: push it onto the builder this gives.
    pub(crate) fn next(&mut self) -> &mut QueryBuilder<DB> {
        self.parts += 1;
        match (DB::WITH_WRITES, self.parts) {
            (true, 1) => self.qb.push("with w1 as ("),
            (true, n) => self.qb.push(format_args!("), w{n} as (")),
            (false, 1) => &mut self.qb,
            (false, _) => self.qb.push("; "),
        }
    }

    /// The whole batch, to build and run.
    pub(crate) fn finish(mut self) -> QueryBuilder<DB> {
        if DB::WITH_WRITES && self.parts > 0 {
            self.qb.push(") select 1");
        }
        self.qb
    }
}

/// How many rows a statement touched, for code generic over the database.
pub(crate) trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::sqlite::SqliteQueryResult::rows_affected(self)
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::postgres::PgQueryResult::rows_affected(self)
    }
}

/// Pool usage, for `/metrics`.
pub struct PoolUsage {
    pub name: &'static str,
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
    /// Checkouts asked for since the start (see [`Store::reader`]).
    pub checkouts: u64,
}

/// The current time at the precision both databases store (microseconds).
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens the database named in the settings (creating a SQLite file and its folder on
    /// demand). Does not migrate; see [`Store::migrate`].
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        let url = settings.database_url.expose_secret();
        let acquire = Duration::from_secs(settings.db_acquire_timeout_secs);
        let backend = match settings.database_kind()? {
            DatabaseKind::Sqlite => {
                disable_sqlite_memory_statistics();
                let file = settings.sqlite_file();
                if let Some(dir) = file.as_ref().and_then(|f| f.parent()).filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| anyhow::anyhow!("cannot create the database folder {}: {e}", dir.display()))?;
                }
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(settings.db_statement_timeout_secs))
                    .foreign_keys(true)
                    // Deleted content is overwritten with zeros, also on freed pages: what a
                    // person erased cannot be read back from the file.
                    .pragma("secure_delete", "on")
                    .pragma("journal_size_limit", settings.sqlite_journal_size_limit_bytes.to_string())
                    .pragma("temp_store", "memory");
                if file.is_none() {
                    // An in-memory database lives and dies with its one connection.
                    let pool = SqlitePoolOptions::new()
                        .max_connections(1)
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None)
                        .acquire_timeout(acquire)
                        .connect_with(options)
                        .await?;
                    Backend::Sqlite { reader: pool.clone(), writer: pool }
                } else {
                    // No ping before each checkout (decision 12): a connection that broke is
                    // found by its next statement (the request answers 503) and by the ping
                    // sqlx makes when it is returned, which closes it.
                    let writer = SqlitePoolOptions::new()
                        .max_connections(1)
                        .test_before_acquire(false)
                        .acquire_timeout(acquire)
                        .connect_with(options.clone())
                        .await?;
                    let reader = SqlitePoolOptions::new()
                        .max_connections(settings.db_max_connections)
                        .test_before_acquire(false)
                        .acquire_timeout(acquire)
                        .connect_with(options.pragma("query_only", "ON"))
                        .await?;
                    Backend::Sqlite { reader, writer }
                }
            }
            DatabaseKind::Postgres => {
                let options = PgConnectOptions::from_str(url)?
                    .application_name("vov")
                    .options([("statement_timeout", format!("{}s", settings.db_statement_timeout_secs))]);
                // No ping before each checkout: a round trip per statement otherwise (decision 12).
                let pool = PgPoolOptions::new()
                    .max_connections(settings.db_max_connections)
                    .test_before_acquire(false)
                    .acquire_timeout(acquire)
                    .connect_with(options)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
                Backend::Postgres(pool)
            }
        };
        Ok(Self { backend, seat_lanes: Default::default(), rights: Default::default(), checkouts: Default::default() })
    }

    /// Applies pending migrations (idempotent; PostgreSQL serialises concurrent starts
    /// with an advisory lock).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => SQLITE_MIGRATOR.run(writer).await?,
            Backend::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await?,
        }
        self.readdress_drafts_once().await?;
        Ok(())
    }

    pub fn kind(&self) -> DatabaseKind {
        match self.backend {
            Backend::Sqlite { .. } => DatabaseKind::Sqlite,
            Backend::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// The same database with checkouts counted apart: for background work (the webhook
    /// worker), so that `vov_db_checkouts_total` stays what requests and their writes take.
    pub fn with_own_counters(&self) -> Self {
        Self { checkouts: Default::default(), ..self.clone() }
    }

    /// The pool for reads.
    ///
    /// Every call counts as one pool checkout (`vov_db_checkouts_total`): each use is one
    /// statement on the pool, or one transaction or connection held for several.
    pub(crate) fn reader(&self) -> Pool<'_> {
        self.checkouts[0].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match &self.backend {
            Backend::Sqlite { reader, .. } => Pool::Sqlite(reader),
            Backend::Postgres(p) => Pool::Postgres(p),
        }
    }

    /// The pool for writes (and for reads that must see the latest write).
    pub(crate) fn writer(&self) -> Pool<'_> {
        self.checkouts[1].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match &self.backend {
            Backend::Sqlite { writer, .. } => Pool::Sqlite(writer),
            Backend::Postgres(p) => Pool::Postgres(p),
        }
    }

    /// Answers when the database can run a query.
    #[tracing::instrument(skip(self))]
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self.reader(), |p| sqlx::query("select 1").execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// SQLite only: moves the WAL into the database and truncates it, so the WAL stays
    /// bounded under sustained writes. Returns the WAL frames that were in the log.
    #[tracing::instrument(skip(self))]
    pub async fn checkpoint(&self) -> StoreResult<Option<i64>> {
        let Backend::Sqlite { writer, .. } = &self.backend else {
            return Ok(None);
        };
        let (_busy, log, _done): (i64, i64, i64) =
            sqlx::query_as("pragma wal_checkpoint(truncate)").fetch_one(writer).await?;
        Ok(Some(log))
    }

    /// After an erasure: makes sure the bytes of what was deleted do not linger.
    ///
    /// SQLite runs with `secure_delete`, so deleted rows and freed pages are overwritten with
    /// zeros as they are deleted; but the WAL still holds the pages as they were until a
    /// checkpoint moves the new ones into the database and truncates it. This runs that
    /// checkpoint until it completes: each attempt waits for readers up to the busy timeout,
    /// and it is retried a few times if one still held it back; the periodic checkpoint
    /// finishes it otherwise.
    ///
    /// PostgreSQL keeps deleted rows as dead tuples until VACUUM: this vacuums the tables
    /// an erasure touches, in the background (it takes no lock that blocks reads or writes).
    /// What VACUUM cannot reach is in `docs/guide/privacy.md`.
    pub async fn scrub_freed_space(&self) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite { writer, .. } => {
                for _ in 0..5 {
                    let (busy, _, _): (i64, i64, i64) =
                        sqlx::query_as("pragma wal_checkpoint(truncate)").fetch_one(writer).await?;
                    if busy == 0 {
                        return Ok(());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                tracing::warn!("the WAL is still in use after an erasure; the next checkpoint truncates it");
                Ok(())
            }
            Backend::Postgres(p) => {
                let p = p.clone();
                tokio::spawn(async move {
                    let tables = "people, memberships, external_refs, refresh_tokens, idempotency_keys, registrations, \
                                  commitments, learning_records, learning_record_shares, deleted_record_refs, \
                                  endorsements, solution_authors, comments, changes, change_audience";
                    // `analyze` too: the planner's statistics sample column values (most
                    // common values, histograms), which would otherwise keep erased ones.
                    let vacuum = format!("vacuum (analyze) {tables}");
                    if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(vacuum)).execute(&p).await {
                        tracing::warn!(error = %e, "vacuum after an erasure failed");
                    }
                });
                Ok(())
            }
        }
    }

    pub fn pool_usage(&self) -> Vec<PoolUsage> {
        fn usage<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>, checkouts: u64) -> PoolUsage {
            let size = pool.size();
            let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
            let max = pool.options().get_max_connections();
            PoolUsage { name, idle, in_use: size.saturating_sub(idle), max, checkouts }
        }
        let [read, write] = [0, 1].map(|i| self.checkouts[i].load(std::sync::atomic::Ordering::Relaxed));
        match &self.backend {
            Backend::Sqlite { reader, writer } => {
                vec![usage("sqlite_reader", reader, read), usage("sqlite_writer", writer, write)]
            }
            Backend::Postgres(p) => vec![usage("postgres", p, read + write)],
        }
    }

    /// Closes every connection (SQLite checkpoints and removes its WAL on the last close).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            Backend::Postgres(p) => p.close().await,
        }
    }

    /// Whether any person exists (a fresh database has none).
    pub async fn is_empty(&self) -> StoreResult<bool> {
        let n: i64 = on_pool!(self.reader(), |p| sqlx::query_scalar("select count(*) from people").fetch_one(p).await)?;
        Ok(n == 0)
    }
}

/// SQLite keeps allocation statistics by default, behind one process-wide mutex that every
/// allocation of every connection takes: with a reader pool on several threads, that lock
/// (and the thread wake-ups it causes) cost more than the queries. The statistics are not
/// used, so they are turned off, once, before SQLite initialises (afterwards the call is
/// refused and changes nothing).
fn disable_sqlite_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` with `SQLITE_CONFIG_MEMSTATUS` takes one int; it is called
        // once, before any connection is opened by this module.
        let rc =
            unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(rc, "SQLite was initialised already; its memory statistics stay on");
        }
    });
}

/// A row type both backends decode.
pub(crate) trait AnyRow:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin
{
}

impl<R> AnyRow for R where
    R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

impl Store {
    /// The one row of `sql` whose `$1` is `id`, read on the reader pool and turned into its
    /// domain type; `NotFound` when there is none.
    pub(crate) async fn one_by_id<R: AnyRow, T: TryFrom<R, Error = StoreError>>(
        &self,
        sql: String,
        id: Uuid,
    ) -> StoreResult<T> {
        let row: Option<R> =
            on_pool!(self.reader(), |p| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await)?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// The outcome of a conditional write (`where id = $1 and version = $2`): what it wrote,
    /// or, when it touched nothing, `NotFound` or the row's current version.
    pub(crate) async fn written<T>(&self, written: Option<T>, table: &'static str, id: Uuid) -> StoreResult<T> {
        match written {
            Some(value) => Ok(value),
            None => Err(self.current_version_error(table, id).await?),
        }
    }

    /// After a conditional write touched nothing: `NotFound`, or the row's current version.
    pub(crate) async fn current_version_error(&self, table: &'static str, id: Uuid) -> StoreResult<StoreError> {
        debug_assert!(["themes", "organisations", "people", "memberships", "commitments"].contains(&table));
        // `table` is one of the allow-listed names above, never client input.
        let sql = format!("select version from {table} where id = $1");
        let current: Option<i64> = on_pool!(self.writer(), |p| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(p)
            .await)?;
        Ok(match current {
            Some(current) => StoreError::VersionMismatch { current },
            None => StoreError::NotFound,
        })
    }
}

/// A stored value the code does not know (the database's checks should make it impossible).
pub(crate) fn invalid_stored(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {what} is not valid"))
}

#[cfg(test)]
mod padded_list_tests {
    use super::padded_list;

    #[test]
    fn an_in_list_is_padded_to_a_power_of_two_with_its_last_value() {
        assert_eq!(padded_list(&[1, 2, 3]).collect::<Vec<_>>(), [1, 2, 3, 3]);
        assert_eq!(padded_list(&[7]).collect::<Vec<_>>(), [7]);
        assert_eq!(padded_list(&[1, 2, 3, 4]).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(padded_list::<u8>(&[]).count(), 0);
        // A page of 50 and one of 60 share a text: 64 values.
        assert_eq!(padded_list(&[0u8; 50]).count(), 64);
        assert_eq!(padded_list(&[0u8; 60]).count(), 64);
    }
}
