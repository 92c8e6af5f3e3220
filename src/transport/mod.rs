//! Transport: the axum routes. HTTP GraphQL, the websocket protocols,
//! GraphiQL, health checks, and the shared request plumbing.

pub mod callers;
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

use crate::auth::token::Claims;
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
    /// Requests that passed validation before run without it.
    pub revalidation: Arc<crate::graphql::revalidation::Revalidation>,
    /// Parsed documents by query text.
    pub documents: Arc<crate::graphql::documents::DocumentCache>,
    /// Identical live subscriptions, executed once per group.
    pub subscriptions: Arc<shared_subscriptions::SharedSubscriptions>,
    /// The webhook worker runs while this handle lives.
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// Where HTTP requests read (`entities/read_pool.rs`).
    pub reads: Arc<crate::entities::read_pool::ReadPool>,
    /// What this process last read of each caller's account (a guess).
    pub callers: Arc<callers::KnownCallers>,
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

impl Authentication {
    fn refused(auth: Auth) -> Self {
        Authentication { auth, expires_at: None, journal_version: None }
    }
}

/// What the bearer token says, checked (signature, algorithm, expiry) but
/// not yet against the account: `Ok(None)` without a token, `Err` for one
/// that is not valid.
pub fn bearer_claims(services: &Services, authorization: Option<&str>) -> Result<Option<Claims>, Auth> {
    let Some(value) = authorization else { return Ok(None) };
    let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else {
        return Err(Auth::Invalid);
    };
    services.tokens.verify(token.trim()).map(Some).ok_or(Auth::Invalid)
}

/// `db`: what the account is read through (the request's connection).
pub async fn authenticate(services: &Services, db: &RequestConnection, authorization: Option<&str>) -> Authentication {
    match bearer_claims(services, authorization) {
        Ok(Some(claims)) => authenticate_claims(db, &claims).await,
        Ok(None) => Authentication::refused(Auth::Anonymous),
        Err(auth) => Authentication::refused(auth),
    }
}

/// The caller behind checked claims, read fresh.
pub async fn authenticate_claims(db: &RequestConnection, claims: &Claims) -> Authentication {
    match users::load_actor_at(db, claims.sub, claims.epoch).await {
        Ok((actor, version)) => Authentication {
            auth: Auth::Authenticated(actor),
            expires_at: Some(claims.exp),
            journal_version: Some(version),
        },
        Err(_) => Authentication::refused(Auth::Invalid),
    }
}

pub fn authorization_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

pub fn client_ip(state: &AppState, addr: SocketAddr, headers: &HeaderMap) -> std::net::IpAddr {
    client_address::client_address(addr, headers, &state.settings.trusted_proxies)
}
