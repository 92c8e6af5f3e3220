//! Test harness: each test starts the real server on a random port with a
//! fresh database (SQLite always; PostgreSQL when `TEST_DATABASE_URL` is set)
//! and talks to it over HTTP and websockets.
#![allow(dead_code)]

pub mod fixtures;
pub mod receiver;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use fieldforge::app::Server;
use fieldforge::config::Settings;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test body, generated as a test per backend: `name::sqlite` and
/// `name::postgres`. The PostgreSQL one runs when `TEST_DATABASE_URL` is
/// set (and fails without it when `FIELDFORGE_REQUIRE_POSTGRES=1`).
macro_rules! each_backend {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($backend: $crate::common::Backend) $body

            $(#[$meta])*
            async fn sqlite() {
                run($crate::common::Backend::Sqlite).await
            }

            $(#[$meta])*
            async fn postgres() {
                if $crate::common::postgres_configured() {
                    run($crate::common::Backend::Postgres).await
                }
            }
        }
    };
}

/// Whether PostgreSQL tests can run. With `FIELDFORGE_REQUIRE_POSTGRES=1`
/// a missing `TEST_DATABASE_URL` is a failure, not a skip.
pub fn postgres_configured() -> bool {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        return true;
    }
    if std::env::var("FIELDFORGE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!("FIELDFORGE_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set");
    }
    eprintln!("skipped: TEST_DATABASE_URL is not set");
    false
}

/// A fresh PostgreSQL database and a pool on it, or `None` (the test
/// skips) when no PostgreSQL is configured.
pub async fn fresh_postgres() -> Option<(TestDatabase, DatabaseConnection)> {
    if !postgres_configured() {
        return None;
    }
    let database = TestDatabase::create(Backend::Postgres).await;
    let pool = database.connect().await;
    Some((database, pool))
}

/// Polls the `/metrics` of the server at `addr` until `name` satisfies `wanted`.
pub async fn wait_for_metric(addr: SocketAddr, name: &str, wanted: impl Fn(f64) -> bool, within: Duration) {
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let text =
            http.get(format!("http://{addr}/metrics")).send().await.expect("metrics").text().await.expect("text");
        let value = metric_in(&text, name);
        if wanted(value) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{name} is still {value} after {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until at least `count` websocket operations run on the server at `addr`.
pub async fn wait_for_operations(addr: SocketAddr, count: usize) {
    wait_for_metric(addr, "fieldforge_websocket_operations", |n| n >= count as f64, Duration::from_secs(10)).await
}

/// The value of a metric line `name value` in an OpenMetrics text.
pub fn metric_in(text: &str, name: &str) -> f64 {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok()).unwrap_or(0.0)
}

/// The backends to run every test against. With `FIELDFORGE_REQUIRE_POSTGRES=1`
/// a missing `TEST_DATABASE_URL` is a failure, not a skip.
pub fn backends() -> Vec<Backend> {
    let mut list = vec![Backend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        list.push(Backend::Postgres);
    } else if std::env::var("FIELDFORGE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
        panic!("FIELDFORGE_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set");
    }
    list
}

/// A fresh, empty database that is removed when dropped.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    cleanup: Option<Cleanup>,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> TestDatabase {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("fieldforge-test-{tag}.db"));
                TestDatabase {
                    backend,
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    cleanup: Some(Cleanup::File(path)),
                }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
                let name = format!("fieldforge_test_{tag}");
                let admin = Database::connect(&admin_url).await.expect("connect to TEST_DATABASE_URL");
                admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                admin.close().await.ok();
                let url = replace_database(&admin_url, &name);
                TestDatabase { backend, url, cleanup: Some(Cleanup::Postgres { admin_url, name }) }
            }
        }
    }

    pub async fn connect(&self) -> DatabaseConnection {
        fieldforge::db::connect(&self.url).await.expect("connect to test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self.cleanup.take() {
            Some(Cleanup::File(path)) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Some(Cleanup::Postgres { admin_url, name }) => {
                // Drop runs outside any runtime we may block: use a thread.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                    runtime.block_on(async {
                        let admin = Database::connect(&admin_url).await.ok()?;
                        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()
                    })
                })
                .join();
            }
            None => {}
        }
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// A running server with its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub statements: fieldforge::db::StatementCounter,
    pub db: Arc<TestDatabase>,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let db = Arc::new(TestDatabase::create(backend).await);
        Self::spawn_on(db, configure).await
    }

    /// Another server on the same database (a second process, or a restart).
    pub async fn spawn_on(db: Arc<TestDatabase>, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = Settings::for_database(db.url.clone());
        settings.jwt_secret = Some(SECRET.to_owned());
        configure(&mut settings);
        let server = Server::build(settings).await.expect("server starts");
        let addr = server.local_addr();
        let statements = server.statements();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
        });
        TestApp { addr, statements, db, http: reqwest::Client::new(), stop: Some(stop), handle: Some(handle) }
    }

    /// How many journal rows with this event the database holds.
    pub async fn journal_count(&self, event: &str) -> u64 {
        use fieldforge::entities::journal_entry as log;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let db = self.db.connect().await;
        log::Entity::find().filter(log::Column::Event.eq(event)).count(&db).await.expect("journal count")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits until the server's own gauge says so: the readiness signal tests
    /// use instead of sleeping (e.g. subscriptions running, sockets closed).
    pub async fn wait_for_metric(&self, name: &str, wanted: impl Fn(f64) -> bool, within: Duration) {
        wait_for_metric(self.addr, name, wanted, within).await
    }

    /// Waits until `count` websocket operations run on this server: a
    /// subscription counts once its socket has started it.
    pub async fn wait_for_operations(&self, count: usize) {
        wait_for_operations(self.addr, count).await
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql", self.addr)
    }

    /// POSTs one operation and returns the JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self.http.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        response.json().await.expect("JSON response")
    }

    /// As `gql` with a token, asking for a computed answer
    /// (`Cache-Control: no-cache`).
    pub async fn gql_fresh(&self, token: &str, query: &str, variables: Value) -> Value {
        let request = self.http.post(self.url("/graphql")).header("cache-control", "no-cache").bearer_auth(token);
        let response = request.json(&json!({ "query": query, "variables": variables })).send().await.expect("sent");
        response.json().await.expect("JSON response")
    }

    /// Registers the first admin and returns its token.
    pub async fn bootstrap_admin(&self) -> String {
        let body = self
            .gql(
                None,
                "mutation($i: RegisterInput!) { register(input: $i) { token } }",
                json!({ "i": { "email": "admin@example.com", "password": PASSWORD, "name": "Ada Admin", "role": "ADMIN" } }),
            )
            .await;
        body["data"]["register"]["token"].as_str().unwrap_or_else(|| panic!("bootstrap failed: {body}")).to_owned()
    }

    /// Registers an account of `role` (as `admin_token`) and returns (token, user id).
    pub async fn register(&self, admin_token: &str, email: &str, role: &str) -> (String, String) {
        let body = self
            .gql(
                Some(admin_token),
                "mutation($i: RegisterInput!) { register(input: $i) { token user { id } } }",
                json!({ "i": { "email": email, "password": PASSWORD, "name": "Someone", "role": role } }),
            )
            .await;
        let payload = &body["data"]["register"];
        let token = payload["token"].as_str().unwrap_or_else(|| panic!("register failed: {body}")).to_owned();
        (token, payload["user"]["id"].as_str().unwrap().to_owned())
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

/// A real `fieldforge serve` process on the given database, killed on drop.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: std::process::Child,
}

impl ServerProcess {
    pub async fn start(database_url: &str) -> ServerProcess {
        Self::start_with(database_url, |command| {
            command.env("RUST_LOG", "warn");
        })
        .await
    }

    /// As `start`, with the command adjusted first (environment, output).
    pub async fn start_with(database_url: &str, configure: impl FnOnce(&mut std::process::Command)) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fieldforge"));
        command
            .args(["serve", "--listen", &addr.to_string()])
            .env("DATABASE_URL", database_url)
            .env("JWT_SECRET", SECRET)
            .stdout(std::process::Stdio::null());
        configure(&mut command);
        let mut child = command.spawn().expect("fieldforge starts");
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if client.get(format!("http://{addr}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return ServerProcess { addr, child };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("fieldforge serve did not become ready");
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql", self.addr)
    }

    /// `kill -9`: the process gets no chance to finish anything.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// POSTs one operation to this process.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent").json().await.expect("JSON response")
    }

    /// Sends SIGTERM, as a process manager does.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -TERM");
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("expected an error, got {body}"))
}
