//! Migrations and the SQLite write-ahead log.

use std::collections::BTreeSet;

use crate::helpers::{Backend, TestApp, fresh_database, test_settings};
use crate::on_both_databases;

fn versions(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .collect()
}

#[test]
fn both_databases_have_the_same_migrations() {
    let sqlite = versions("sqlite");
    let postgres = versions("postgres");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres, "migrations/sqlite and migrations/postgres must have the same versions and names");
}

on_both_databases!(migrating_again_changes_nothing);

async fn migrating_again_changes_nothing(app: TestApp) {
    app.store.migrate().await.unwrap();
    app.store.migrate().await.unwrap();
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
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
    }
    reader.abort();
    assert!(largest < 32 * 1024 * 1024, "the WAL reached {largest} bytes while writing (limit {limit})");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(after <= limit, "the WAL is {after} bytes after a checkpoint (limit {limit}); largest seen {largest}");
}
