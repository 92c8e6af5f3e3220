use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use super::Technician;
use crate::entities::user;
use crate::graphql::context::ContextExt;
use crate::graphql::enums::Role;
use crate::graphql::ids;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct User(pub user::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ids::of(self.0.id)
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    /// The technician profile linked to this login, if any.
    async fn technician(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Technician>> {
        let loaders = ctx.loaders();
        Ok(loaders.technician_by_user.load_one(self.0.id).await.map_err(shared)?.map(Technician::new))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

crate::graphql::connection::connection_types!(UserConnection, UserEdge, User);
