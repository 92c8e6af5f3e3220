//! Transport: the axum routes. HTTP GraphQL, the websocket protocols,
//! GraphiQL, health checks, and the shared request plumbing.

pub mod client_address;
pub mod http;
pub mod metrics;
pub mod pages;
pub mod response_cache;
pub mod shared_subscriptions;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use tokio::sync::watch;

use crate::config::Settings;
use crate::domain::users;
use crate::entities::connection::RequestConnection;
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
    /// Responses to read-only queries, valid while the data is unchanged.
    pub cache: Arc<response_cache::ResponseCache>,
    /// Parsed documents by query text.
    pub documents: Arc<crate::graphql::documents::DocumentCache>,
    /// Identical live subscriptions, executed once per group.
    pub subscriptions: Arc<shared_subscriptions::SharedSubscriptions>,
    /// The webhook worker runs while this handle lives.
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// Where HTTP requests read (`entities/read_pool.rs`).
    pub reads: Arc<crate::entities::read_pool::ReadPool>,
}

pub use metrics::Metrics;

/// The caller behind `Authorization: Bearer <jwt>` (or a websocket's
/// `connection_init` payload), as of this request.
pub struct Authentication {
    pub auth: Auth,
    /// The token's expiry (seconds since the epoch).
    pub expires_at: Option<i64>,
    /// The journal's newest id, read with the account (`users::load_actor_at`).
    pub journal_version: Option<i64>,
}

/// `db`: what the account is read through (the request's connection).
pub async fn authenticate(services: &Services, db: &RequestConnection, authorization: Option<&str>) -> Authentication {
    let refused = |auth| Authentication { auth, expires_at: None, journal_version: None };
    let Some(value) = authorization else { return refused(Auth::Anonymous) };
    let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else {
        return refused(Auth::Invalid);
    };
    let Some(claims) = services.tokens.verify(token.trim()) else { return refused(Auth::Invalid) };
    match users::load_actor_at(db, claims.sub, claims.epoch).await {
        Ok((actor, version)) => Authentication {
            auth: Auth::Authenticated(actor),
            expires_at: Some(claims.exp),
            journal_version: Some(version),
        },
        Err(_) => refused(Auth::Invalid),
    }
}

pub fn authorization_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

pub fn client_ip(state: &AppState, addr: SocketAddr, headers: &HeaderMap) -> std::net::IpAddr {
    client_address::client_address(addr, headers, &state.settings.trusted_proxies)
}
