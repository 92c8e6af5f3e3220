//! `fieldforge-bench`: seeds a realistic volume into a fresh PostgreSQL
//! database, starts the release server, drives it over loopback with a fixed
//! number of concurrent clients, and writes the figures as JSON and an SVG
//! chart. See the README's "Benchmark" section.

/// The same allocator as the server: the generator shares its two cores.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cpu;
mod fanout;
mod hostile;
mod load;
mod reference;
mod report;
mod side_by_side;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::Parser;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

#[derive(Parser, Debug, Clone)]
#[command(about = "Load benchmark for FieldForge (PostgreSQL)")]
pub struct Args {
    /// A PostgreSQL URL where the benchmark may create and drop its database.
    #[arg(
        long,
        env = "BENCH_ADMIN_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
    )]
    admin_url: String,
    /// Name of the (re)created benchmark database.
    #[arg(long, default_value = "fieldforge_bench")]
    database: String,
    /// The server binary to start.
    #[arg(long, default_value = "target/release/fieldforge")]
    server: PathBuf,
    #[arg(long, default_value_t = 18088)]
    port: u16,
    /// The server's PostgreSQL pool size (FIELDFORGE_DB_POOL_SIZE).
    #[arg(long, default_value_t = 8)]
    pool: u32,
    /// Concurrent clients for the request scenarios.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds per request scenario.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Open `jobChanged` subscribers for the fan-out scenario.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Changes in the fan-out burst.
    #[arg(long, default_value_t = 20)]
    burst: usize,
    /// Where results.json and results.svg go.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// Reuse an already seeded benchmark database.
    #[arg(long)]
    skip_seed: bool,
    /// The side-by-side peer of scenario `r`: PostGraphile 5's directory
    /// (package.json, postgraphile.mjs, peer-functions.sql, queries/). It is
    /// installed with `npm ci` on first use and started on port + 1; `r` is
    /// skipped, with a message, when it cannot start.
    #[arg(long, env = "BENCH_PEER_DIR", default_value = "../shared/peer")]
    peer_dir: PathBuf,
    /// Scenario `r`: alternating rounds per read and side (FieldForge
    /// computed, PostGraphile 5), `--seconds` each; the figure is the median
    /// of the per-round ratios.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Run only these scenarios (e.g. `--only a,e`; `r` is the reference
    /// GraphQL server, `h` the hostile clients); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

pub const PASSWORD: &str = "benchmark-password";

struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The admin URL with another database, keeping its parameters (`sslmode`:
/// without `disable`, loopback connections negotiate TLS with a server that
/// has it on, and the benchmark would measure rustls).
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

async fn seed(args: &Args, url: &str) -> Result<(), String> {
    let admin = Database::connect(&args.admin_url).await.map_err(|e| e.to_string())?;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", args.database))
        .await
        .map_err(|e| e.to_string())?;
    admin.execute_unprepared(&format!("CREATE DATABASE {}", args.database)).await.map_err(|e| e.to_string())?;
    let db = fieldforge::db::connect(url).await.map_err(|e| e.to_string())?;
    fieldforge::db::migrate(url, &db).await.map_err(|e| e.to_string())?;
    let hash = fieldforge::auth::password::hash(PASSWORD.to_owned()).await.map_err(|e| e.to_string())?;
    let script = include_str!("../sql/seed.sql").replace(":admin_hash", &hash);
    db.execute_unprepared(&script).await.map_err(|e| e.to_string())?;
    Ok(())
}

fn start_server(args: &Args, url: &str) -> Result<ServerProcess, String> {
    let child = Command::new(&args.server)
        .args(["serve", "--listen", &format!("127.0.0.1:{}", args.port)])
        .env("DATABASE_URL", url)
        .env("JWT_SECRET", "benchmark-secret-benchmark-secret-0123456789")
        .env("RUST_LOG", "warn")
        .env_remove("TOKIO_WORKER_THREADS")
        .env("FIELDFORGE_DB_POOL_SIZE", args.pool.to_string())
        // Scenario `h` sends each login from its own X-Forwarded-For address.
        .env("FIELDFORGE_TRUSTED_PROXIES", "127.0.0.1")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e} (build it with `cargo build --release`)", args.server.display()))?;
    Ok(ServerProcess(child))
}

/// VmHWM (peak resident memory) and VmRSS of a process, in MiB.
pub fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(err) = run(args).await {
        eprintln!("fieldforge-bench: {err}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let url = database_url(&args.admin_url, &args.database);
    if !args.skip_seed {
        let started = std::time::Instant::now();
        seed(&args, &url).await?;
        eprintln!("seeded {} in {:.1} s", args.database, started.elapsed().as_secs_f64());
    }
    let server = start_server(&args, &url)?;
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{}", args.port);
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let login: Value = http
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": "mutation($p: String!) { login(email: \"admin@bench.local\", password: $p) { token } }", "variables": { "p": PASSWORD } }))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let token = login["data"]["login"]["token"].as_str().ok_or(format!("login failed: {login}"))?.to_owned();
    let env = load::Env {
        base: base.clone(),
        token,
        clients: args.clients,
        duration: Duration::from_secs(args.seconds),
        pid,
        fresh: false,
    };
    let fresh = load::Env { fresh: true, ..env.clone() };

    let wanted = |key: &str| args.only.is_empty() || args.only.iter().any(|k| k == key);
    let mut results = Vec::new();
    load::warm_up(&env).await;
    if wanted("a") {
        results.push(load::board(&env).await);
        results.push(load::board(&fresh).await);
        results.push(load::board_direct(&env, &url).await);
        results.push(load::board_while_writing(&env).await);
    }
    if wanted("b") {
        results.push(load::job_detail(&env).await);
        results.push(load::job_detail(&fresh).await);
        results.push(load::job_detail_direct(&env, &url).await);
    }
    if wanted("c") {
        results.push(load::technician_schedule(&env).await);
        results.push(load::technician_schedule(&fresh).await);
        results.push(load::technician_schedule_direct(&env, &url).await);
    }
    let mut side_by_side = Vec::new();
    if wanted("r")
        && let Some(other) = reference::start(&args.peer_dir, &url, args.port + 1, &env).await
    {
        reference::warm_up(&other).await;
        side_by_side = side_by_side::run(&fresh, &other, args.rounds.max(1)).await;
        for read in &side_by_side {
            results.extend(read.rounds.iter().flat_map(|(ours, peer)| [ours.clone(), peer.clone()]));
        }
    }
    if wanted("s") {
        results.push(load::suggestions(&env).await);
    }
    if wanted("d") {
        results.push(load::lifecycle(&env).await);
    }
    let fan =
        if wanted("e") { fanout::run(&env, args.subscribers, args.burst).await } else { fanout::FanOut::default() };
    let hostile = if wanted("h") { Some(hostile::run(&env).await) } else { None };
    let (peak, rss) = memory_mib(pid);
    drop(server);

    let report = report::Report::new(&args, results, side_by_side, fan, hostile, peak, rss);
    report.print();
    std::fs::create_dir_all(&args.out).map_err(|e| e.to_string())?;
    std::fs::write(args.out.join("results.json"), serde_json::to_string_pretty(&report.json()).unwrap())
        .map_err(|e| e.to_string())?;
    std::fs::write(args.out.join("results.svg"), report.svg()).map_err(|e| e.to_string())?;
    eprintln!("wrote {}/results.json and results.svg", args.out.display());
    Ok(())
}
