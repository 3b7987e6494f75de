// The test suite runs every database test on SQLite, and also on PostgreSQL when
// TEST_DATABASE_URL is set at build time; without it the PostgreSQL variants are
// compiled but ignored (listed as such), never silently passed.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    // `sqlx::migrate!` embeds the migrations: a changed one must rebuild the crate.
    println!("cargo::rerun-if-changed=migrations");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
}
