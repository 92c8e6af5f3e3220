//! Transport: health, request ids, GraphiQL, websocket protocols and their
//! close codes, graceful shutdown.

use std::time::Duration;

use crate::common::ws::{Received, WsClient};
use crate::common::{TestApp, backends};
use serde_json::json;

each_backend! {
    #[tokio::test]
    async fn health_request_ids_and_graphiql(backend) {
        let app = TestApp::spawn(backend).await;
        assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
        assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200);

        let echoed = app.http.get(app.url("/healthz")).header("x-request-id", "abc-123").send().await.unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "abc-123");
        let generated = app.http.get(app.url("/healthz")).send().await.unwrap();
        assert!(!generated.headers()["x-request-id"].is_empty());

        app.gql(None, "{ __typename }", json!({})).await;
        let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let counter = |name: &str| -> f64 {
            metrics
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(counter("fieldforge_sql_statements_total") > 0.0, "{metrics}");
        assert!(counter("fieldforge_graphql_requests_total") >= 1.0, "{metrics}");

        let page = app.http.get(app.url("/graphiql?token=a.b.c")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("graphiql") && page.contains("/graphql"), "GraphiQL page");
        assert!(page.contains("Bearer a.b.c"), "token pre-filled");
        let page = app.http.get(app.url("/graphiql?token=%3Cscript%3E")).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("<script>alert") && !page.contains("Bearer <script>"), "bad token ignored");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn graphql_transport_ws_handshake_and_close_codes(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let protocol = "graphql-transport-ws";

        // A good token: ack, then an operation streams next + complete.
        let mut client = WsClient::connect(&app.ws_url(), protocol).await;
        assert_eq!(client.init(&admin).await["type"], "connection_ack");
        client.send(json!({ "type": "ping" })).await;
        assert_eq!(client.recv_json().await["type"], "pong");
        client.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { email } }" } })).await;
        let next = client.recv_json().await;
        assert_eq!(next["type"], "next");
        assert_eq!(next["payload"]["data"]["me"]["email"], "admin@example.com");
        assert_eq!(client.recv_json().await, json!({ "type": "complete", "id": "1" }));
        // A second connection_init: 4429.
        client.send(json!({ "type": "connection_init", "payload": {} })).await;
        assert_eq!(client.expect_close(Duration::from_secs(5)).await, Some(4429), "{backend:?}");

        // Bad or missing token: 4403.
        for payload in [json!({ "authorization": "Bearer nope" }), json!({})] {
            let mut client = WsClient::connect(&app.ws_url(), protocol).await;
            client.send(json!({ "type": "connection_init", "payload": payload })).await;
            assert_eq!(client.expect_close(Duration::from_secs(5)).await, Some(4403), "{backend:?}");
        }

        // Subscribe before the ack: 4401.
        let mut client = WsClient::connect(&app.ws_url(), protocol).await;
        client.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } })).await;
        assert_eq!(client.expect_close(Duration::from_secs(5)).await, Some(4401), "{backend:?}");

        // Frames over 64 KiB are refused.
        let mut client = WsClient::connect(&app.ws_url(), protocol).await;
        client.init(&admin).await;
        let huge = "x".repeat(70 * 1024);
        client.send(json!({ "id": "2", "type": "subscribe", "payload": { "query": huge } })).await;
        assert!(matches!(client.recv(Duration::from_secs(5)).await, Received::Closed(_)), "{backend:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn connection_init_times_out_with_4408() {
    let app = TestApp::spawn(backends()[0]).await;
    let mut client = WsClient::connect(&app.ws_url(), "graphql-transport-ws").await;
    assert_eq!(client.expect_close(Duration::from_secs(15)).await, Some(4408));
    app.stop().await;
}

each_backend! {
    #[tokio::test]
    async fn legacy_subscriptions_transport_ws(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let mut client = WsClient::connect(&app.ws_url(), "graphql-ws").await;
        client
            .send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {admin}") } }))
            .await;
        assert_eq!(client.recv_json().await["type"], "connection_ack");
        client.send(json!({ "id": "a", "type": "start", "payload": { "query": "{ me { role } }" } })).await;
        let data = client.recv_json().await;
        assert_eq!(data["type"], "data", "{data}");
        assert_eq!(data["payload"]["data"]["me"]["role"], "ADMIN");
        assert_eq!(client.recv_json().await["type"], "complete");

        let mut bad = WsClient::connect(&app.ws_url(), "graphql-ws").await;
        bad.send(json!({ "type": "connection_init", "payload": { "authorization": "Bearer x" } })).await;
        assert_eq!(bad.expect_close(Duration::from_secs(5)).await, Some(4403), "{backend:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn shutdown_closes_websockets_with_a_close_frame() {
    let app = TestApp::spawn(backends()[0]).await;
    let admin = app.bootstrap_admin().await;
    let mut client = WsClient::connect(&app.ws_url(), "graphql-transport-ws").await;
    assert_eq!(client.init(&admin).await["type"], "connection_ack");
    let stopping = tokio::spawn(app.stop());
    assert_eq!(client.expect_close(Duration::from_secs(5)).await, Some(1001));
    stopping.await.unwrap();
}

#[tokio::test]
async fn serves_from_an_in_memory_sqlite_database() {
    let mut settings = fieldforge::config::Settings::for_database("sqlite::memory:");
    settings.jwt_secret = Some(crate::common::SECRET.to_owned());
    let server = fieldforge::app::Server::build(settings).await.expect("starts on sqlite::memory:");
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&json!({ "query": "mutation { register(input: { email: \"a@b.io\", password: \"correct horse battery\", name: \"A\", role: ADMIN }) { user { email } } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["register"]["user"]["email"], "a@b.io", "{body}");
    let _ = stop.send(());
    let _ = running.await;
}

/// A PostgreSQL URL over the Unix socket (`postgres:///db?host=/dir`)
/// serves like a TCP one: migrations, writes with their journal, reads.
#[tokio::test]
async fn serves_postgresql_over_its_unix_socket() {
    if !crate::common::postgres_configured() {
        return;
    }
    let socket_dir = std::env::var("PGSOCKET_DIR").unwrap_or_else(|_| "/var/run/postgresql".to_owned());
    if !std::path::Path::new(&socket_dir).join(".s.PGSQL.5432").exists() {
        eprintln!("skipped: PostgreSQL offers no socket in {socket_dir}");
        return;
    }
    let database = std::sync::Arc::new(crate::common::TestDatabase::create(crate::common::Backend::Postgres).await);
    let tcp = url::Url::parse(&database.url).unwrap();
    let name = tcp.path().trim_start_matches('/').to_owned();
    let user = if tcp.username().is_empty() { "postgres" } else { tcp.username() };
    let socket_url = format!("postgres:///{name}?host={socket_dir}&user={user}");
    let app = TestApp::spawn_on(database, |s| s.database_url = socket_url.clone()).await;
    let admin = app.bootstrap_admin().await;
    let body = app.gql(Some(&admin), "{ me { email } auditLog(first: 1) { nodes { event } } }", json!({})).await;
    assert_eq!(body["data"]["me"]["email"], "admin@example.com", "{body}");
    assert_eq!(body["data"]["auditLog"]["nodes"][0]["event"], "user.registered", "{body}");
}

async fn login_from(app: &TestApp, forwarded_for: &str, email: &str) -> serde_json::Value {
    let query = "mutation($e: String!) { login(email: $e, password: \"not the password\") { token } }";
    app.http
        .post(app.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": query, "variables": { "e": email } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

each_backend! {
    #[tokio::test]
    async fn the_client_address_comes_from_trusted_proxies_only(backend) {
        // Behind a trusted proxy: each forwarded client is counted on its own.
        let app = TestApp::spawn_with(backend, |s| s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await;
        app.bootstrap_admin().await;
        for n in 0..10 {
            let body = login_from(&app, "198.51.100.1, 203.0.113.5", &format!("u{n}@example.com")).await;
            assert_eq!(crate::common::error_code(&body), "UNAUTHENTICATED", "{backend:?}: {body}");
        }
        let body = login_from(&app, "203.0.113.5", "u10@example.com").await;
        assert_eq!(crate::common::error_code(&body), "RATE_LIMITED", "{backend:?}: the address of 203.0.113.5 is spent");
        let body = login_from(&app, "203.0.113.6", "u11@example.com").await;
        assert_eq!(crate::common::error_code(&body), "UNAUTHENTICATED", "{backend:?}: another client is not: {body}");
        app.stop().await;

        // Without trust, X-Forwarded-For is the client's own claim: ignored.
        let app = TestApp::spawn(backend).await;
        app.bootstrap_admin().await;
        for n in 0..10 {
            login_from(&app, &format!("203.0.113.{n}"), &format!("u{n}@example.com")).await;
        }
        let body = login_from(&app, "203.0.113.99", "u10@example.com").await;
        assert_eq!(crate::common::error_code(&body), "RATE_LIMITED", "{backend:?}: one peer, whatever it claims");
        app.stop().await;
    }
}

#[tokio::test]
async fn operators_switches_graphiql_introspection_and_metrics() {
    let backend = backends()[0];
    let app = TestApp::spawn(backend).await;
    let admin = app.bootstrap_admin().await;
    let page = app.http.get(app.url("/graphiql")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("integrity=\"sha384-") && page.contains("react.production.min.js"), "pinned builds with SRI");
    assert!(!page.contains("development"), "no development builds");
    app.gql(Some(&admin), "{ jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { id } } } } } } } } }", json!({})).await;
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "fieldforge_graphql_request_duration_seconds_bucket{",
        "fieldforge_graphql_errors_total{code=\"BAD_USER_INPUT\"} 1",
        "fieldforge_refusals_total{cause=\"cost\"} 1",
        "fieldforge_db_pool_connections_in_use ",
        "fieldforge_websocket_operations ",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    app.stop().await;

    let app = TestApp::spawn_with(backend, |s| {
        s.graphiql = false;
        s.introspection = false;
        s.metrics_token = Some("scrape-me-please".into());
    })
    .await;
    let admin = app.bootstrap_admin().await;
    assert_eq!(app.http.get(app.url("/graphiql")).send().await.unwrap().status(), 404);
    let body = app.gql(Some(&admin), "{ __schema { types { name } } }", json!({})).await;
    assert!(body["errors"].is_array() && body["data"].is_null() || body["data"]["__schema"].is_null(), "{body}");
    assert_eq!(app.gql(Some(&admin), "{ me { email } }", json!({})).await["data"]["me"]["email"], "admin@example.com");
    assert_eq!(app.http.get(app.url("/metrics")).send().await.unwrap().status(), 401);
    let wrong = app.http.get(app.url("/metrics")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = app.http.get(app.url("/metrics")).bearer_auth("scrape-me-please").send().await.unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("fieldforge_sql_statements_total"));
    app.stop().await;
}
