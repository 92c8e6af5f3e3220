use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use super::JobConnection;
use crate::domain::jobs::{self, JobFilter};
use crate::domain::page::PageRequest;
use crate::entities::customer;
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;

#[derive(Clone)]
pub struct Customer(pub customer::Model);

#[Object]
impl Customer {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// This customer's jobs, newest first (a technician sees only its own).
    async fn jobs(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<JobConnection> {
        let actor = ctx.actor()?;
        let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
        let filter = JobFilter { customer_id: Some(self.0.id), ..Default::default() };
        let page = jobs::list(ctx.db(), actor, request, filter).await?;
        Ok(JobConnection::from_page(crate::graphql::preload::job_page(ctx, page).await?, |job| job))
    }
}

crate::graphql::connection::connection_types!(CustomerConnection, CustomerEdge, Customer);
