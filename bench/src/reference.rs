//! The same reads answered by another GraphQL server over the same
//! database, in the same run: PostGraphile 4 (Node.js), which compiles each
//! query into one SQL statement. It runs without authentication or role
//! rules (no account lookup, no per-row visibility), so per request it does
//! less than FieldForge is required to do; it has no answer cache either, so
//! compare it with both `a` and `a-fresh`.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::load::{self, Env, ScenarioResult, drive, gql, result};

const BOARD: &str = "query Board { allJobs(first: 50, orderBy: [CREATED_AT_DESC, ID_DESC]) { nodes { id title status customerByCustomerId { id name address } jobAssignmentByJobId { startsAt endsAt technicianByTechnicianId { id name } } } } }";
const JOB: &str = "query Job($id: UUID!) { jobById(id: $id) { id title status customerByCustomerId { id name } jobAssignmentByJobId { technicianByTechnicianId { id name } } invoiceByJobId { id number totalCents amountPaidCents invoiceLinesByInvoiceId(orderBy: POSITION_ASC) { nodes { description quantityHundredths unitPriceCents amountCents } } paymentsByInvoiceId(orderBy: RECEIVED_AT_ASC) { nodes { amountCents method receivedAt } } } } }";

pub struct ReferenceServer {
    child: Child,
    pub env: Env,
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        // `npx` runs the server as its child: stop the whole process group,
        // or a server would outlive the run and answer the next one's probe.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` (e.g. `npx --yes postgraphile@4.14.1`) on `port`; None,
/// with the reason printed, when it does not answer within two minutes.
pub async fn start(command: &str, database_url: &str, port: u16, like: &Env) -> Option<ReferenceServer> {
    let mut words = command.split_whitespace();
    let program = words.next()?;
    let client = reqwest::Client::new();
    let mut env = Env { base: format!("http://127.0.0.1:{port}"), token: String::new(), ..like.clone() };
    if gql(&client, &env, "{ __typename }", json!({})).await.is_some() {
        eprintln!("reference server skipped: something already answers on port {port}");
        return None;
    }
    let child = Command::new(program)
        .process_group(0)
        .args(words)
        .args(["-c", database_url, "--host", "127.0.0.1", "--port", &port.to_string(), "--schema", "public"])
        .args(["--disable-query-log", "--disable-default-mutations"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(child) => child,
        Err(err) => {
            eprintln!("reference server skipped: cannot run `{command}`: {err}");
            return None;
        }
    };
    env.pid = child.id();
    let server = ReferenceServer { child, env };
    for _ in 0..1200 {
        if gql(&client, &server.env, "{ __typename }", json!({})).await.is_some() {
            return Some(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("reference server skipped: `{command}` did not answer within two minutes");
    None
}

pub async fn board(server: &ReferenceServer) -> ScenarioResult {
    let env = Arc::new(server.env.clone());
    let shared = env.clone();
    let measured = drive(&env, move |_, _, client| {
        let env = shared.clone();
        async move { gql(&client, &env, BOARD, json!({})).await.is_some() }
    })
    .await;
    result(
        &env,
        "a-postgraphile",
        "the board from PostGraphile 4 over the same database (no auth, no role rules)",
        "requests/s",
        "reference",
        measured,
        false,
        None,
    )
}

pub async fn job_detail(server: &ReferenceServer, jobs: Vec<String>) -> ScenarioResult {
    let env = Arc::new(server.env.clone());
    let shared = env.clone();
    let jobs = Arc::new(jobs);
    let measured = drive(&env, move |worker, iteration, client| {
        let env = shared.clone();
        let id = jobs[(worker * 7919 + iteration as usize) % jobs.len()].clone();
        async move { gql(&client, &env, JOB, json!({ "id": id })).await.is_some() }
    })
    .await;
    result(
        &env,
        "b-postgraphile",
        "one job with its invoice from PostGraphile 4 (no auth, no role rules)",
        "requests/s",
        "reference",
        measured,
        false,
        None,
    )
}

/// Warms the reference server's query planning and JIT the same way as ours.
pub async fn warm_up(server: &ReferenceServer) {
    let env = Env { duration: Duration::from_secs(2), ..server.env.clone() };
    let shared = Arc::new(env.clone());
    drive(&env, move |_, _, client| {
        let env = shared.clone();
        async move { load::gql(&client, &env, BOARD, json!({})).await.is_some() }
    })
    .await;
}
