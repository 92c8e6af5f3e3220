//! GraphQL over websockets, both protocols, written here rather than taken
//! from async-graphql so that the close codes are the contract's:
//! 4403 bad token, 4408 no `connection_init` in 10 s, 4401 subscribe before
//! ack, 4429 second `connection_init`, 4409 reused operation id, 4400 for a
//! malformed message; frames over 64 KiB are refused.
//!
//! The connection re-checks its account every five seconds and closes with
//! 4401 when it was deactivated, changed role or technician profile, or its
//! sessions were ended, and when the token expires (a timer set to `exp`).
//! A client that stops reading (its outgoing buffer stays full) is
//! disconnected with 1008; it can resume by cursor.
//!
//! `graphql-transport-ws` (the graphql-ws library, Apollo) is the default;
//! the legacy `graphql-ws` subprotocol (subscriptions-transport-ws) is chosen
//! by `Sec-WebSocket-Protocol`.

mod close;
mod delivery;
pub mod forward;
mod machine;
mod protocol;
mod writer;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Response;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response as HttpResponse;
use futures_util::StreamExt;
use serde_json::Value as Json;
use serde_json::value::to_raw_value;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use self::close::Close;
use self::forward::Outlet;
use self::machine::{Action, Input, Machine, Operation, Reply};
pub use self::machine::{MAX_OPERATION_ID, MAX_OPERATIONS};
use self::protocol::{ClientMessage, Protocol, ServerMessage};
use self::writer::{Goodbye, write};
use super::shared_subscriptions::{GroupKey, deliveries_of};
use super::{AppState, Authentication, authenticate};
use crate::domain::{DomainError, users};
use crate::entities::connection::RequestConnection;
use crate::graphql::loaders::Loaders;
use crate::graphql::prepare::{prepare, with_codes};
use crate::graphql::{Auth, RequestInfo};

pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const OUTBOX: usize = 256;
/// The account behind a connection is looked up again this often (the
/// contract allows ten seconds for a revocation to close the socket). The
/// token's expiry has a timer of its own.
const CHECK_ACCOUNT_EVERY: Duration = Duration::from_secs(5);

/// `client`: the caller's address (`transport::client_ip`), for the login limiter.
pub fn upgrade(ws: WebSocketUpgrade, state: AppState, client: IpAddr) -> HttpResponse {
    let ws = ws
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        // 128 KiB each by default: 256 MiB for a thousand idle subscribers.
        .read_buffer_size(8 * 1024)
        .write_buffer_size(16 * 1024);
    let protocol = match ws.selected_protocol().and_then(|p| p.to_str().ok()) {
        Some("graphql-ws") => Protocol::Legacy,
        _ => Protocol::Transport,
    };
    ws.on_upgrade(move |socket| Connection::run(socket, state, protocol, client))
}

fn bearer_in(payload: &Json) -> Option<&str> {
    ["authorization", "Authorization"].iter().find_map(|key| payload.get(*key)).and_then(Json::as_str)
}

/// An operation on the `websocket_operations` gauge until dropped (also
/// when its task is aborted).
struct Running(prometheus_client::metrics::gauge::Gauge);

impl Running {
    fn start(gauge: &prometheus_client::metrics::gauge::Gauge) -> Running {
        gauge.inc();
        Running(gauge.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One socket: the state machine's decisions carried out.
struct Connection {
    state: AppState,
    machine: Machine,
    protocol: Protocol,
    client: IpAddr,
    outbox: mpsc::Sender<Message>,
    info: Option<RequestInfo>,
    token_expires_at: Option<i64>,
    operations: HashMap<String, JoinHandle<()>>,
    /// Operation tasks report a client too slow to keep up here.
    too_slow: Arc<Notify>,
}

impl Connection {
    async fn run(socket: WebSocket, state: AppState, protocol: Protocol, client: IpAddr) {
        state.metrics.websocket_connections.inc();
        let metrics = state.metrics.clone();
        let (sink, mut stream) = socket.split();
        let (outbox, outgoing) = mpsc::channel::<Message>(OUTBOX);
        let (closer, close_requests) = tokio::sync::oneshot::channel::<Goodbye>();
        let writer = delivery::spawn(write(sink, outgoing, close_requests));

        let mut shutdown = state.shutdown.clone();
        let too_slow = Arc::new(Notify::new());
        let mut connection = Connection {
            state,
            machine: Machine::new(protocol),
            protocol,
            client,
            outbox,
            info: None,
            token_expires_at: None,
            operations: HashMap::new(),
            too_slow: too_slow.clone(),
        };
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(init_deadline);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.tick().await;
        // Each connection starts at a random point of the account-check cycle:
        // sockets opened together (a burst of reconnects after a restart)
        // then spread their lookups over the whole cycle instead of all
        // waking in the same millisecond of every cycle.
        let first_check = tokio::time::Instant::now() + CHECK_ACCOUNT_EVERY.mul_f64(rand::random::<f64>());
        let mut checks = tokio::time::interval_at(first_check, CHECK_ACCOUNT_EVERY);
        checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Armed once the connection is authenticated.
        let token_expiry = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(token_expiry);
        let mut expiry_armed = false;

        let close = loop {
            let input = tokio::select! {
                _ = &mut init_deadline, if connection.machine.awaiting_init() => Input::InitDeadline,
                _ = shutdown.changed() => break Some(Close::ShuttingDown),
                _ = too_slow.notified() => break Some(Close::TooSlow),
                _ = &mut token_expiry, if expiry_armed => {
                    if connection.token_expired() {
                        break Some(Close::Unauthorized("Unauthorized: token expired"));
                    }
                    // A token valid for more than a day: look again then.
                    if let Some(deadline) = connection.token_expiry() {
                        token_expiry.as_mut().reset(deadline);
                    }
                    continue;
                }
                _ = checks.tick(), if connection.info.is_some() => {
                    match connection.still_authorized().await {
                        Some(close) => break Some(close),
                        None => continue,
                    }
                }
                _ = keep_alive.tick() => Input::KeepAliveDue,
                incoming = stream.next() => match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                    Some(Ok(Message::Text(text))) => Input::Message(ClientMessage::parse(protocol, text.as_str())),
                    Some(Ok(Message::Binary(_))) => Input::Binary,
                    Some(Ok(_)) => continue, // pings are answered by the websocket layer
                },
            };
            if let Some(close) = connection.step(input).await {
                break Some(close);
            }
            if !expiry_armed && let Some(deadline) = connection.token_expiry() {
                token_expiry.as_mut().reset(deadline);
                expiry_armed = true;
            }
        };

        for (_, operation) in connection.operations.drain() {
            operation.abort();
        }
        if let Some(close) = close {
            let frame = CloseFrame { code: close.code(), reason: Utf8Bytes::from_static(close.reason()) };
            let _ = closer.send(Goodbye { frame, flush: close.flushes() });
        } else {
            drop(closer);
        }
        drop(connection);
        metrics.websocket_connections.dec();
        let abort = writer.abort_handle();
        if tokio::time::timeout(Duration::from_secs(10), writer).await.is_err() {
            abort.abort(); // the peer stopped reading: drop the socket
        }
    }

    /// Feeds the machine and carries out what it decides (and what those
    /// actions report back), until it closes the connection or waits.
    async fn step(&mut self, input: Input) -> Option<Close> {
        // Operations that ended on their own free their ids first.
        let finished: Vec<String> =
            self.operations.iter().filter(|(_, task)| task.is_finished()).map(|(id, _)| id.clone()).collect();
        for id in finished {
            self.operations.remove(&id);
            self.machine.step(Input::Finished(id));
        }
        let mut pending = self.machine.step(input);
        while !pending.is_empty() {
            let mut next = Vec::new();
            for action in pending {
                match action {
                    Action::Close(close) => return Some(close),
                    Action::Send(reply) => {
                        if self.send(&reply).is_none() {
                            return Some(Close::TooSlow);
                        }
                    }
                    Action::Authenticate(payload) => {
                        let ok = self.authenticate(payload).await;
                        next.extend(self.machine.step(Input::Authenticated(ok)));
                    }
                    Action::Start { id, request } => self.start(id, request),
                    Action::Stop(id) => {
                        if let Some(task) = self.operations.remove(&id) {
                            task.abort();
                        }
                    }
                }
            }
            pending = next;
        }
        None
    }

    /// Queues a message of the connection's own without waiting: the loop
    /// never blocks on a client that does not read. A full queue means the
    /// client has stopped reading: 1008.
    fn send(&self, reply: &Reply) -> Option<()> {
        let text = match reply {
            Reply::Ack => ServerMessage::Ack.encode(self.protocol),
            Reply::KeepAlive => ServerMessage::KeepAlive.encode(self.protocol),
            Reply::Pong => ServerMessage::Pong.encode(self.protocol),
            Reply::ConnectionError => ServerMessage::ConnectionError.encode(self.protocol),
            Reply::Complete { id } => ServerMessage::Complete { id }.encode(self.protocol),
            Reply::Refused { id, message } => {
                let errors = [serde_json::json!({ "message": message, "extensions": { "code": "BAD_USER_INPUT" } })];
                let payload = to_raw_value(&errors).ok()?;
                ServerMessage::Error { id, payload: &payload }.encode(self.protocol)
            }
        };
        match self.outbox.try_send(Message::Text(text.into())) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => Some(()),
            Err(mpsc::error::TrySendError::Full(_)) => None,
        }
    }

    /// Checks the token of `connection_init` (`{"authorization": "Bearer …"}`,
    /// also accepted under `headers` as some clients send it).
    async fn authenticate(&mut self, payload: Option<Json>) -> bool {
        let authorization =
            payload.as_ref().and_then(|p| bearer_in(p).or_else(|| p.get("headers").and_then(bearer_in)));
        match authenticate(&self.state.services, &RequestConnection::pooled(&self.state.services.db), authorization)
            .await
        {
            Authentication { auth: auth @ Auth::Authenticated(_), expires_at, .. } => {
                self.token_expires_at = expires_at;
                self.info = Some(RequestInfo { auth, client_ip: self.client });
                true
            }
            _ => false,
        }
    }

    /// When to look at the token's expiry next: at its `exp` (now when
    /// that has passed), or in a day when that is further (a timer never
    /// overflows). None when the connection is not authenticated.
    fn token_expiry(&self) -> Option<tokio::time::Instant> {
        let left = self.token_expires_at? - chrono::Utc::now().timestamp();
        let left = u64::try_from(left).unwrap_or(0).min(24 * 60 * 60);
        Some(tokio::time::Instant::now() + Duration::from_secs(left))
    }

    fn token_expired(&self) -> bool {
        self.token_expires_at.is_some_and(|exp| exp <= chrono::Utc::now().timestamp())
    }

    /// Whether the account behind the connection may go on: active, with
    /// the same role and technician profile, its sessions not ended (the
    /// token's expiry has a timer of its own).
    async fn still_authorized(&self) -> Option<Close> {
        let Some(Auth::Authenticated(actor)) = self.info.as_ref().map(|i| &i.auth) else { return None };
        // The whole actor: role, technician profile, and (through the epoch)
        // that the session was not revoked and the account is still active.
        match users::load_actor(&self.state.services.db, actor.user_id, actor.session_epoch).await {
            Ok(now) if now == *actor => None,
            Ok(_) => Some(Close::Unauthorized("Unauthorized: account changed")),
            Err(DomainError::Internal(_)) => None, // database hiccup: try again later
            Err(_) => Some(Close::Unauthorized("Unauthorized: session ended")),
        }
    }

    /// Runs an operation: joins the shared execution of identical live
    /// subscriptions, or executes its own; either way one forwarder sends.
    fn start(&mut self, id: String, Operation(mut request): Operation) {
        let Some(info) = self.info.clone() else { return };
        let prepared =
            prepare(&mut request, &self.state.settings.limits, &self.state.documents).map_err(|refused| refused.error);
        let group = match (&prepared, &info.auth) {
            (Ok(p), Auth::Authenticated(actor)) if p.is_subscription => GroupKey::of(actor, &request, p.resumes),
            _ => None,
        };
        let schema = self.state.schema.clone();
        // Operations on a socket may live long: each statement takes its
        // own pooled connection.
        let connection = RequestConnection::pooled(&self.state.services.db);
        let loaders = Arc::new(Loaders::new(connection, info.auth.actor().cloned()));
        let shared = group.is_some();
        let feed = if let Some(key) = group {
            let start = move || schema.execute_stream(request.data(info).data(loaders)).map(with_codes).boxed();
            self.state.subscriptions.join(key, start).into_feed()
        } else {
            let bus = self.state.services.bus.clone();
            let is_mutation = prepared.as_ref().is_ok_and(|p| p.is_mutation);
            let responses = match prepared {
                Ok(_) => schema.execute_stream(request.data(info).data(loaders)).map(with_codes).boxed(),
                Err(error) => futures_util::stream::once(async move { Response::from_errors(vec![error]) }).boxed(),
            };
            let responses = responses.inspect(move |_| {
                if is_mutation {
                    bus.poke();
                }
            });
            deliveries_of(responses.boxed()).map(Ok).boxed()
        };
        let outlet = Outlet {
            outbox: self.outbox.clone(),
            protocol: self.protocol,
            id: id.clone(),
            too_slow: self.too_slow.clone(),
        };
        let running = Running::start(&self.state.metrics.websocket_operations);
        let forward = async move {
            let _running = running;
            outlet.forward(feed).await;
        };
        // A shared subscription's forwarder only wraps and queues what its
        // group produced; an operation of its own executes in its forwarder,
        // and stays with the requests.
        let task = if shared { delivery::spawn(forward) } else { tokio::spawn(forward) };
        self.operations.insert(id, task);
    }
}
