//! The VOV learning-network API: stakeholders, learning events, informal-learning logs and
//! shared solutions for the Flemish network for learning and development.
//!
//! Data flows one way: handler (`api`) → storage (`db`) → domain result (`domain`) →
//! response type. The binary in `main.rs` only parses the command line.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
mod demo_solutions;
pub mod domain;
pub mod error;
pub mod http;
pub mod metrics;
pub mod policy;
pub mod scim;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod webhooks;
