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
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::{rate_limit::LoginLimiter, token::TokenService};
use crate::config::Settings;
use crate::db;
use crate::events::EventBus;
use crate::graphql::{self, Services};
use crate::transport::response_cache::ResponseCache;
use crate::transport::{AppState, Metrics, http, pages, ws};

pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Secret(#[from] crate::auth::token::SecretError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("event bus: {0}")]
    Events(String),
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
}

/// A server bound to its port, ready to run.
pub struct Server {
    listener: TcpListener,
    statements: db::StatementCounter,
    router: Router,
    shutdown: watch::Sender<bool>,
}

impl Server {
    /// Connects, migrates and binds. `settings.listen` may use port 0.
    pub async fn build(settings: Settings) -> Result<Server, StartError> {
        let (tokens, generated) = TokenService::new(settings.jwt_secret.as_deref(), settings.token_ttl)?;
        if generated {
            tracing::warn!("JWT_SECRET is not set: using a random secret; tokens end with this process");
        }
        let (db, statements) = db::connect_counted(&settings.database_url, settings.db_pool_size).await?;
        db::migrate(&db).await?;
        // An in-memory SQLite database exists once per connection: share it.
        let in_memory =
            settings.database_url.starts_with("sqlite::memory:") || settings.database_url.contains("mode=memory");
        let events_db = if in_memory { db.clone() } else { db::connect_for_events(&settings.database_url).await? };
        let bus = EventBus::start(events_db).await.map_err(|e| StartError::Events(e.to_string()))?;
        let services = Arc::new(Services { db, bus, tokens, limiter: LoginLimiter::default() });
        let schema = graphql::build(services.clone(), &settings.limits);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let listener = TcpListener::bind(settings.listen).await?;
        let metrics = Arc::new(Metrics {
            statements: statements.clone(),
            graphql_requests: Default::default(),
            websocket_connections: Default::default(),
        });
        let cache = Arc::new(ResponseCache::new(settings.response_cache_mb << 20));
        let state = AppState {
            schema,
            services,
            settings: Arc::new(settings),
            shutdown: shutdown_rx,
            metrics,
            cache,
            subscriptions: Default::default(),
        };
        Ok(Server { listener, statements, router: router(state), shutdown })
    }

    /// SQL statements run so far by this server's pool.
    pub fn statements(&self) -> db::StatementCounter {
        self.statements.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    /// Serves until `stop` resolves, then lets in-flight requests finish and
    /// closes websockets with a close frame.
    pub async fn run(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Server { listener, router, shutdown, .. } = self;
        tracing::info!(address = %listener.local_addr()?, "serving GraphQL on /graphql, GraphiQL on /graphiql");
        let signal = async move {
            stop.await;
            tracing::info!("shutting down");
            let _ = shutdown.send(true);
        };
        // Without TCP_NODELAY a small websocket frame that follows another
        // waits for the client's (delayed, up to 40 ms) acknowledgement.
        let listener = listener.tap_io(|stream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::debug!(%err, "could not set TCP_NODELAY");
            }
        });
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(signal)
            .await
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql_get).post(http::post))
        .route("/graphiql", get(pages::graphiql))
        .route("/healthz", get(pages::healthz))
        .route("/readyz", get(pages::readyz))
        .route("/metrics", get(pages::metrics))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
            let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %request_id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
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
        return match WebSocketUpgrade::from_request(request, &state).await {
            Ok(upgrade) => ws::upgrade(upgrade, state, addr),
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
    // Give load balancers a moment to notice before connections close.
    tokio::time::sleep(Duration::from_millis(10)).await;
}
