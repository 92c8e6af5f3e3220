//! Wiring: settings → database → services → schema → router → server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Request, State, ws::WebSocketUpgrade};
use axum::http::{HeaderName, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::{rate_limit::LoginLimiter, token::TokenService};
use crate::config::Settings;
use crate::db;
use crate::domain::webhooks::TargetPolicy;
use crate::entities::read_pool::ReadPool;
use crate::graphql::documents::DocumentCache;
use crate::graphql::revalidation::Revalidation;
use crate::graphql::{self, Services};
use crate::journal::EventBus;
use crate::transport::response_cache::ResponseCache;
use crate::transport::{self, AppState, Metrics, http, pages, ws};
use crate::webhooks::Webhooks;

pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Parsed documents kept by query text: a frontend sends a few dozen
/// distinct queries; 512 leaves room for several.
const PARSED_DOCUMENTS: usize = 512;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Secret(#[from] crate::auth::token::SecretError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("event bus: {0}")]
    Events(String),
    #[error("webhooks: {0}")]
    Webhooks(String),
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
}

/// A server bound to its port, ready to run.
pub struct Server {
    listener: TcpListener,
    statements: db::StatementCounter,
    router: Router,
    shutdown: watch::Sender<bool>,
    /// How long in-flight requests may finish after the stop signal.
    grace: Duration,
}

impl Server {
    /// Connects, migrates and binds. `settings.listen` may use port 0.
    pub async fn build(settings: Settings) -> Result<Server, StartError> {
        let (tokens, generated) = TokenService::new(settings.jwt_secret.as_deref(), settings.token_ttl)?;
        if generated {
            tracing::warn!("JWT_SECRET is not set: using a random secret; tokens end with this process");
        }
        let (db, statements) =
            db::connect_counted(&settings.database_url, settings.db_pool_size, settings.statement_timeout).await?;
        db::migrate(&settings.database_url, &db).await?;
        // An in-memory SQLite database exists once per connection: share it.
        let in_memory =
            settings.database_url.starts_with("sqlite::memory:") || settings.database_url.contains("mode=memory");
        let events_db = if in_memory {
            db.clone()
        } else {
            db::connect_for_events(&settings.database_url, settings.statement_timeout).await?
        };
        let events_db_for_webhooks = events_db.clone();
        let bus = EventBus::start(events_db).await.map_err(|e| StartError::Events(e.to_string()))?;
        let webhook_wake = Arc::new(tokio::sync::Notify::new());
        let webhooks = Webhooks::start(events_db_for_webhooks, &bus, &settings.webhooks, webhook_wake.clone())
            .map_err(|e| StartError::Webhooks(e.to_string()))?;
        let services = Arc::new(Services {
            db,
            bus,
            tokens,
            limiter: LoginLimiter::default(),
            webhook_policy: TargetPolicy { allow_private: settings.webhooks.allow_private },
            webhook_wake,
        });
        let schema = graphql::build(services.clone(), &settings.limits, settings.introspection);
        let revalidation = Arc::new(Revalidation::new(services.clone(), &settings.limits, settings.introspection));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let listener = TcpListener::bind(settings.listen).await?;
        let metrics = Arc::new(Metrics::new(statements.clone(), &webhooks.metrics));
        let cache = Arc::new(ResponseCache::new(
            settings.response_cache_mb << 20,
            metrics.cache_hits.clone(),
            metrics.cache_misses.clone(),
        ));
        let reads = ReadPool::new(&services.db, {
            let counter = statements.counter();
            Arc::new(move || {
                counter.inc();
            })
        });
        let state = AppState {
            schema,
            services,
            settings: Arc::new(settings),
            shutdown: shutdown_rx,
            metrics,
            cache,
            revalidation,
            documents: Arc::new(DocumentCache::new(PARSED_DOCUMENTS)),
            subscriptions: Default::default(),
            webhooks,
            reads,
            callers: Default::default(),
        };
        let grace = state.settings.shutdown_grace;
        Ok(Server { listener, statements, router: router(state), shutdown, grace })
    }

    /// SQL statements run so far by this server's pool.
    pub fn statements(&self) -> db::StatementCounter {
        self.statements.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    /// Serves until `stop` resolves. Then `/readyz` answers 503 at once,
    /// websockets get a close frame (1001), no new connection is taken, and
    /// in-flight requests get the grace period (`--shutdown-grace`) to
    /// finish before the rest are dropped.
    pub async fn run(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Server { listener, router, shutdown, grace, .. } = self;
        tracing::info!(address = %listener.local_addr()?, "serving GraphQL on /graphql");
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            stop.await;
            tracing::info!(grace_ms = grace.as_millis() as u64, "shutting down");
            let _ = shutdown.send(true);
            let _ = stopping.send(());
        };
        // Without TCP_NODELAY a small websocket frame that follows another
        // waits for the client's (delayed, up to 40 ms) acknowledgement.
        let listener = listener.tap_io(|stream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(%err, "could not set TCP_NODELAY");
            }
        });
        let serve = axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(signal)
            .into_future();
        let deadline = async move {
            if stopped.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = serve => served,
            () = deadline => {
                tracing::warn!("grace period over: dropping the connections still open");
                Ok(())
            }
        }
    }
}

pub fn router(state: AppState) -> Router {
    let mut routes = Router::new().route("/graphql", get(graphql_get).post(http::post));
    if state.settings.graphiql {
        routes = routes.route("/graphiql", get(pages::graphiql));
    }
    routes
        .route("/healthz", get(pages::healthz))
        .route("/readyz", get(pages::readyz))
        .route("/metrics", get(pages::metrics))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(answer_panic))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
            let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %request_id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The last guard: a panic in a request is logged and answered as a
/// GraphQL error, never a dropped connection. The panic's text stays in
/// the log.
fn answer_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = %detail, "a request panicked");
    let body = serde_json::json!({
        "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }]
    });
    // 200 like every other GraphQL error over application/json (an internal
    // error of a resolver is answered the same way).
    (axum::http::StatusCode::OK, axum::Json(body)).into_response()
}

/// GET `/graphql`: a websocket upgrade, or a query in the URL.
async fn graphql_get(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let wants_websocket = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_websocket {
        let client = transport::client_ip(&state, addr, request.headers());
        return match WebSocketUpgrade::from_request(request, &state).await {
            Ok(upgrade) => ws::upgrade(upgrade, state, client),
            Err(rejection) => rejection.into_response(),
        };
    }
    let (parts, _) = request.into_parts();
    let query = axum::extract::RawQuery(parts.uri.query().map(str::to_owned));
    http::get(State(state), ConnectInfo(addr), parts.headers, query).await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_still_answers() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        let app = axum::Router::new()
            .route("/boom", axum::routing::get(boom))
            .layer(super::CatchPanicLayer::custom(super::answer_panic));
        let response = app.oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
        assert!(!String::from_utf8_lossy(&body).contains("boom"), "the panic's text is not sent");
    }
}
