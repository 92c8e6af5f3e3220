use async_graphql::{Context, ID, Json, Object, Result};
use chrono::{DateTime, Utc};

use super::User;
use crate::domain::audit::LogPage;
use crate::domain::audit::encode_cursor;
use crate::entities::log;
use crate::graphql::connection::PageInfo;
use crate::graphql::context::ContextExt;
use crate::graphql::loaders::shared;

/// A row of the `logs` table.
#[derive(Clone)]
pub struct LogEntry(pub log::Model);

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
        ID(self.0.entity_id.to_string())
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

#[derive(async_graphql::SimpleObject)]
pub struct LogEntryEdge {
    pub cursor: String,
    pub node: LogEntry,
}

#[derive(async_graphql::SimpleObject)]
pub struct LogEntryConnection {
    pub edges: Vec<LogEntryEdge>,
    pub nodes: Vec<LogEntry>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

impl From<LogPage> for LogEntryConnection {
    fn from(page: LogPage) -> Self {
        let edges: Vec<LogEntryEdge> = page
            .rows
            .into_iter()
            .map(|row| LogEntryEdge { cursor: encode_cursor(row.id), node: LogEntry(row) })
            .collect();
        LogEntryConnection {
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: page.has_previous_page,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            nodes: edges.iter().map(|e| e.node.clone()).collect(),
            edges,
            total_count: i32::try_from(page.total_count).unwrap_or(i32::MAX),
        }
    }
}
