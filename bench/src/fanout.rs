//! Scenario (e): many open `jobChanged` subscribers, then a burst of changes.
//! Measures the delay from the change (its journal row's `at`: when it took
//! its place in the journal, just before it committed) to delivery, and,
//! apart from when each change was dated, the time from the burst's first
//! request to the last delivery.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::load::{Env, gql};

#[derive(serde::Deserialize)]
struct ServerMessage<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    payload: Option<Payload<'a>>,
}

#[derive(serde::Deserialize)]
struct Payload<'a> {
    #[serde(borrow)]
    data: Option<EventData<'a>>,
}

#[derive(serde::Deserialize)]
struct EventData<'a> {
    #[serde(rename = "jobChanged", borrow)]
    job_changed: Option<JobChanged<'a>>,
}

#[derive(serde::Deserialize)]
struct JobChanged<'a> {
    cursor: &'a str,
    at: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct FanOut {
    pub subscribers: usize,
    pub connected: usize,
    pub burst: usize,
    pub delivered: usize,
    pub complete_subscribers: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// From the burst's first request to the last delivery, whenever the
    /// changes were dated.
    pub last_delivery_ms: f64,
    pub peak_rss_mib: f64,
    /// CPU time (ms) each process used from the burst until the last delivery.
    pub cpu: crate::cpu::Spent,
}

pub async fn run(env: &Env, subscribers: usize, burst: usize) -> FanOut {
    let ws_url = env.base.replace("http://", "ws://") + "/graphql";
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(subscribers);
    let mut tasks = Vec::new();
    for _ in 0..subscribers {
        let url = ws_url.clone();
        let token = env.token.clone();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let mut request = url.into_client_request().ok()?;
            request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
            // tungstenite zeroes its whole read buffer (128 KiB by default)
            // before every read: with 1,000 sockets that was 44 % of the
            // generator's CPU, taken from the server's two cores.
            let config = WebSocketConfig::default().read_buffer_size(4 * 1024);
            let (mut socket, _) =
                tokio_tungstenite::connect_async_with_config(request, Some(config), true).await.ok()?;
            let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
            socket.send(Message::Text(init.to_string().into())).await.ok()?;
            let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { jobChanged { cursor kind at job { id } } }" } });
            socket.send(Message::Text(subscribe.to_string().into())).await.ok()?;
            let _ = ready.send(()).await;
            drop(ready);
            let mut delays = Vec::new();
            let mut last_received = None;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while delays.len() < burst {
                let message = match tokio::time::timeout_at(deadline, socket.next()).await {
                    Ok(Some(Ok(message))) => message,
                    other => {
                        eprintln!("fan-out subscriber stopped: {other:?}");
                        break;
                    }
                };
                let Message::Text(text) = message else { continue };
                let received = chrono::Utc::now();
                // Only the fields needed, borrowed: the generator shares the
                // server's two cores, and every microsecond here delays the
                // next message it reads.
                let Ok(parsed) = serde_json::from_str::<ServerMessage>(text.as_str()) else { continue };
                if parsed.kind != "next" {
                    if parsed.kind != "connection_ack" && parsed.kind != "ping" {
                        eprintln!("fan-out subscriber got {}", text.as_str());
                    }
                    continue;
                }
                let Some(event) = parsed.payload.and_then(|p| p.data).and_then(|d| d.job_changed) else { continue };
                if let Ok(at) = chrono::DateTime::parse_from_rfc3339(event.at) {
                    let delay = (received - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0).max(0) as u64;
                    delays.push((event.cursor.to_owned(), delay));
                    last_received = Some(std::time::Instant::now());
                }
            }
            let _ = socket.close(None).await;
            Some((delays, last_received))
        }));
    }
    drop(ready_tx);
    let mut connected = 0;
    while let Ok(Some(())) = tokio::time::timeout(Duration::from_secs(30), ready_rx.recv()).await {
        connected += 1;
        if connected == subscribers {
            break;
        }
    }
    // Let every subscription reach the server before the burst.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (peak_before, _) = crate::memory_mib(env.pid);
    let cpu_before = crate::cpu::Usage::now(env.pid);

    let client = reqwest::Client::new();
    let customers = gql(&client, env, "{ customers(first: 1) { nodes { id } } }", json!({})).await.expect("customer");
    let customer = customers["data"]["customers"]["nodes"][0]["id"].clone();
    let burst_calls = (0..burst).map(|n| {
        let client = client.clone();
        let customer = customer.clone();
        async move {
            gql(
                &client,
                env,
                "mutation($c: ID!, $t: String!) { createJob(input: { customerId: $c, title: $t }) { id } }",
                json!({ "c": customer, "t": format!("Burst {n}") }),
            )
            .await
        }
    });
    let burst_began = std::time::Instant::now();
    futures_util::future::join_all(burst_calls).await;

    let mut all = Vec::new();
    let mut per_event: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    let mut complete_subscribers = 0;
    let mut last_delivery = None;
    for task in tasks {
        if let Ok(Some((delays, last_received))) = task.await {
            last_delivery = last_delivery.max(last_received);
            if delays.len() == burst {
                complete_subscribers += 1;
            }
            for (cursor, delay) in delays {
                per_event.entry(cursor).or_default().push(delay);
                all.push(delay);
            }
        }
    }
    let cpu = crate::cpu::Usage::now(env.pid).since(&cpu_before);
    if std::env::var_os("BENCH_FANOUT_DETAIL").is_some() {
        for (cursor, mut delays) in per_event {
            delays.sort_unstable();
            eprintln!(
                "  event {cursor}: first {:.1} ms, median {:.1} ms, last {:.1} ms",
                delays[0] as f64 / 1e3,
                delays[delays.len() / 2] as f64 / 1e3,
                delays[delays.len() - 1] as f64 / 1e3
            );
        }
    }
    all.sort_unstable();
    let pick = |p: f64| {
        if all.is_empty() { 0.0 } else { all[((all.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0 }
    };
    let (peak, _) = crate::memory_mib(env.pid);
    let result = FanOut {
        subscribers,
        connected,
        burst,
        delivered: all.len(),
        complete_subscribers,
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
        last_delivery_ms: last_delivery.map_or(0.0, |at| (at - burst_began).as_secs_f64() * 1e3),
        peak_rss_mib: peak.max(peak_before),
        cpu,
    };
    eprintln!(
        "e: {}/{} subscribers got all {} events; delay p50 {:.1} ms, p99 {:.1} ms; server peak {:.0} MiB",
        result.complete_subscribers, subscribers, burst, result.p50_ms, result.p99_ms, result.peak_rss_mib
    );
    result
}
