//! GraphiQL and the health endpoints.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use serde::Deserialize;

use super::AppState;

#[derive(Deserialize)]
pub struct GraphiqlParams {
    token: Option<String>,
}

/// GraphiQL on `/graphql` for HTTP and websockets, loading pinned
/// production builds with Subresource Integrity (`assets/graphiql.html`).
/// `/graphiql?token=<jwt>` pre-fills the Authorization header and the
/// websocket `connection_init` (the page then drops the token from the
/// address bar); the Headers tab works for HTTP too.
pub async fn graphiql(Query(params): Query<GraphiqlParams>) -> Html<String> {
    const PAGE: &str = include_str!("assets/graphiql.html");
    // A JWT is base64url segments and dots: anything else is not put in the page.
    let bearer = params
        .token
        .filter(|t| {
            !t.is_empty() && t.len() < 4096 && t.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        .map(|t| format!("'Bearer {t}'"));
    Html(PAGE.replace("/*BEARER*/null", bearer.as_deref().unwrap_or("null")))
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// 503 from the moment shutdown starts, so load balancers stop sending.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if *state.shutdown.borrow() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    }
    match crate::db::ping(&state.services.db).await {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(err) => {
            tracing::warn!(%err, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Metrics for operators and the benchmark (`transport/metrics.rs`);
/// behind a bearer token when `--metrics-token` is set.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> axum::response::Response {
    if let Some(expected) = &state.settings.metrics_token
        && !super::metrics::token_matches(expected, super::authorization_header(&headers))
    {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "metrics need a token")
            .into_response();
    }
    let text = state.metrics.render(&state.services.db, state.subscriptions.running());
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response()
}
