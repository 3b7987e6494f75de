//! The baseline of `bench/run`: a bare actix-web + sqlx server over the service's own
//! database that does only the query of each benchmarked shape. No auth, no rights, no
//! ETag, no change feed, no idempotency: what the service costs on top of this is the price
//! of what it must do, and the benchmark shows that price side by side (issue: cost per
//! request). Same pool settings as the service: on SQLite one writer and
//! `VOV_DB_MAX_CONNECTIONS` readers in WAL mode, on PostgreSQL one pool of that size; no
//! ping before a checkout.
//!
//! Run: `DATABASE_URL=... PORT=8099 cargo run --release --example bare`
//!   GET  /people/{id}       one person by id
//!   GET  /people?limit=50   a page of people by name
//!   POST /records           a learning record for `person_id` (JSON body)

use std::str::FromStr;

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use uuid::Uuid;

#[derive(Clone)]
enum Db {
    Sqlite { reader: SqlitePool, writer: SqlitePool },
    Postgres(PgPool),
}

#[derive(Serialize, sqlx::FromRow)]
struct Person {
    id: Uuid,
    display_name: String,
    email: String,
    stakeholder_group: String,
    birth_year: Option<i32>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

#[derive(Deserialize)]
struct NewRecord {
    person_id: Uuid,
    title: String,
    activity_type: String,
    started_on: NaiveDate,
    duration_minutes: Option<i64>,
}

#[derive(Serialize)]
struct Record {
    id: Uuid,
    person_id: Uuid,
    title: String,
    activity_type: String,
    started_on: NaiveDate,
    duration_minutes: Option<i64>,
    created_at: DateTime<Utc>,
    version: i64,
}

#[derive(Deserialize)]
struct Page {
    limit: Option<i64>,
}

const PERSON: &str =
    "select id, display_name, email, stakeholder_group, birth_year, created_at, updated_at, version from people";

async fn person(db: web::Data<Db>, id: web::Path<Uuid>) -> HttpResponse {
    let id = id.into_inner();
    let sql = sqlx::AssertSqlSafe(format!("{PERSON} where id = $1"));
    let found: Result<Option<Person>, sqlx::Error> = match db.get_ref() {
        Db::Sqlite { reader, .. } => sqlx::query_as(sql).bind(id).fetch_optional(reader).await,
        Db::Postgres(pool) => sqlx::query_as(sql).bind(id).fetch_optional(pool).await,
    };
    match found {
        Ok(Some(p)) => HttpResponse::Ok().json(p),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

async fn people(db: web::Data<Db>, page: web::Query<Page>) -> HttpResponse {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let sql = sqlx::AssertSqlSafe(format!("{PERSON} order by display_name, id limit $1"));
    let found: Result<Vec<Person>, sqlx::Error> = match db.get_ref() {
        Db::Sqlite { reader, .. } => sqlx::query_as(sql).bind(limit).fetch_all(reader).await,
        Db::Postgres(pool) => sqlx::query_as(sql).bind(limit).fetch_all(pool).await,
    };
    match found {
        Ok(items) => HttpResponse::Ok().json(serde_json::json!({ "data": items })),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

async fn create_record(db: web::Data<Db>, body: web::Json<NewRecord>) -> HttpResponse {
    let r = body.into_inner();
    let record = Record {
        id: Uuid::now_v7(),
        person_id: r.person_id,
        title: r.title,
        activity_type: r.activity_type,
        started_on: r.started_on,
        duration_minutes: r.duration_minutes,
        created_at: Utc::now(),
        version: 1,
    };
    let sql = "insert into learning_records (id, person_id, title, activity_type, context, context_chosen, \
               started_on, duration_minutes, source, visibility, created_at, updated_at, version) \
               values ($1, $2, $3, $4, 'experiential', false, $5, $6, 'manual', 'private', $7, $7, 1)";
    macro_rules! insert {
        ($pool:expr) => {
            sqlx::query(sql)
                .bind(record.id)
                .bind(record.person_id)
                .bind(&record.title)
                .bind(&record.activity_type)
                .bind(record.started_on)
                .bind(record.duration_minutes)
                .bind(record.created_at)
                .execute($pool)
                .await
        };
    }
    let done = match db.get_ref() {
        Db::Sqlite { writer, .. } => insert!(writer).map(|_| ()),
        Db::Postgres(pool) => insert!(pool).map(|_| ()),
    };
    match done {
        Ok(()) => HttpResponse::Created().json(record),
        Err(e) => HttpResponse::ServiceUnavailable().body(e.to_string()),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let port: u16 = std::env::var("PORT").unwrap_or_else(|_| "8099".into()).parse()?;
    let max: u32 = std::env::var("VOV_DB_MAX_CONNECTIONS").unwrap_or_else(|_| "8".into()).parse()?;
    let workers: usize = std::env::var("VOV_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let db = if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(&url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .pragma("secure_delete", "on")
            .pragma("temp_store", "memory");
        let pool = || SqlitePoolOptions::new().test_before_acquire(false);
        let writer = pool().max_connections(1).connect_with(options.clone()).await?;
        let reader = pool().max_connections(max).connect_with(options).await?;
        Db::Sqlite { reader, writer }
    } else {
        let options = PgConnectOptions::from_str(&url)?.application_name("bare");
        Db::Postgres(PgPoolOptions::new().max_connections(max).test_before_acquire(false).connect_with(options).await?)
    };
    let db = web::Data::new(db);
    HttpServer::new(move || {
        App::new()
            .app_data(db.clone())
            .route("/people/{id}", web::get().to(person))
            .route("/people", web::get().to(people))
            .route("/records", web::post().to(create_record))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await?;
    Ok(())
}
