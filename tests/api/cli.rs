//! The `fieldforge` binary: its commands and settings.

use std::process::Command;

use crate::common::{TestDatabase, backends};
use fieldforge::entities::{enums::JobStatus, job, user};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn fieldforge() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fieldforge"));
    command.env_remove("JWT_SECRET").env("RUST_LOG", "warn");
    command
}

#[test]
fn print_schema_prints_the_schema_file() {
    let output = fieldforge().arg("print-schema").output().unwrap();
    assert!(output.status.success());
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), on_disk);
}

#[test]
fn a_short_jwt_secret_is_refused() {
    let output = fieldforge()
        .args(["serve", "--database-url", "sqlite::memory:", "--listen", "127.0.0.1:0"])
        .env("JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 32 bytes"));
}

each_backend! {
    #[tokio::test]
    async fn migrate_then_seed_demo_once(backend) {
        let database = TestDatabase::create(backend).await;
        let migrate = fieldforge().arg("migrate").env("DATABASE_URL", &database.url).output().unwrap();
        assert!(migrate.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&migrate.stderr));

        let seed = fieldforge().arg("seed-demo").env("DATABASE_URL", &database.url).output().unwrap();
        let printed = String::from_utf8_lossy(&seed.stdout);
        assert!(seed.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&seed.stderr));
        assert!(printed.contains("admin@fieldforge.demo") && printed.contains("fieldforge-demo"), "{printed}");

        let db = database.connect().await;
        assert_eq!(
            user::Entity::find().count(&db).await.unwrap(),
            11,
            "{backend:?}: admin, 2 dispatchers, 8 technicians"
        );
        for status in
            [JobStatus::Pending, JobStatus::Scheduled, JobStatus::InProgress, JobStatus::Invoiced, JobStatus::Cancelled]
        {
            let count = job::Entity::find().filter(job::Column::Status.eq(status)).count(&db).await.unwrap();
            assert!(count > 0, "{backend:?}: no {status:?} jobs");
        }

        let again = fieldforge().arg("seed-demo").env("DATABASE_URL", &database.url).output().unwrap();
        assert!(!again.status.success(), "{backend:?}: a second seed must be refused");
        assert!(String::from_utf8_lossy(&again.stderr).contains("already has data"));
        assert_eq!(user::Entity::find().count(&db).await.unwrap(), 11);
    }
}

each_backend! {
    #[tokio::test]
    async fn two_processes_migrating_an_empty_database_at_once_both_succeed(backend) {
        // The race is at the first moments of a new database: try it often.
        for _ in 0..10 {
            let database = TestDatabase::create(backend).await;
            let start = || {
                let mut command = fieldforge();
                command.arg("migrate").env("DATABASE_URL", &database.url);
                command.stderr(std::process::Stdio::piped()).spawn().unwrap()
            };
            let (first, second) = (start(), start());
            for child in [first, second] {
                let output = child.wait_with_output().unwrap();
                assert!(output.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&output.stderr));
            }
            let db = database.connect().await;
            assert_eq!(user::Entity::find().count(&db).await.unwrap(), 0, "{backend:?}: the schema is there");
        }
    }
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let database = TestDatabase::create(backends()[0]).await;
    let mut server = crate::common::ServerProcess::start(&database.url).await;
    let base = format!("http://{}", server.addr);
    // Password checks take a while (argon2, queued behind a semaphore). Each
    // login goes over a connection the server has already accepted (a
    // connection still in the listen queue at SIGTERM is not in flight).
    let mut logins = Vec::new();
    for n in 0..12 {
        let client = reqwest::Client::new();
        client.get(format!("{base}/healthz")).send().await.expect("connected");
        let request = client.post(format!("{base}/graphql")).json(&serde_json::json!({
            "query": format!("mutation {{ login(email: \"u{n}@example.com\", password: \"not the password\") {{ token }} }}")
        }));
        logins.push(tokio::spawn(async move {
            let answered = request.send().await.map(|r| r.status());
            (answered, std::time::Instant::now())
        }));
    }
    // Let the server read the requests before the signal.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    server.terminate();
    let signalled = std::time::Instant::now();
    let mut after_the_signal = 0;
    for login in logins {
        let (answered, at) = login.await.unwrap();
        assert_eq!(answered.expect("answered, not dropped"), 200);
        after_the_signal += usize::from(at > signalled);
    }
    assert!(after_the_signal > 0, "some logins were still in flight at the signal");
    let exit = server.wait_exit(std::time::Duration::from_secs(15)).expect("exits after the grace period");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn compose_requires_a_secret_of_the_operators_own() {
    let compose = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/compose.yaml")).unwrap();
    let line = compose.lines().find(|l| l.trim_start().starts_with("JWT_SECRET:")).expect("JWT_SECRET is set");
    assert!(line.contains("${JWT_SECRET:?"), "JWT_SECRET must be required, not defaulted: {line}");
}

/// The server's own log, at its default level, carries neither tokens nor
/// passwords nor raw operation names, whichever way a client sends them.
#[tokio::test]
async fn logs_carry_no_secrets_and_clean_operation_names() {
    let database = TestDatabase::create(backends()[0]).await;
    let log_path = std::env::temp_dir().join(format!("fieldforge-log-{}.txt", uuid::Uuid::new_v4().simple()));
    let log_file = std::fs::File::create(&log_path).unwrap();
    let server = crate::common::ServerProcess::start_with(&database.url, |command| {
        command.env_remove("RUST_LOG").stderr(log_file);
    })
    .await;
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::new();
    let password = "a very secret passphrase 42";
    let register = serde_json::json!({
        "query": "mutation($p: String!) { register(input: { email: \"boss@example.com\", password: $p, name: \"Boss\", role: ADMIN }) { token } }",
        "variables": { "p": password },
    });
    let body: serde_json::Value =
        http.post(format!("{base}/graphql")).json(&register).send().await.unwrap().json().await.unwrap();
    let token = body["data"]["register"]["token"].as_str().unwrap().to_owned();
    let evil_name = "Evil\nname\u{1b}[31m";
    let query = serde_json::json!({ "query": format!("query {} {{ me {{ id }} }}", "Q"), "operationName": evil_name });
    http.post(format!("{base}/graphql")).bearer_auth(&token).json(&query).send().await.unwrap();
    http.get(format!("{base}/graphiql?token={token}")).send().await.unwrap();
    let wrong = serde_json::json!({ "query": "mutation($p: String!) { login(email: \"boss@example.com\", password: $p) { token } }", "variables": { "p": "wrong guess of the passphrase" } });
    http.post(format!("{base}/graphql")).json(&wrong).send().await.unwrap();
    let mut socket = crate::common::ws::WsClient::ready(&server.ws_url(), &token).await;
    socket.subscribe("1", "{ me { id } }", serde_json::json!({})).await;
    socket.recv_json().await;
    server.terminate();
    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    assert!(log.contains("graphql"), "the requests were logged: {log}");
    let signature = token.rsplit('.').next().unwrap();
    for secret in [signature, password, "wrong guess of the passphrase", "token="] {
        assert!(!log.contains(secret), "{secret:?} in the log:\n{log}");
    }
    assert!(!log.contains('\u{1b}') && !log.contains("Evil\n"), "a raw operation name in the log:\n{log}");
}
