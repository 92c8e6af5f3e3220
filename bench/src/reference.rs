//! The same reads answered by the side-by-side peer over the same database,
//! in the same run: PostGraphile 5 (`../shared/peer`: Node 22, the Amber
//! preset, `NODE_ENV=production`, one node:cluster worker per core, pool
//! 10), which compiles each query into one SQL statement. It runs without
//! authentication or role rules (no account lookup, no per-row
//! visibility), so per request it does less than FieldForge must; it has no
//! answer cache either, so compare it with the computed (`-fresh`) answers.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::load::{self, Env, ScenarioResult, drive, gql, result};

pub struct ReferenceServer {
    child: Child,
    pub env: Env,
    board: String,
    job: String,
    schedule: String,
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        // Stop the whole process group: the cluster's workers too.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn query(peer: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(peer.join("queries").join(format!("{name}.postgraphile.graphql"))).ok()
}

/// Installs (`npm ci`, once), adds the peer's SQL function to the bench
/// database, and starts PostGraphile 5 on `port`; None, with the reason
/// printed, when any of it fails or it does not answer within two minutes.
pub async fn start(peer: &Path, database_url: &str, port: u16, like: &Env) -> Option<ReferenceServer> {
    let skip = |why: String| {
        eprintln!("reference server skipped: {why}");
        None
    };
    // Absolute: the program's path must not depend on the child's directory.
    let peer = &match peer.canonicalize() {
        Ok(dir) => dir,
        Err(err) => return skip(format!("{}: {err}", peer.display())),
    };
    let (Some(board), Some(job), Some(schedule)) =
        (query(peer, "board"), query(peer, "job-detail"), query(peer, "tech-schedule"))
    else {
        return skip(format!("no peer queries in {}", peer.display()));
    };
    let node = peer.join("node_modules/.bin/node");
    if !node.exists() {
        eprintln!("installing the peer (npm ci in {})", peer.display());
        let installed = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(peer).status();
        if !installed.is_ok_and(|s| s.success()) {
            return skip("`npm ci` failed (Node.js, npm and the npm registry are needed)".into());
        }
    }
    let functions = match std::fs::read_to_string(peer.join("peer-functions.sql")) {
        Ok(sql) => sql,
        Err(err) => return skip(format!("peer-functions.sql: {err}")),
    };
    match Database::connect(database_url).await {
        Ok(db) => {
            if let Err(err) = db.execute_unprepared(&functions).await {
                return skip(format!("peer-functions.sql: {err}"));
            }
        }
        Err(err) => return skip(format!("database: {err}")),
    }
    let client = reqwest::Client::new();
    let mut env = Env { base: format!("http://127.0.0.1:{port}"), token: String::new(), ..like.clone() };
    if gql(&client, &env, "{ __typename }", json!({})).await.is_some() {
        return skip(format!("something already answers on port {port}"));
    }
    let child = Command::new(&node)
        .process_group(0)
        .arg("postgraphile.mjs")
        .current_dir(peer)
        .env("DATABASE_URL", database_url)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(err) => return skip(format!("cannot run {}: {err}", node.display())),
    };
    env.pid = child.id();
    let server = ReferenceServer { child, env, board, job, schedule };
    for _ in 0..1200 {
        if gql(&client, &server.env, "{ __typename }", json!({})).await.is_some() {
            return Some(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    skip("PostGraphile 5 did not answer within two minutes".into())
}

async fn scenario(
    server: &ReferenceServer,
    key: &'static str,
    name: &'static str,
    query: String,
    variables: Arc<dyn Fn(usize, u64) -> Value + Send + Sync>,
) -> ScenarioResult {
    let env = Arc::new(server.env.clone());
    let shared = env.clone();
    let query = Arc::new(query);
    let measured = drive(&env, move |worker, iteration, client| {
        let (env, query, variables) = (shared.clone(), query.clone(), variables(worker, iteration));
        async move { load::answered(&client, &env, &query, variables).await }
    })
    .await;
    result(&env, key, name, "requests/s", "reference", measured, false, None)
}

pub async fn board(server: &ReferenceServer) -> ScenarioResult {
    let name = "the board from PostGraphile 5 over the same database (no auth, no role rules)";
    scenario(server, "a-postgraphile", name, server.board.clone(), Arc::new(|_, _| json!({}))).await
}

pub async fn job_detail(server: &ReferenceServer, jobs: Vec<String>) -> ScenarioResult {
    let name = "one job with its invoice from PostGraphile 5 (no auth, no role rules)";
    let pick = Arc::new(move |w: usize, i: u64| json!({ "jobId": jobs[(w * 7919 + i as usize) % jobs.len()] }));
    scenario(server, "b-postgraphile", name, server.job.clone(), pick).await
}

pub async fn technician_schedule(server: &ReferenceServer, technicians: Vec<String>) -> ScenarioResult {
    let name = "one technician's week from PostGraphile 5 (a SQL function; no auth)";
    let from = chrono::Utc::now();
    let to = from + chrono::Duration::days(7);
    let pick = Arc::new(
        move |w: usize, i: u64| json!({ "technicianId": technicians[(w * 31 + i as usize) % technicians.len()], "from": from.to_rfc3339(), "to": to.to_rfc3339() }),
    );
    scenario(server, "c-postgraphile", name, server.schedule.clone(), pick).await
}

/// Warms the peer's planning and JIT the same way as ours.
pub async fn warm_up(server: &ReferenceServer) {
    let env = Env { duration: Duration::from_secs(3), ..server.env.clone() };
    let shared = Arc::new(env.clone());
    let board = Arc::new(server.board.clone());
    drive(&env, move |_, _, client| {
        let (env, board) = (shared.clone(), board.clone());
        async move { load::answered(&client, &env, &board, json!({})).await }
    })
    .await;
}
