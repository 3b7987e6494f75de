//! Black-box tests over HTTP. Every database test runs on SQLite and, when the suite is
//! built with TEST_DATABASE_URL, on PostgreSQL too (see `on_both_databases!`).

mod helpers;

mod auth;
mod checkouts;
mod cli;
mod clients;
mod errors;
mod events;
mod examples;
mod idempotency;
mod insights;
mod learning;
mod openapi;
mod operations;
mod outage;
mod pagination;
mod policy;
mod privacy;
mod scim;
mod solutions;
mod stakeholders;
mod storage;
mod sync;
mod themes;
mod webhooks;
