//! Transport: the axum routes. HTTP GraphQL, the websocket protocols,
//! GraphiQL, health checks, and the shared request plumbing.

pub mod http;
pub mod pages;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use tokio::sync::watch;

use crate::config::Settings;
use crate::domain::users;
use crate::graphql::{AppSchema, Auth, Services};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub services: Arc<Services>,
    pub settings: Arc<Settings>,
    /// Flips to true when the server starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    pub metrics: Arc<Metrics>,
}

/// Counters served on `/metrics` (Prometheus text format).
pub struct Metrics {
    pub statements: crate::db::StatementCounter,
    pub graphql_requests: std::sync::atomic::AtomicU64,
    pub websocket_connections: std::sync::atomic::AtomicI64,
}

/// The caller behind `Authorization: Bearer <jwt>` (or a websocket's
/// `connection_init` payload).
pub async fn authenticate(services: &Services, authorization: Option<&str>) -> Auth {
    authenticate_until(services, authorization).await.0
}

/// As `authenticate`, with the token's expiry (seconds since the epoch).
pub async fn authenticate_until(services: &Services, authorization: Option<&str>) -> (Auth, Option<i64>) {
    let Some(value) = authorization else { return (Auth::Anonymous, None) };
    let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else {
        return (Auth::Invalid, None);
    };
    let Some(claims) = services.tokens.verify(token.trim()) else { return (Auth::Invalid, None) };
    match users::load_actor(&services.db, claims.sub).await {
        Ok(actor) => (Auth::Authenticated(actor), Some(claims.exp)),
        Err(_) => (Auth::Invalid, None),
    }
}

pub fn authorization_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

pub fn client_ip(addr: SocketAddr) -> std::net::IpAddr {
    addr.ip()
}
