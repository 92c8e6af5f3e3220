//! FieldForge: a GraphQL API server for field-service operations.
//! See ARCHITECTURE.md for the map.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod entities;
pub mod graphql;
pub mod journal;
pub mod seed;
pub mod telemetry;
pub mod transport;
pub mod webhooks;
