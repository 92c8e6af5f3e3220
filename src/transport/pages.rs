//! GraphiQL and the health endpoints.

use async_graphql::http::GraphiQLSource;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use sea_orm::ConnectionTrait;
use serde::Deserialize;

use super::AppState;

#[derive(Deserialize)]
pub struct GraphiqlParams {
    token: Option<String>,
}

/// GraphiQL on `/graphql` for HTTP and websockets. `/graphiql?token=<jwt>`
/// pre-fills the Authorization header and the websocket `connection_init`;
/// the Headers tab works for HTTP too.
pub async fn graphiql(Query(params): Query<GraphiqlParams>) -> Html<String> {
    let bearer = params
        .token
        .filter(|t| {
            !t.is_empty() && t.len() < 4096 && t.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        .map(|t| format!("Bearer {t}"));
    let mut source =
        GraphiQLSource::build().title("FieldForge GraphiQL").endpoint("/graphql").subscription_endpoint("/graphql");
    if let Some(bearer) = &bearer {
        source = source.header("Authorization", bearer).ws_connection_param("authorization", bearer);
    }
    Html(source.finish())
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.services.db.execute_unprepared("SELECT 1").await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(%err, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Counters for operators and the benchmark: SQL statements run, GraphQL
/// operations served over HTTP, open websockets.
pub async fn metrics(State(state): State<AppState>) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let m = &state.metrics;
    format!(
        "# TYPE fieldforge_sql_statements_total counter\nfieldforge_sql_statements_total {}\n\
         # TYPE fieldforge_graphql_requests_total counter\nfieldforge_graphql_requests_total {}\n\
         # TYPE fieldforge_websocket_connections gauge\nfieldforge_websocket_connections {}\n\
         # TYPE fieldforge_response_cache_hits_total counter\nfieldforge_response_cache_hits_total {}\n\
         # TYPE fieldforge_response_cache_misses_total counter\nfieldforge_response_cache_misses_total {}\n\
         # TYPE fieldforge_shared_subscriptions gauge\nfieldforge_shared_subscriptions {}\n",
        m.statements.get(),
        m.graphql_requests.load(Relaxed),
        m.websocket_connections.load(Relaxed),
        state.cache.hits.load(Relaxed),
        state.cache.misses.load(Relaxed),
        state.subscriptions.running(),
    )
}
