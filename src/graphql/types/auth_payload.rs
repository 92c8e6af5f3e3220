use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

use super::User;
use crate::domain::users::Session;

#[derive(SimpleObject)]
pub struct AuthPayload {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

impl From<Session> for AuthPayload {
    fn from(session: Session) -> Self {
        AuthPayload { token: session.token, expires_at: session.expires_at, user: User(session.user) }
    }
}
