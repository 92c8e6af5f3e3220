//! Request scenarios: a fixed number of clients, each sending its next
//! request as soon as the last one answered, for a fixed time.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};
use serde_json::{Value, json};

#[derive(Clone)]
pub struct Env {
    pub base: String,
    pub token: String,
    pub clients: usize,
    pub duration: Duration,
    pub pid: u32,
    /// Send `Cache-Control: no-cache`: every answer is computed, none reused.
    pub fresh: bool,
}

#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub key: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub target: &'static str,
    pub completed: u64,
    pub errors: u64,
    pub seconds: f64,
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub statements_per_op: Option<f64>,
    /// The server's CPU (user + system, from /proc) per operation.
    pub server_cpu_ms_per_op: Option<f64>,
    pub rss_mib: f64,
}

pub const BOARD: &str = "query Board { jobs(first: 50) { nodes { id title status customer { id name address } technician { id name } assignment { startsAt endsAt } } } }";
const JOB: &str = "query Job($id: ID!) { job(id: $id) { id title status customer { id name } technician { id name } invoice { id number total amountPaid balanceDue lines { description quantity unitPrice amount } payments { amount method receivedAt } } } }";
const SCHEDULE: &str = "query Schedule($t: ID!, $from: DateTime!, $to: DateTime!) { schedule(technicianId: $t, from: $from, to: $to) { id kind startsAt endsAt job { id title } } }";

/// A GraphQL request as every load client sends it: with the bench's
/// token, and `no-cache` when every answer must be computed.
fn request(client: &reqwest::Client, env: &Env, query: &str, variables: Value) -> reqwest::RequestBuilder {
    let mut request = client.post(format!("{}/graphql", env.base));
    if !env.token.is_empty() {
        request = request.bearer_auth(&env.token);
    }
    if env.fresh {
        request = request.header("cache-control", "no-cache");
    }
    request.json(&json!({ "query": query, "variables": variables }))
}

pub async fn gql(client: &reqwest::Client, env: &Env, query: &str, variables: Value) -> Option<Value> {
    let response = request(client, env, query, variables).send().await.ok()?;
    let body: Value = response.json().await.ok()?;
    if body["errors"].is_null() { Some(body) } else { None }
}

/// What a load client checks of an answer: data, and no errors. Read
/// without building the JSON tree (each answer is still read and checked
/// whole): the generator shares the servers' two cores, and building a
/// tree of every 12 KB board cost it more than the answer cost some
/// servers to compute.
#[derive(serde::Deserialize)]
struct Answer {
    data: Option<serde::de::IgnoredAny>,
    errors: Option<serde::de::IgnoredAny>,
}

/// Sends a GraphQL request; true when it was answered with data and no errors.
pub async fn answered(client: &reqwest::Client, env: &Env, query: &str, variables: Value) -> bool {
    let Ok(response) = request(client, env, query, variables).send().await else { return false };
    let Ok(body) = response.bytes().await else { return false };
    serde_json::from_slice::<Answer>(&body).is_ok_and(|answer| answer.data.is_some() && answer.errors.is_none())
}

/// (SQL statements, GraphQL operations) served so far.
async fn counters(env: &Env) -> (f64, f64) {
    let text = reqwest::get(format!("{}/metrics", env.base)).await.ok().map(|r| r.text());
    let text = match text {
        Some(t) => t.await.unwrap_or_default(),
        None => String::new(),
    };
    let read = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (read("fieldforge_sql_statements_total"), read("fieldforge_graphql_requests_total"))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

pub(crate) struct Measured {
    completed: u64,
    errors: u64,
    seconds: f64,
    latencies_us: Vec<u64>,
    /// CPU the server (with its child processes) used meanwhile, in ms.
    server_cpu_ms: f64,
}

/// Runs `op(worker, iteration)` from `clients` workers until the time is up.
pub(crate) async fn drive<F, Fut>(env: &Env, op: F) -> Measured
where
    F: Fn(usize, u64, reqwest::Client) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let deadline = Instant::now() + env.duration;
    let started = Instant::now();
    let cpu_before = crate::cpu::Usage::now(env.pid);
    let workers = (0..env.clients).map(|worker| {
        let op = op.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut iteration = 0;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let ok = op(worker, iteration, client.clone()).await;
                latencies.push(t0.elapsed().as_micros() as u64);
                if !ok {
                    errors += 1;
                }
                iteration += 1;
            }
            (latencies, errors)
        })
    });
    let mut latencies_us = Vec::new();
    let mut errors = 0;
    for worker in futures_util::future::join_all(workers).await {
        let (l, e) = worker.expect("worker");
        latencies_us.extend(l);
        errors += e;
    }
    latencies_us.sort_unstable();
    let server_cpu_ms = crate::cpu::Usage::now(env.pid).since(&cpu_before).server_ms;
    Measured {
        completed: latencies_us.len() as u64,
        errors,
        seconds: started.elapsed().as_secs_f64(),
        latencies_us,
        server_cpu_ms,
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn result(
    env: &Env,
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    target: &'static str,
    measured: Measured,
    per_minute: bool,
    statements: Option<f64>,
) -> ScenarioResult {
    let rate = measured.completed as f64 / measured.seconds * if per_minute { 60.0 } else { 1.0 };
    let r = ScenarioResult {
        key,
        name,
        unit,
        target,
        completed: measured.completed,
        errors: measured.errors,
        seconds: measured.seconds,
        rate,
        p50_ms: percentile(&measured.latencies_us, 0.50),
        p99_ms: percentile(&measured.latencies_us, 0.99),
        statements_per_op: statements,
        server_cpu_ms_per_op: Some(measured.server_cpu_ms / measured.completed.max(1) as f64),
        rss_mib: crate::memory_mib(env.pid).1,
    };
    eprintln!(
        "{key}: {:.0} {unit}, p50 {:.2} ms, p99 {:.2} ms, errors {}, server CPU {:.3} ms per op",
        r.rate,
        r.p50_ms,
        r.p99_ms,
        r.errors,
        r.server_cpu_ms_per_op.unwrap_or_default()
    );
    r
}

pub async fn warm_up(env: &Env) {
    let short = Env { duration: Duration::from_secs(2), ..env.clone() };
    let shared = Arc::new(short.clone());
    drive(&short, move |_, _, client| {
        let env = shared.clone();
        async move { answered(&client, &env, BOARD, json!({})).await }
    })
    .await;
}

pub(crate) async fn ids(env: &Env, query: &str, pick: &str) -> Vec<String> {
    let body = gql(&reqwest::Client::new(), env, query, json!({})).await.expect("id query");
    body["data"][pick]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs a read scenario and reports statements per request from /metrics.
async fn read_scenario(
    env: &Env,
    query: &'static str,
    variables: Arc<dyn Fn(usize, u64) -> Value + Send + Sync>,
) -> (Measured, f64) {
    let shared = Arc::new(env.clone());
    let (statements_before, requests_before) = counters(env).await;
    let measured = drive(env, move |worker, iteration, client| {
        let env = shared.clone();
        let vars = variables(worker, iteration);
        async move { answered(&client, &env, query, vars).await }
    })
    .await;
    let (statements_after, requests_after) = counters(env).await;
    let per = (statements_after - statements_before) / (requests_after - requests_before).max(1.0);
    (measured, per)
}

pub async fn board(env: &Env) -> ScenarioResult {
    let (measured, per) = read_scenario(env, BOARD, Arc::new(|_, _| json!({}))).await;
    result(
        env,
        if env.fresh { "a-fresh" } else { "a" },
        if env.fresh {
            "dispatcher board, every answer computed (Cache-Control: no-cache)"
        } else {
            "dispatcher board: jobs(first: 50) with customer, technician, assignment"
        },
        "requests/s",
        ">= 3000/s at 16 clients, p99 < 15 ms, <= 4 statements",
        measured,
        false,
        Some(per),
    )
}

/// The board under another name (for scenario `h`).
pub async fn board_named(env: &Env, key: &'static str, name: &'static str) -> ScenarioResult {
    let (measured, per) = read_scenario(env, BOARD, Arc::new(|_, _| json!({}))).await;
    result(env, key, name, "requests/s", "p99 under attack < 3 x quiet; peak < 200 MB", measured, false, Some(per))
}

/// Ids of invoiced jobs, for (b) here and on the reference server.
pub async fn invoiced_jobs(env: &Env) -> Vec<String> {
    ids(env, "{ jobs(first: 100, filter: { status: [INVOICED] }) { nodes { id } } }", "jobs").await
}

pub async fn job_detail(env: &Env) -> ScenarioResult {
    let jobs = Arc::new(invoiced_jobs(env).await);
    let (measured, per) =
        read_scenario(env, JOB, Arc::new(move |w, i| json!({ "id": jobs[(w * 7919 + i as usize) % jobs.len()] })))
            .await;
    result(
        env,
        if env.fresh { "b-fresh" } else { "b" },
        if env.fresh {
            "one job with its invoice, every answer computed (no-cache)"
        } else {
            "one job with customer, technician, invoice, lines, payments"
        },
        "requests/s",
        ">= 5000/s",
        measured,
        false,
        Some(per),
    )
}

pub async fn technician_schedule(env: &Env) -> ScenarioResult {
    let technicians = Arc::new(technician_ids(env).await);
    let from = chrono::Utc::now();
    let to = from + chrono::Duration::days(7);
    let (measured, per) = read_scenario(
        env,
        SCHEDULE,
        Arc::new(move |w, i| {
            json!({ "t": technicians[(w * 31 + i as usize) % technicians.len()], "from": from.to_rfc3339(), "to": to.to_rfc3339() })
        }),
    )
    .await;
    let (key, name) = if env.fresh {
        ("c-fresh", "one technician's week, every answer computed (no-cache)")
    } else {
        ("c", "one technician's schedule over seven days")
    };
    result(env, key, name, "requests/s", ">= 5000/s", measured, false, Some(per))
}

/// The board while the data keeps changing: one of the clients creates jobs
/// nonstop (each one a new data version), the others read the board.
pub async fn board_while_writing(env: &Env) -> ScenarioResult {
    let customers = Arc::new(ids(env, "{ customers(first: 100) { nodes { id } } }", "customers").await);
    let shared = Arc::new(env.clone());
    let (statements_before, requests_before) = counters(env).await;
    let measured = drive(env, move |worker, _, client| {
        let env = shared.clone();
        let customers = customers.clone();
        async move {
            if worker == 0 {
                let create =
                    "mutation($c: ID!) { createJob(input: { customerId: $c, title: \"Bench write\" }) { id } }";
                gql(&client, &env, create, json!({ "c": customers[0] })).await.is_some()
            } else {
                answered(&client, &env, BOARD, json!({})).await
            }
        }
    })
    .await;
    let (statements_after, requests_after) = counters(env).await;
    let per = (statements_after - statements_before) / (requests_after - requests_before).max(1.0);
    result(
        env,
        "a-busy",
        "dispatcher board while 1 of the clients creates jobs nonstop",
        "requests/s",
        "(reads and writes together)",
        measured,
        false,
        Some(per),
    )
}

/// create → assign → start → complete → pay, each lifecycle in its own window.
pub async fn lifecycle(env: &Env) -> ScenarioResult {
    let technicians = Arc::new(technician_ids(env).await);
    let customers = Arc::new(ids(env, "{ customers(first: 100) { nodes { id } } }", "customers").await);
    // Each run books its own stretch of the calendar, so a re-run against the
    // same database (--skip-seed) meets no windows of an earlier run.
    let run_slots = (chrono::Utc::now().timestamp() as u64 / 60 % 100_000) * 200 * technicians.len() as u64;
    let next_slot = Arc::new(AtomicU64::new(run_slots));
    let far_future =
        chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::days(400);
    let shared = Arc::new(env.clone());
    let (statements_before, _) = counters(env).await;
    let measured = drive(env, move |worker, _, client| {
        let env = shared.clone();
        let technicians = technicians.clone();
        let customers = customers.clone();
        let n = next_slot.fetch_add(1, Ordering::Relaxed);
        async move {
            let technician = &technicians[n as usize % technicians.len()];
            let slot = n / technicians.len() as u64;
            let starts = far_future + chrono::Duration::hours(3 * slot as i64);
            let ends = starts + chrono::Duration::hours(2);
            let created = gql(&client, &env, "mutation($c: ID!) { createJob(input: { customerId: $c, title: \"Bench lifecycle\" }) { id } }", json!({ "c": customers[worker % customers.len()] })).await;
            let Some(job) = created.and_then(|b| b["data"]["createJob"]["id"].as_str().map(str::to_owned)) else { return false };
            let assign = "mutation($j: ID!, $t: ID!, $s: DateTime!, $e: DateTime!) { assignJob(input: { jobId: $j, technicianId: $t, startsAt: $s, endsAt: $e }) { status } }";
            if gql(&client, &env, assign, json!({ "j": job, "t": technician, "s": starts.to_rfc3339(), "e": ends.to_rfc3339() })).await.is_none() {
                return false;
            }
            if gql(&client, &env, "mutation($j: ID!) { startJob(jobId: $j) { status } }", json!({ "j": job })).await.is_none() {
                return false;
            }
            let complete = "mutation($j: ID!) { completeJob(jobId: $j, input: { laborHours: \"1.5\", materials: [{ description: \"Part\", quantity: \"2\", unitPrice: \"12.50\" }] }) { invoice { id total } } }";
            let Some(done) = gql(&client, &env, complete, json!({ "j": job })).await else { return false };
            let invoice = &done["data"]["completeJob"]["invoice"];
            let pay = "mutation($i: ID!, $a: Decimal!) { recordPayment(input: { invoiceId: $i, amount: $a, method: CARD }) { id } }";
            gql(&client, &env, pay, json!({ "i": invoice["id"], "a": invoice["total"] })).await.is_some()
        }
    })
    .await;
    let (statements_after, _) = counters(env).await;
    let per = (statements_after - statements_before) / (measured.completed.max(1) as f64);
    result(
        env,
        "d",
        "full lifecycle: create, assign, start, complete, pay",
        "lifecycles/min",
        ">= 500/min, no unexpected errors",
        measured,
        true,
        Some(per),
    )
}

/// The board's two statements sent by the load generator straight to
/// PostgreSQL: the database's own limit for that read on this machine.
/// The peer's single statements (`../shared/peer/queries/*.sql`): each read
/// answered in one round trip, the database's own limit for it.
const BOARD_SQL: &str = "SELECT j.id, j.title, j.status, j.created_at, c.id AS customer_id, c.name AS customer_name, c.address, t.id AS technician_id, t.name AS technician_name, a.starts_at, a.ends_at FROM jobs j JOIN customers c ON c.id = j.customer_id LEFT JOIN job_assignments a ON a.job_id = j.id LEFT JOIN technicians t ON t.id = a.technician_id ORDER BY j.created_at DESC, j.id DESC LIMIT 51";
const JOB_SQL: &str = "SELECT j.id, j.title, j.description, j.status, j.priority, j.created_at, c.id AS customer_id, c.name, c.email, c.phone, c.address, t.id AS technician_id, t.name AS technician_name, a.starts_at, a.ends_at, i.id AS invoice_id, i.number, i.status AS invoice_status, i.total_cents, i.amount_paid_cents, i.total_cents - i.amount_paid_cents AS balance_due_cents, i.issued_at, (SELECT json_agg(json_build_array(l.description, l.quantity_hundredths, l.unit_price_cents, l.amount_cents) ORDER BY l.position) FROM invoice_lines l WHERE l.invoice_id = i.id) AS lines, (SELECT json_agg(json_build_array(p.amount_cents, p.method, p.received_at) ORDER BY p.received_at) FROM payments p WHERE p.invoice_id = i.id) AS payments FROM jobs j JOIN customers c ON c.id = j.customer_id LEFT JOIN job_assignments a ON a.job_id = j.id LEFT JOIN technicians t ON t.id = a.technician_id LEFT JOIN invoices i ON i.job_id = j.id WHERE j.id = $1::uuid";
const SCHEDULE_SQL: &str = "SELECT s.id, s.kind, s.starts_at, s.ends_at, s.note, j.id AS job_id, j.title, j.status FROM schedules s LEFT JOIN jobs j ON j.id = s.job_id WHERE s.technician_id = $1::uuid AND s.starts_at < $3::timestamptz AND s.ends_at > $2::timestamptz ORDER BY s.starts_at, s.id";

/// One read scenario's single statement, prepared, from 16 clients over a
/// pool (what pgbench `-M prepared` measures).
async fn direct(
    env: &Env,
    url: &str,
    key: &'static str,
    name: &'static str,
    sql: &'static str,
    values: Arc<dyn Fn(usize, u64) -> Vec<sea_orm::Value> + Send + Sync>,
) -> ScenarioResult {
    let db = Arc::new(Database::connect(url).await.expect("connect"));
    let measured = drive(env, move |worker, iteration, _| {
        let db = db.clone();
        let values = values(worker, iteration);
        async move {
            let statement = Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values);
            db.query_all_raw(statement).await.is_ok()
        }
    })
    .await;
    let mut r = result(env, key, name, "requests/s", "reference", measured, false, Some(1.0));
    r.server_cpu_ms_per_op = None; // no server in the way
    r
}

pub async fn board_direct(env: &Env, url: &str) -> ScenarioResult {
    let name = "the board as one statement sent straight to PostgreSQL (the limit)";
    direct(env, url, "a-direct", name, BOARD_SQL, Arc::new(|_, _| Vec::new())).await
}

pub async fn job_detail_direct(env: &Env, url: &str) -> ScenarioResult {
    let jobs = Arc::new(invoiced_jobs(env).await);
    let name = "one job with its invoice as one statement sent straight to PostgreSQL";
    let pick = Arc::new(move |w: usize, i: u64| vec![jobs[(w * 7919 + i as usize) % jobs.len()].clone().into()]);
    direct(env, url, "b-direct", name, JOB_SQL, pick).await
}

pub async fn technician_schedule_direct(env: &Env, url: &str) -> ScenarioResult {
    let technicians = Arc::new(technician_ids(env).await);
    let from = chrono::Utc::now();
    let to = from + chrono::Duration::days(7);
    let name = "one technician's week as one statement sent straight to PostgreSQL";
    let pick = Arc::new(move |w: usize, i: u64| {
        vec![technicians[(w * 31 + i as usize) % technicians.len()].clone().into(), from.into(), to.into()]
    });
    direct(env, url, "c-direct", name, SCHEDULE_SQL, pick).await
}

pub async fn technician_ids(env: &Env) -> Vec<String> {
    ids(env, "{ technicians(first: 100) { nodes { id } } }", "technicians").await
}

const SUGGEST: &str = "query Suggest($job: ID!, $s: DateTime!, $e: DateTime!) { suggestTechnicians(jobId: $job, startsAt: $s, endsAt: $e, first: 5) { candidates { technician { id name } score travelKm bookedMinutesThatDay servedCustomerBefore components { name weight value } } excluded { technician { id } reason conflictingJobId conflictingScheduleEntryId } } }";

/// (s) `suggestTechnicians` over the bench's 200 technicians, answers
/// computed: a pending job and a 2-hour window tomorrow, among the day's
/// bookings.
pub async fn suggestions(env: &Env) -> ScenarioResult {
    let fresh = Env { fresh: true, ..env.clone() };
    let jobs =
        Arc::new(ids(&fresh, "{ jobs(first: 100, filter: { status: [PENDING] }) { nodes { id } } }", "jobs").await);
    let tomorrow = chrono::Utc::now().date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc() + chrono::Duration::days(1);
    let (measured, per) = read_scenario(
        &fresh,
        SUGGEST,
        Arc::new(move |w, i| {
            let n = w * 7919 + i as usize;
            let starts = tomorrow + chrono::Duration::hours(1 + (n % 8) as i64 * 2);
            let ends = starts + chrono::Duration::hours(2);
            json!({ "job": jobs[n % jobs.len()], "s": starts.to_rfc3339(), "e": ends.to_rfc3339() })
        }),
    )
    .await;
    result(
        &fresh,
        "s",
        "suggestTechnicians over 200 technicians, every answer computed (no-cache)",
        "requests/s",
        "<= 3 statements and < 1 ms server CPU per call",
        measured,
        false,
        Some(per),
    )
}
