use async_graphql::{Context, ID, Json, Object, Result};
use chrono::{DateTime, Utc};

use super::User;
use crate::entities::journal_entry;
use crate::graphql::connection::connection_types;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::loaders::shared;

/// A journal entry as the audit log shows it: the row as stored.
#[derive(Clone)]
pub struct LogEntry(pub journal_entry::Model);

#[Object]
impl LogEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// e.g. "job.created", "invoice.created", "payment.recorded"
    async fn event(&self) -> &str {
        &self.0.event
    }
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    async fn entity_id(&self) -> ID {
        ids::of(self.0.entity_id)
    }
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(actor_id) = self.0.actor_id else { return Ok(None) };
        Ok(ctx.loaders().user_by_id.load_one(actor_id).await.map_err(shared)?.map(User))
    }
    async fn data(&self) -> Option<Json<serde_json::Value>> {
        self.0.data.clone().map(Json)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

connection_types!(LogEntryConnection, LogEntryEdge, LogEntry);
