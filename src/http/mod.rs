//! HTTP machinery every resource uses: JSON bodies with pointed errors, cursor pages,
//! ETags and preconditions, idempotent POSTs, and 404/405 for what no route serves.

pub mod body_schema;
pub mod client_address;
pub mod conditional;
pub mod idempotency;
pub mod json;
pub mod page_cache;
pub mod pagination;
pub mod rate_limit;
pub mod routes;
pub mod security_headers;
