//! What every resolver may ask of the request: the shared state, the caller.

use std::net::IpAddr;
use std::sync::Arc;

use async_graphql::Context;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use super::loaders::Loaders;
use crate::auth::{rate_limit::LoginLimiter, token::TokenService};
use crate::domain::webhooks::TargetPolicy;
use crate::domain::{Actor, DomainError};
use crate::entities::connection::RequestConnection;
use crate::journal::EventBus;

/// Process-wide services, put into the schema once.
pub struct Services {
    pub db: DatabaseConnection,
    pub bus: Arc<EventBus>,
    pub tokens: TokenService,
    pub limiter: LoginLimiter,
    /// Which webhook targets are allowed (`--webhook-allow-private`).
    pub webhook_policy: TargetPolicy,
    /// Wakes the webhook worker when a delivery was queued by hand.
    pub webhook_wake: Arc<Notify>,
}

/// How the caller of this request authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    Anonymous,
    /// A token was sent but is invalid, expired or names an inactive account.
    Invalid,
    Authenticated(Actor),
}

impl Auth {
    /// The authenticated caller, if any.
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            Auth::Authenticated(actor) => Some(actor),
            Auth::Anonymous | Auth::Invalid => None,
        }
    }
}

/// Per-request data, set by the transport.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    pub auth: Auth,
    pub client_ip: IpAddr,
}

pub trait ContextExt {
    fn services(&self) -> &Arc<Services>;
    /// What this request reads through (one held connection on PostgreSQL).
    fn db(&self) -> &RequestConnection {
        &self.loaders().connection
    }
    /// The pool, for writes: each transaction takes its own connection.
    fn pool(&self) -> &DatabaseConnection {
        &self.services().db
    }
    fn request(&self) -> &RequestInfo;
    fn loaders(&self) -> &Loaders;
    /// The authenticated caller, or UNAUTHENTICATED.
    fn actor(&self) -> Result<&Actor, DomainError> {
        match &self.request().auth {
            Auth::Authenticated(actor) => Ok(actor),
            Auth::Anonymous | Auth::Invalid => Err(DomainError::Unauthenticated),
        }
    }
    /// The caller if any; an invalid token is still UNAUTHENTICATED.
    fn optional_actor(&self) -> Result<Option<&Actor>, DomainError> {
        match &self.request().auth {
            Auth::Authenticated(actor) => Ok(Some(actor)),
            Auth::Anonymous => Ok(None),
            Auth::Invalid => Err(DomainError::Unauthenticated),
        }
    }
}

impl ContextExt for Context<'_> {
    fn services(&self) -> &Arc<Services> {
        self.data_unchecked::<Arc<Services>>()
    }
    fn request(&self) -> &RequestInfo {
        self.data_unchecked::<RequestInfo>()
    }
    fn loaders(&self) -> &Loaders {
        self.data_unchecked::<Arc<Loaders>>()
    }
}
