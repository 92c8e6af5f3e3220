//! The integration tests: one binary (one link, shared helpers), one module
//! per area. Each test starts the real server on a random port with a fresh
//! database; tests written with `each_backend!` run once per backend
//! (`name::sqlite`, `name::postgres`), so a failure names its backend.

#[macro_use]
mod common;

mod at_hand;
mod auth;
mod billing;
mod change_feed;
mod cli;
mod connections;
mod constraints;
mod dispatch;
mod known_callers;
mod limits;
mod live;
mod operations;
mod plans;
mod response_cache;
mod revalidation;
mod schema;
mod tidy;
mod transport;
mod webhooks;
