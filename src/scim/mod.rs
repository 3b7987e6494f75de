//! SCIM 2.0 (RFC 7643, RFC 7644): the protocol's own grammar, for the `/scim/v2/` front door
//! to people and memberships.

pub mod discovery;
pub mod filter;
pub mod group;
pub mod messages;
pub mod patch;
pub mod schema;
pub mod user;
