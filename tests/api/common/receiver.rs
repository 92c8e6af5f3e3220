//! A real webhook receiver: an axum server on 127.0.0.1 that records every
//! POST (headers and body bytes) and answers as the test tells it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Bytes,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    pub fn delivery_id(&self) -> String {
        self.header("x-fieldforge-delivery").to_owned()
    }

    /// Whether the signature header is `v1=` HMAC-SHA256 of
    /// `<timestamp>.<body>` keyed with `secret`, computed here from scratch.
    pub fn signed_with(&self, secret: &str) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(self.header("x-fieldforge-timestamp").as_bytes());
        mac.update(b".");
        mac.update(&self.body);
        self.header("x-fieldforge-signature") == format!("v1={}", hex::encode(mac.finalize().into_bytes()))
    }
}

/// How to answer one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Answer with this status after a pause (longer than 10 s: a timeout).
    Slow(Duration, u16),
}

type Policy = Arc<dyn Fn(&Received) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    received: Arc<Mutex<Vec<Received>>>,
    policy: Arc<Mutex<Policy>>,
    in_flight: Arc<Mutex<HashMap<String, usize>>>,
    overlaps: Arc<Mutex<Vec<String>>>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Shared,
}

impl Receiver {
    /// A receiver answering 200 to everything.
    pub async fn start() -> Receiver {
        let shared = Shared {
            received: Default::default(),
            policy: Arc::new(Mutex::new(Arc::new(|_: &Received| Reply::Status(200)))),
            in_flight: Default::default(),
            overlaps: Default::default(),
        };
        let app = axum::Router::new().route("/{*path}", post(receive)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// From now on, answer with `policy`.
    pub fn answer(&self, policy: impl Fn(&Received) -> Reply + Send + Sync + 'static) {
        *self.shared.policy.lock().unwrap() = Arc::new(policy);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Delivery ids that were being received twice at the same moment.
    pub fn overlaps(&self) -> Vec<String> {
        self.shared.overlaps.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received, at most `within`.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            if tokio::time::Instant::now() > deadline {
                let events: Vec<String> = received.iter().map(|r| r.header("x-fieldforge-event").to_owned()).collect();
                panic!("the receiver did not get what was expected within {within:?}; it got {events:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for at least `count` requests.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        self.wait_until(within, |r| r.len() >= count).await
    }
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let received = Received {
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body,
        at: std::time::Instant::now(),
    };
    let id = received.delivery_id();
    {
        let mut in_flight = shared.in_flight.lock().unwrap();
        let count = in_flight.entry(id.clone()).or_default();
        *count += 1;
        if *count > 1 {
            shared.overlaps.lock().unwrap().push(id.clone());
        }
    }
    let reply = (shared.policy.lock().unwrap().clone())(&received);
    shared.received.lock().unwrap().push(received);
    let status = match reply {
        Reply::Status(code) => code,
        Reply::Slow(pause, code) => {
            tokio::time::sleep(pause).await;
            code
        }
    };
    if let Some(count) = shared.in_flight.lock().unwrap().get_mut(&id) {
        *count -= 1;
    }
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
