//! Validated domain types and rules. No actix, no sqlx: plain Rust that the API layer
//! parses requests into and the storage layer reads and writes.

pub mod account;
pub mod theme;
pub mod validation;

pub use validation::{FieldError, Invalid};
