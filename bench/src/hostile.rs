//! Scenario `h` (hostile): the board read by 8 clients, first quietly, then
//! while 500 logins with distinct emails from distinct addresses stay in
//! flight and 20 clients send a query that would amplify to 10^8 nodes. The
//! server runs with `--trusted-proxies 127.0.0.1`, so each login counts
//! under its own `X-Forwarded-For` address and reaches the password check:
//! the flood costs argon2 work, as one from many machines would.
//!
//! Reported: the board's p99 quiet and under attack (goal: under three
//! times), the server's peak resident memory during the attack (goal: under
//! 200 MB), and what the attackers got.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::load::{self, Env, ScenarioResult};

const BOARD_CLIENTS: usize = 8;
const LOGINS_IN_FLIGHT: usize = 500;
const AMPLIFIERS: usize = 20;
const AMPLIFIER: &str = "{ jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { id title } } } } } } } } } } } }";

#[derive(Debug, Default, Clone)]
pub struct Hostile {
    pub quiet: Option<ScenarioResult>,
    pub attacked: Option<ScenarioResult>,
    pub peak_rss_mib: f64,
    pub logins_answered: u64,
    pub logins_rate_limited: u64,
    pub logins_failed_transport: u64,
    pub amplifications_refused: u64,
    pub amplifications_answered: u64,
}

impl Hostile {
    pub fn p99_ratio(&self) -> Option<f64> {
        Some(self.attacked.as_ref()?.p99_ms / self.quiet.as_ref()?.p99_ms.max(0.001))
    }
}

pub async fn run(env: &Env) -> Hostile {
    // Every board answer computed, in both halves, so that the comparison
    // is the attack and not the cache (failed logins are journalled, which
    // makes every later board a new version).
    let board_env = Env { clients: BOARD_CLIENTS, fresh: true, ..env.clone() };
    let quiet = load::board_named(&board_env, "h-quiet", "board, 8 clients, quiet").await;

    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let mut attackers = Vec::new();
    for worker in 0..LOGINS_IN_FLIGHT {
        attackers.push(tokio::spawn(login_flood(env.base.clone(), worker, stop.clone(), counts.clone())));
    }
    for _ in 0..AMPLIFIERS {
        attackers.push(tokio::spawn(amplify(env.clone(), stop.clone(), counts.clone())));
    }
    let sampler = tokio::spawn(peak_rss(env.pid, stop.clone()));
    // Let the flood build up before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let attacked = load::board_named(&board_env, "h-attacked", "board, 8 clients, under attack").await;
    stop.store(true, Ordering::Relaxed);
    let peak_rss_mib = sampler.await.unwrap_or(0.0);
    for attacker in attackers {
        attacker.abort();
    }
    let h = Hostile {
        quiet: Some(quiet),
        attacked: Some(attacked),
        peak_rss_mib,
        logins_answered: counts.logins_answered.load(Ordering::Relaxed),
        logins_rate_limited: counts.logins_rate_limited.load(Ordering::Relaxed),
        logins_failed_transport: counts.logins_failed_transport.load(Ordering::Relaxed),
        amplifications_refused: counts.amplifications_refused.load(Ordering::Relaxed),
        amplifications_answered: counts.amplifications_answered.load(Ordering::Relaxed),
    };
    eprintln!(
        "h: board p99 quiet {:.2} ms, under attack {:.2} ms ({:.1}x); peak RSS {:.0} MiB; logins answered {} (rate limited {}, transport errors {}); amplifications refused {}, answered {}",
        h.quiet.as_ref().map_or(0.0, |q| q.p99_ms),
        h.attacked.as_ref().map_or(0.0, |a| a.p99_ms),
        h.p99_ratio().unwrap_or(0.0),
        h.peak_rss_mib,
        h.logins_answered,
        h.logins_rate_limited,
        h.logins_failed_transport,
        h.amplifications_refused,
        h.amplifications_answered,
    );
    h
}

#[derive(Default)]
struct Counts {
    logins_answered: AtomicU64,
    logins_rate_limited: AtomicU64,
    logins_failed_transport: AtomicU64,
    amplifications_refused: AtomicU64,
    amplifications_answered: AtomicU64,
}

/// One of the 500 logins in flight: a new email and address each time.
async fn login_flood(base: String, worker: usize, stop: Arc<AtomicBool>, counts: Arc<Counts>) {
    let client = reqwest::Client::new();
    let mut attempt: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        attempt += 1;
        let address = format!("10.{}.{}.{}", worker % 250, (attempt / 250) % 250, attempt % 250 + 1);
        let body = json!({
            "query": "mutation($e: String!) { login(email: $e, password: \"not the password at all\") { token } }",
            "variables": { "e": format!("flood-{worker}-{attempt}@bench.local") },
        });
        let sent = client.post(format!("{base}/graphql")).header("x-forwarded-for", address).json(&body).send().await;
        let answer: Option<Value> = match sent {
            Ok(response) => response.json().await.ok(),
            Err(_) => None,
        };
        match answer {
            Some(answer) => {
                counts.logins_answered.fetch_add(1, Ordering::Relaxed);
                if answer["errors"][0]["extensions"]["code"] == "RATE_LIMITED" {
                    counts.logins_rate_limited.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                counts.logins_failed_transport.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn amplify(env: Env, stop: Arc<AtomicBool>, counts: Arc<Counts>) {
    let client = reqwest::Client::new();
    while !stop.load(Ordering::Relaxed) {
        let sent = client
            .post(format!("{}/graphql", env.base))
            .bearer_auth(&env.token)
            .header("cache-control", "no-cache")
            .json(&json!({ "query": AMPLIFIER }))
            .send()
            .await;
        let Ok(response) = sent else { continue };
        let Ok(body) = response.json::<Value>().await else { continue };
        if body["data"].is_null() && body["errors"].is_array() {
            counts.amplifications_refused.fetch_add(1, Ordering::Relaxed);
        } else {
            counts.amplifications_answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The largest resident set seen, sampled every 50 ms until stopped.
async fn peak_rss(pid: u32, stop: Arc<AtomicBool>) -> f64 {
    let mut peak: f64 = 0.0;
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(600) {
        peak = peak.max(crate::memory_mib(pid).1);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    peak.max(crate::memory_mib(pid).1)
}
