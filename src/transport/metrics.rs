//! What an operator watches, served on `/metrics` in the OpenMetrics text
//! format by `prometheus-client`: request durations by operation name,
//! errors by code, refusals by cause, SQL statements, pool connections in
//! use, websockets and their operations, the response cache and shared
//! subscriptions. One registry per server (tests run several in a process).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;

use crate::db::StatementCounter;
use crate::webhooks::DeliveryMetrics;

/// Distinct operation names kept as labels; later names count as "other",
/// so a client inventing names cannot grow the registry without bound.
const MAX_OPERATION_LABELS: usize = 100;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabel {
    cause: &'static str,
}

fn duration_histogram() -> Histogram {
    // 0.25 ms to about 8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

pub struct Metrics {
    registry: Registry,
    pub statements: StatementCounter,
    graphql_requests: Counter,
    durations: Family<OperationLabel, Histogram, fn() -> Histogram>,
    errors: Family<CodeLabel, Counter>,
    refusals: Family<CauseLabel, Counter>,
    pub websocket_connections: Gauge,
    pub websocket_operations: Gauge,
    pool_in_use: Gauge,
    pool_size: Gauge,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    shared_subscriptions: Gauge,
    operation_labels: Mutex<HashSet<String>>,
}

impl Metrics {
    pub fn new(statements: StatementCounter, webhooks: &DeliveryMetrics) -> Metrics {
        let mut registry = Registry::default();
        let graphql_requests = Counter::default();
        let durations = Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        let (errors, refusals) = (Family::default(), Family::default());
        let (websocket_connections, websocket_operations) = (Gauge::default(), Gauge::default());
        let (pool_in_use, pool_size, shared_subscriptions) = (Gauge::default(), Gauge::default(), Gauge::default());
        let (cache_hits, cache_misses) = (Counter::default(), Counter::default());
        registry.register("fieldforge_sql_statements", "SQL statements run by the request pool", statements.counter());
        registry.register(
            "fieldforge_graphql_requests",
            "GraphQL operations served over HTTP",
            graphql_requests.clone(),
        );
        registry.register(
            "fieldforge_graphql_request_duration_seconds",
            "Time to answer a GraphQL operation over HTTP, by operation name",
            durations.clone(),
        );
        registry.register("fieldforge_graphql_errors", "GraphQL errors by extensions.code", errors.clone());
        registry.register(
            "fieldforge_refusals",
            "Requests refused before or instead of running, by cause",
            refusals.clone(),
        );
        registry.register("fieldforge_websocket_connections", "Open websockets", websocket_connections.clone());
        registry.register(
            "fieldforge_websocket_operations",
            "Subscriptions running on websockets",
            websocket_operations.clone(),
        );
        registry.register(
            "fieldforge_db_pool_connections_in_use",
            "Request pool connections in use",
            pool_in_use.clone(),
        );
        registry.register("fieldforge_db_pool_connections", "Request pool connections open", pool_size.clone());
        registry.register(
            "fieldforge_response_cache_hits",
            "Answers reused from the response cache",
            cache_hits.clone(),
        );
        registry.register(
            "fieldforge_response_cache_misses",
            "Response cache lookups that missed",
            cache_misses.clone(),
        );
        registry.register(
            "fieldforge_shared_subscriptions",
            "Shared subscription executions running",
            shared_subscriptions.clone(),
        );
        webhooks.register(&mut registry);
        Metrics {
            registry,
            statements,
            graphql_requests,
            durations,
            errors,
            refusals,
            websocket_connections,
            websocket_operations,
            pool_in_use,
            pool_size,
            cache_hits,
            cache_misses,
            shared_subscriptions,
            operation_labels: Mutex::new(HashSet::new()),
        }
    }

    /// One GraphQL operation answered over HTTP.
    pub fn observe(&self, operation: &str, elapsed: Duration) {
        self.graphql_requests.inc();
        let operation = self.operation_label(operation);
        self.durations.get_or_create(&OperationLabel { operation }).observe(elapsed.as_secs_f64());
    }

    pub fn error(&self, code: &str) {
        let code = match code {
            "UNAUTHENTICATED"
            | "FORBIDDEN"
            | "NOT_FOUND"
            | "BAD_USER_INPUT"
            | "CONFLICT"
            | "INVALID_TRANSITION"
            | "RATE_LIMITED"
            | "INTERNAL_SERVER_ERROR" => code,
            _ => "OTHER",
        };
        self.errors.get_or_create(&CodeLabel { code: code.to_owned() }).inc();
    }

    /// `cause`: cost, depth, aliases, batch, rate_limit, timeout, response_size, body_size.
    pub fn refused(&self, cause: &'static str) {
        self.refusals.get_or_create(&CauseLabel { cause }).inc();
    }

    fn operation_label(&self, operation: &str) -> String {
        let mut known = self.operation_labels.lock().unwrap_or_else(|p| p.into_inner());
        if known.contains(operation) {
            return operation.to_owned();
        }
        if known.len() < MAX_OPERATION_LABELS {
            known.insert(operation.to_owned());
            return operation.to_owned();
        }
        "other".to_owned()
    }

    /// The text served on `/metrics`, with the point-in-time gauges read now.
    pub fn render(&self, db: &DatabaseConnection, shared_subscriptions: usize) -> String {
        let (size, idle) = crate::db::pool_state(db);
        self.pool_size.set(size);
        self.pool_in_use.set(size - idle);
        self.shared_subscriptions.set(shared_subscriptions as i64);
        let mut text = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(%err, "metrics could not be encoded");
        }
        text
    }
}

/// The bearer token `/metrics` asks for, compared in constant time.
pub fn token_matches(expected: &str, authorization: Option<&str>) -> bool {
    let Some(given) = authorization.and_then(|v| v.strip_prefix("Bearer ")) else { return false };
    let (a, b) = (expected.as_bytes(), given.trim().as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded() {
        let metrics = Metrics::new(StatementCounter::default(), &Default::default());
        for n in 0..1_000 {
            metrics.observe(&format!("Op{n}"), Duration::from_millis(1));
        }
        assert_eq!(metrics.operation_labels.lock().unwrap().len(), MAX_OPERATION_LABELS);
        assert_eq!(metrics.operation_label("Op5"), "Op5");
        assert_eq!(metrics.operation_label("Op999"), "other");
    }

    #[test]
    fn metrics_tokens_must_match_exactly() {
        assert!(token_matches("s3cret", Some("Bearer s3cret")));
        assert!(!token_matches("s3cret", Some("Bearer s3cre")));
        assert!(!token_matches("s3cret", Some("s3cret")));
        assert!(!token_matches("s3cret", None));
    }
}
