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
}

/// The caller behind `Authorization: Bearer <jwt>` (or a websocket's
/// `connection_init` payload).
pub async fn authenticate(services: &Services, authorization: Option<&str>) -> Auth {
    let Some(value) = authorization else {
        return Auth::Anonymous;
    };
    let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) else {
        return Auth::Invalid;
    };
    let Some(claims) = services.tokens.verify(token.trim()) else {
        return Auth::Invalid;
    };
    match users::load_actor(&services.db, claims.sub).await {
        Ok(actor) => Auth::Authenticated(actor),
        Err(_) => Auth::Invalid,
    }
}

pub fn authorization_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok())
}

pub fn client_ip(addr: SocketAddr) -> std::net::IpAddr {
    addr.ip()
}
