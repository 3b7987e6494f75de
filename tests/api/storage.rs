//! Migrations (against the schema on record, on both databases) and the SQLite
//! write-ahead log.

use std::collections::BTreeSet;

use sqlx::Connection;

use crate::helpers::{Backend, TestApp, fresh_database, test_settings};
use crate::on_both_databases;

fn versions(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect()
}

fn schema_file(backend: Backend) -> std::path::PathBuf {
    let name = match backend {
        Backend::Sqlite => "sqlite.txt",
        Backend::Postgres => "postgres.txt",
    };
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schema").join(name)
}

/// Rows of a catalogue query, each row's columns joined by ` | `.
fn joined(rows: Vec<(String, String, String)>) -> Vec<String> {
    rows.into_iter().map(|(a, b, c)| format!("{a} | {b} | {c}")).collect()
}

/// The database's schema as text: first `table: columns` lines (the part both databases
/// share), then every catalogue entry (tables, indexes, triggers, constraints, defaults).
async fn schema_dump(app: &TestApp) -> String {
    let mut out = vec!["# tables and columns".to_string()];
    match app.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            // Full-text search is FTS5 here (virtual tables, their shadow tables, and the
            // `*_docs` maps from FTS rowids to ids); PostgreSQL has `tsvector` columns
            // instead. Those stand in the catalogue below, not in the shared part.
            let columns = joined(
                sqlx::query_as(
                    "select m.name, cast(p.cid as text), p.name from sqlite_master m, pragma_table_info(m.name) p
                     where m.type = 'table' and m.name not like 'sqlite_%' and m.name <> '_sqlx_migrations'
                       and m.sql not like 'CREATE VIRTUAL TABLE%'
                       and m.name not in ('challenge_docs', 'solution_docs')
                       and not exists (select 1 from sqlite_master v where v.sql like 'CREATE VIRTUAL TABLE%'
                                       and substr(m.name, 1, length(v.name) + 1) = v.name || '_')
                     order by m.name, p.cid",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap(),
            );
            out.extend(table_lines(&columns));
            out.push("# catalogue".into());
            out.extend(joined(
                sqlx::query_as(
                    "select type, name, coalesce(sql, '') from sqlite_master
                     where name not like 'sqlite_%' order by type, name",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap(),
            ));
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            let columns = joined(
                sqlx::query_as(
                    "select table_name::text, lpad(ordinal_position::text, 3, '0'), column_name::text
                 from information_schema.columns c
                 where table_schema = 'public' and table_name <> '_sqlx_migrations'
                   and data_type <> 'tsvector'
                   and exists (select 1 from information_schema.tables t where t.table_schema = 'public'
                               and t.table_name = c.table_name and t.table_type = 'BASE TABLE')
                 order by 1, 2",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap(),
            );
            out.extend(table_lines(&columns));
            out.push("# catalogue".into());
            out.extend(joined(
                sqlx::query_as(
                    "select 'column', table_name || '.' || column_name,
                            data_type || case when is_nullable = 'NO' then ' not null' else '' end
                            || coalesce(' default ' || column_default, '')
                     from information_schema.columns where table_schema = 'public' order by 2",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap(),
            ));
            out.extend(joined(
                sqlx::query_as(
                    "select 'constraint', conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid)
                     from pg_constraint where connamespace = 'public'::regnamespace order by 2",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap(),
            ));
            out.extend(joined(
                sqlx::query_as(
                    "select 'index', indexname::text, indexdef from pg_indexes where schemaname = 'public' order by 2",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap(),
            ));
            out.extend(joined(
                sqlx::query_as(
                    "select 'trigger', tgrelid::regclass::text || '.' || tgname, pg_get_triggerdef(oid)
                     from pg_trigger where not tgisinternal order by 2",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap(),
            ));
            out.extend(joined(
                sqlx::query_as(
                    "select 'function', p.proname::text, md5(pg_get_functiondef(p.oid))
                     from pg_proc p where p.pronamespace = 'public'::regnamespace order by 2",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap(),
            ));
        }
    }
    out.join("\n") + "\n"
}

/// `table: column, column, ...` (in name order) from `table | position | column` rows.
fn table_lines(columns: &[String]) -> Vec<String> {
    let mut tables: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for row in columns {
        let mut parts = row.splitn(3, " | ");
        let (table, _, column) = (parts.next().unwrap(), parts.next(), parts.next().unwrap());
        tables.entry(table.to_string()).or_default().push(column.to_string());
    }
    // Sorted: a column added later stands last on one database and in place on the other.
    tables
        .into_iter()
        .map(|(t, mut cs)| {
            cs.sort();
            format!("{t}: {}", cs.join(", "))
        })
        .collect()
}

/// The `table: columns` part of a schema file.
fn shared_part(schema: &str) -> Vec<&str> {
    schema.lines().skip(1).take_while(|l| !l.starts_with("# catalogue")).collect()
}

#[test]
fn both_databases_have_the_same_migrations_tables_and_columns() {
    let sqlite = versions("sqlite");
    let postgres = versions("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must have the same versions and names");
    // The schema files are checked against freshly migrated databases below, on each
    // database; here, against each other.
    let sqlite = std::fs::read_to_string(schema_file(Backend::Sqlite)).unwrap();
    let postgres = std::fs::read_to_string(schema_file(Backend::Postgres)).unwrap();
    assert!(shared_part(&sqlite).len() > 20, "the SQLite schema lists its tables");
    assert_eq!(shared_part(&sqlite), shared_part(&postgres), "both databases must have the same tables and columns");
}

on_both_databases!(a_freshly_migrated_database_has_the_schema_on_record, migrating_again_changes_nothing);

/// The schema after all migrations is the one in `tests/schema/`: a migration that changes
/// it shows in the diff of that file (`UPDATE_SCHEMA=1 cargo test schema` writes it anew).
async fn a_freshly_migrated_database_has_the_schema_on_record(app: TestApp) {
    let dump = schema_dump(&app).await;
    let file = schema_file(app.backend);
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&file, &dump).unwrap();
    }
    let on_record = std::fs::read_to_string(&file).unwrap_or_default();
    if dump != on_record {
        let diff: Vec<String> = dump
            .lines()
            .filter(|l| !on_record.lines().any(|r| r == *l))
            .map(|l| format!("+ {l}"))
            .chain(on_record.lines().filter(|l| !dump.lines().any(|d| d == *l)).map(|l| format!("- {l}")))
            .collect();
        panic!("the migrated schema differs from {} (UPDATE_SCHEMA=1 to accept):\n{}", file.display(), diff.join("\n"));
    }
}

async fn migrating_again_changes_nothing(app: TestApp) {
    let before = schema_dump(&app).await;
    app.store.migrate().await.unwrap();
    app.store.migrate().await.unwrap();
    assert_eq!(schema_dump(&app).await, before, "migrating again changed the schema");
    let applied: Vec<(i64, bool)> = match app.backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
            sqlx::query_as("select version, success from _sqlx_migrations order by version")
                .fetch_all(&mut conn)
                .await
                .unwrap()
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&app.database_url).await.unwrap();
            sqlx::query_as("select version, success from _sqlx_migrations order by version")
                .fetch_all(&mut conn)
                .await
                .unwrap()
        }
    };
    let files: Vec<i64> = versions("sqlite").iter().map(|n| n.split('_').next().unwrap().parse().unwrap()).collect();
    assert_eq!(applied.iter().map(|(v, _)| *v).collect::<Vec<_>>(), files, "each migration is applied once");
    assert!(applied.iter().all(|(_, ok)| *ok), "every migration succeeded");
    let res = app.get("/health/ready").send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}

/// Without `journal_size_limit` and periodic checkpoints the WAL grows without bound
/// under steady writes with concurrent readers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_wal_stays_bounded_under_sustained_writes() {
    let (url, guard) = fresh_database(Backend::Sqlite).await;
    let limit: u64 = 512 * 1024;
    let settings = vov::config::Settings {
        sqlite_journal_size_limit_bytes: limit,
        sqlite_checkpoint_interval_secs: 1,
        ..test_settings(&url)
    };
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, settings, std::sync::Arc::new(guard)).await;
    let wal = std::path::PathBuf::from(format!("{}-wal", url.trim_start_matches("sqlite://")));

    let reader = {
        let store = app.store.clone();
        tokio::spawn(async move {
            let filter = vov::db::themes::ThemeFilter::default();
            loop {
                let _ = store.list_themes(&filter, Default::default(), None, 200).await;
            }
        })
    };
    let description = "x".repeat(1500);
    let mut largest = 0;
    // A fixed amount of writing, not a fixed time, so a busy machine cannot make the test
    // mean less: 6,000 commits of ~1.5 KB each, about 18 times the limit in row data alone.
    // Unchecked, every commit adds pages to the WAL, which would pass 32 MB long before the end.
    let rows = 6_000;
    for n in 0..rows {
        let content = vov::domain::theme::ThemeContent {
            slug: vov::domain::theme::Slug::parse(&format!("t-{n}")).unwrap(),
            label_nl: "x".into(),
            label_en: "x".into(),
            description: Some(description.clone()),
        };
        app.store.create_theme(&content).await.unwrap();
        if n % 50 == 0 {
            largest = largest.max(wal_size(&wal));
        }
    }
    reader.abort();
    assert!(largest < 32 * 1024 * 1024, "the WAL reached {largest} bytes while writing (limit {limit})");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after = wal_size(&wal);
    assert!(after <= limit, "the WAL is {after} bytes after a checkpoint (limit {limit}); largest seen {largest}");
}

/// The WAL's size. It exists for as long as the service holds connections in WAL mode, so a
/// missing file is a failure (a wrong path or journal mode would otherwise pass as 0 bytes).
fn wal_size(wal: &std::path::Path) -> u64 {
    std::fs::metadata(wal).unwrap_or_else(|e| panic!("no WAL at {}: {e}", wal.display())).len()
}
