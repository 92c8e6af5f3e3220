//! GraphQL over websockets, both protocols, written here rather than taken
//! from async-graphql so that the close codes are the contract's:
//! 4403 bad token, 4408 no `connection_init` in 10 s, 4401 subscribe before
//! ack, 4429 second `connection_init`, 4409 reused operation id, 4400 for a
//! malformed message; frames over 64 KiB are refused.
//!
//! The connection re-checks its account every few seconds and closes with
//! 4401 when it was deactivated, changed role or technician profile, or its
//! sessions were ended, and when the token expires. A client that stops
//! reading (its outgoing buffer stays full) is disconnected with 1008; it can
//! resume by cursor.
//!
//! `graphql-transport-ws` (the graphql-ws library, Apollo) is the default;
//! the legacy `graphql-ws` subprotocol (subscriptions-transport-ws) is chosen
//! by `Sec-WebSocket-Protocol`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Request, Response, Value};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response as HttpResponse;
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::shared_subscriptions::{Delivery, GroupKey, Membership};
use super::{AppState, Authentication, authenticate};
use crate::domain::users;
use crate::graphql::loaders::Loaders;
use crate::graphql::prepare::{prepare, with_codes};
use crate::graphql::{Auth, RequestInfo};

pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const OUTBOX: usize = 256;
/// Token expiry is checked every second, the account every fifth.
const CHECK_EVERY: Duration = Duration::from_secs(1);
const REVALIDATE_EVERY_N_CHECKS: u32 = 5;
/// How long a full outgoing buffer is tolerated before the client is dropped.
const SLOW_CLIENT: Duration = Duration::from_secs(5);
/// Operations running at once on one socket; the next gets an `error`.
pub const MAX_OPERATIONS: usize = 100;
/// Longest operation id accepted (4400 beyond).
pub const MAX_OPERATION_ID: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// graphql-transport-ws
    Transport,
    /// subscriptions-transport-ws, subprotocol "graphql-ws"
    Legacy,
}

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

/// How the connection ends: a close frame, after the queued messages or not.
struct Goodbye {
    frame: CloseFrame,
    flush: bool,
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Sends queued messages; on a goodbye, sends the close frame (giving a
/// reader that has stopped five seconds to take it).
async fn write(
    mut sink: Sink,
    mut outgoing: mpsc::Receiver<Message>,
    mut goodbye: tokio::sync::oneshot::Receiver<Goodbye>,
) {
    let farewell = loop {
        tokio::select! {
            biased;
            farewell = &mut goodbye => break farewell.ok(),
            message = outgoing.recv() => {
                // Every sender gone: the connection is over; a goodbye may follow.
                let Some(message) = message else { break (&mut goodbye).await.ok() };
                // Everything already queued goes out with one flush (bursts of
                // events cost one write, not one per message).
                let mut batch = vec![message];
                while batch.len() < 64 {
                    match outgoing.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                let send_all = async {
                    for message in batch {
                        sink.feed(message).await?;
                    }
                    sink.flush().await
                };
                tokio::select! {
                    sent = send_all => if sent.is_err() { return },
                    farewell = &mut goodbye => break farewell.ok(),
                }
            }
        }
    };
    if let Some(Goodbye { frame, flush }) = farewell {
        if flush {
            let drain = async {
                while let Ok(message) = outgoing.try_recv() {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), sink.send(Message::Close(Some(frame)))).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

fn bearer_in(payload: &Json) -> Option<&str> {
    ["authorization", "Authorization"].iter().find_map(|key| payload.get(*key)).and_then(Json::as_str)
}

/// `{"type": …, "id": …, "payload": …}` as text.
/// Sends one message; false when the operation should stop (the client is
/// gone, or too slow: then the connection is told to close).
async fn deliver(outbox: &mpsc::Sender<Message>, message: String, too_slow: &tokio::sync::Notify) -> bool {
    match outbox.send_timeout(Message::Text(message.into()), SLOW_CLIENT).await {
        Ok(()) => true,
        Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
            too_slow.notify_one();
            false
        }
        Err(mpsc::error::SendTimeoutError::Closed(_)) => false,
    }
}

async fn complete(outbox: &mpsc::Sender<Message>, id: &str) {
    let done = json!({ "type": "complete", "id": id });
    let _ = outbox.send_timeout(Message::Text(done.to_string().into()), SLOW_CLIENT).await;
}

/// After an `error` message: the legacy protocol also expects `complete`.
async fn finish_refused(outbox: &mpsc::Sender<Message>, protocol: Protocol, id: &str) {
    if protocol == Protocol::Legacy {
        complete(outbox, id).await;
    }
}

/// A member of a shared subscription: the group's payloads in this
/// operation's envelope.
async fn forward_shared(
    mut membership: Membership,
    outbox: mpsc::Sender<Message>,
    protocol: Protocol,
    id: String,
    too_slow: Arc<tokio::sync::Notify>,
) {
    let next = match protocol {
        Protocol::Transport => "next",
        Protocol::Legacy => "data",
    };
    loop {
        let delivery = match membership.deliveries.recv().await {
            Ok(delivery) => delivery,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                too_slow.notify_one();
                return;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        match &*delivery {
            Delivery::Next(payload) => {
                if !deliver(&outbox, envelope(next, &id, payload), &too_slow).await {
                    return;
                }
            }
            Delivery::Failed(errors) => {
                if deliver(&outbox, envelope("error", &id, errors), &too_slow).await {
                    finish_refused(&outbox, protocol, &id).await;
                }
                return;
            }
            Delivery::Complete => break,
        }
    }
    complete(&outbox, &id).await;
}

fn envelope(kind: &str, id: &str, payload: &impl serde::Serialize) -> String {
    #[derive(serde::Serialize)]
    struct Envelope<'a, P> {
        #[serde(rename = "type")]
        kind: &'a str,
        id: &'a str,
        payload: &'a P,
    }
    serde_json::to_string(&Envelope { kind, id, payload }).unwrap_or_default()
}

#[derive(Deserialize)]
struct ClientMessage {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    payload: Option<Json>,
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

enum Outcome {
    Continue,
    Close(u16, &'static str),
}

struct Connection {
    state: AppState,
    protocol: Protocol,
    client: IpAddr,
    outbox: mpsc::Sender<Message>,
    init_seen: bool,
    info: Option<RequestInfo>,
    token_expires_at: Option<i64>,
    operations: HashMap<String, JoinHandle<()>>,
    /// Operation tasks report a client too slow to keep up here.
    too_slow: Arc<tokio::sync::Notify>,
}

impl Connection {
    async fn run(socket: WebSocket, state: AppState, protocol: Protocol, client: IpAddr) {
        state.metrics.websocket_connections.inc();
        let metrics = state.metrics.clone();
        let (sink, mut stream) = socket.split();
        let (outbox, outgoing) = mpsc::channel::<Message>(OUTBOX);
        let (closer, close_requests) = tokio::sync::oneshot::channel::<Goodbye>();
        let writer = tokio::spawn(write(sink, outgoing, close_requests));

        let mut shutdown = state.shutdown.clone();
        let too_slow = Arc::new(tokio::sync::Notify::new());
        let mut connection = Connection {
            state,
            protocol,
            client,
            outbox,
            init_seen: false,
            info: None,
            token_expires_at: None,
            operations: HashMap::new(),
            too_slow: too_slow.clone(),
        };
        let init_deadline = tokio::time::sleep(INIT_TIMEOUT);
        tokio::pin!(init_deadline);
        let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
        keep_alive.tick().await;
        let mut checks = tokio::time::interval(CHECK_EVERY);
        checks.tick().await;
        // Each connection starts at a random point of the account-check cycle:
        // sockets opened together (a burst of reconnects after a restart)
        // then spread their account lookups over the whole cycle.
        let mut check_count: u32 = rand::random_range(0..REVALIDATE_EVERY_N_CHECKS);

        let close = loop {
            tokio::select! {
                _ = &mut init_deadline, if !connection.init_seen => {
                    break Some((4408, "Connection initialisation timeout"));
                }
                _ = shutdown.changed() => break Some((1001, "server shutting down")),
                _ = too_slow.notified() => break Some((1008, "client too slow; resume by cursor")),
                _ = checks.tick(), if connection.info.is_some() => {
                    check_count += 1;
                    let with_account = check_count.is_multiple_of(REVALIDATE_EVERY_N_CHECKS);
                    if let Some(close) = connection.still_authorized(with_account).await {
                        break Some(close);
                    }
                }
                _ = keep_alive.tick(), if connection.info.is_some() => {
                    let ping = match connection.protocol {
                        Protocol::Transport => json!({ "type": "ping" }),
                        Protocol::Legacy => json!({ "type": "ka" }),
                    };
                    if let Outcome::Close(code, reason) = connection.send(ping) {
                        break Some((code, reason));
                    }
                }
                incoming = stream.next() => match incoming {
                    None | Some(Err(_)) => break None,
                    Some(Ok(Message::Text(text))) => match connection.handle(text.as_str()).await {
                        Outcome::Continue => {}
                        Outcome::Close(code, reason) => break Some((code, reason)),
                    },
                    Some(Ok(Message::Binary(_))) => break Some((4400, "binary frames are not supported")),
                    Some(Ok(Message::Close(_))) => break None,
                    Some(Ok(_)) => {} // pings are answered by the websocket layer
                },
            }
        };

        for (_, operation) in connection.operations.drain() {
            operation.abort();
        }
        if let Some((code, reason)) = close {
            // A client too slow to read gets its close frame ahead of the backlog.
            let flush = code != 1008;
            let _ = closer.send(Goodbye { frame: CloseFrame { code, reason: Utf8Bytes::from_static(reason) }, flush });
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

    /// Whether the account behind the connection may go on: the token has
    /// not expired and the account is active with the same role.
    async fn still_authorized(&self, with_account: bool) -> Option<(u16, &'static str)> {
        if self.token_expires_at.is_some_and(|exp| exp <= chrono::Utc::now().timestamp()) {
            return Some((4401, "Unauthorized: token expired"));
        }
        if !with_account {
            return None;
        }
        let Some(Auth::Authenticated(actor)) = self.info.as_ref().map(|i| &i.auth) else { return None };
        // The whole actor: role, technician profile, and (through the epoch)
        // that the session was not revoked and the account is still active.
        match users::load_actor(&self.state.services.db, actor.user_id, actor.session_epoch).await {
            Ok(now) if now == *actor => None,
            Ok(_) => Some((4401, "Unauthorized: account changed")),
            Err(crate::domain::DomainError::Internal(_)) => None, // database hiccup: try again later
            Err(_) => Some((4401, "Unauthorized: session ended")),
        }
    }

    /// Queues a message of the connection's own (ack, pong, keep-alive)
    /// without waiting: the loop never blocks on a client that does not
    /// read. A full queue means the client has stopped reading: 1008.
    fn send(&self, message: Json) -> Outcome {
        match self.outbox.try_send(Message::Text(message.to_string().into())) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => Outcome::Continue,
            Err(mpsc::error::TrySendError::Full(_)) => Outcome::Close(1008, "client too slow; resume by cursor"),
        }
    }

    async fn handle(&mut self, text: &str) -> Outcome {
        let Ok(message) = serde_json::from_str::<ClientMessage>(text) else {
            return Outcome::Close(4400, "Invalid message received");
        };
        match (self.protocol, message.kind.as_str()) {
            (_, "connection_init") => self.init(message.payload).await,
            (Protocol::Transport, "ping") => self.send(json!({ "type": "pong" })),
            (Protocol::Transport, "pong") => Outcome::Continue,
            (Protocol::Transport, "subscribe") | (Protocol::Legacy, "start") => {
                self.subscribe(message.id, message.payload).await
            }
            (Protocol::Transport, "complete") | (Protocol::Legacy, "stop") => {
                if let Some(operation) = message.id.and_then(|id| self.operations.remove(&id)) {
                    operation.abort();
                }
                Outcome::Continue
            }
            (Protocol::Legacy, "connection_terminate") => Outcome::Close(1000, "terminated"),
            _ => Outcome::Close(4400, "Invalid message received"),
        }
    }

    async fn init(&mut self, payload: Option<Json>) -> Outcome {
        if self.init_seen {
            return Outcome::Close(4429, "Too many initialisation requests");
        }
        self.init_seen = true;
        // `{"authorization": "Bearer …"}`, also accepted under `headers` as some clients send it.
        let authorization =
            payload.as_ref().and_then(|p| bearer_in(p).or_else(|| p.get("headers").and_then(bearer_in)));
        match authenticate(&self.state.services, authorization).await {
            Authentication { auth: auth @ Auth::Authenticated(_), expires_at, .. } => {
                self.token_expires_at = expires_at;
                self.info = Some(RequestInfo { auth, client_ip: self.client });
                match self.send(json!({ "type": "connection_ack" })) {
                    Outcome::Continue if self.protocol == Protocol::Legacy => self.send(json!({ "type": "ka" })),
                    outcome => outcome,
                }
            }
            _ => {
                if self.protocol == Protocol::Legacy {
                    let _ = self.send(json!({ "type": "connection_error", "payload": { "message": "Forbidden" } }));
                }
                Outcome::Close(4403, "Forbidden")
            }
        }
    }

    async fn subscribe(&mut self, id: Option<String>, payload: Option<Json>) -> Outcome {
        let Some(info) = self.info.clone() else {
            return Outcome::Close(4401, "Unauthorized");
        };
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            return Outcome::Close(4400, "Invalid message received");
        };
        if id.chars().count() > MAX_OPERATION_ID {
            return Outcome::Close(4400, "Operation id too long");
        }
        let Some(mut request) = payload.and_then(|p| serde_json::from_value::<Request>(p).ok()) else {
            return Outcome::Close(4400, "Invalid message received");
        };
        if self.operations.get(&id).is_some_and(|op| !op.is_finished()) {
            return Outcome::Close(4409, "Subscriber for this id already exists");
        }
        // Finished operations leave the map; what is left is running.
        self.operations.retain(|_, operation| !operation.is_finished());
        if self.operations.len() >= MAX_OPERATIONS {
            let errors = [json!({
                "message": format!("at most {MAX_OPERATIONS} operations at once on one connection"),
                "extensions": { "code": "BAD_USER_INPUT" },
            })];
            let refused = self.outbox.try_send(Message::Text(envelope("error", &id, &errors).into()));
            if matches!(refused, Err(mpsc::error::TrySendError::Full(_))) {
                return Outcome::Close(1008, "client too slow; resume by cursor");
            }
            if self.protocol == Protocol::Legacy {
                let done = json!({ "type": "complete", "id": id });
                let _ = self.send(done);
            }
            return Outcome::Continue;
        }
        let prepared = prepare(&mut request, &self.state.settings.limits).map_err(|refused| refused.error);
        let outbox = self.outbox.clone();
        let protocol = self.protocol;
        let operation_id = id.clone();
        let too_slow = self.too_slow.clone();
        let group = match (&prepared, &info.auth) {
            (Ok(p), Auth::Authenticated(actor)) if p.is_subscription => GroupKey::of(actor, &request),
            _ => None,
        };
        let operation = if let Some(key) = group {
            let schema = self.state.schema.clone();
            let loaders = Arc::new(Loaders::new(&self.state.services.db));
            let membership = self
                .state
                .subscriptions
                .join(key, move || schema.execute_stream(request.data(info).data(loaders)).map(with_codes).boxed());
            forward_shared(membership, outbox, protocol, operation_id, too_slow).boxed()
        } else {
            let bus = self.state.services.bus.clone();
            let schema = self.state.schema.clone();
            let loaders = Arc::new(Loaders::new(&self.state.services.db));
            async move {
                let (next, error) = match protocol {
                    Protocol::Transport => ("next", "error"),
                    Protocol::Legacy => ("data", "error"),
                };
                let is_mutation = prepared.as_ref().is_ok_and(|p| p.is_mutation);
                let mut responses = match prepared {
                    Ok(_) => schema.execute_stream(request.data(info).data(loaders)).map(with_codes).boxed(),
                    Err(error) => futures_util::stream::once(async move { Response::from_errors(vec![error]) }).boxed(),
                };
                let mut first = true;
                while let Some(response) = responses.next().await {
                    if is_mutation {
                        bus.poke();
                    }
                    let failed_outright = first && response.data == Value::Null && !response.errors.is_empty();
                    first = false;
                    // Serialised straight from the response: no intermediate JSON tree.
                    let message = if failed_outright {
                        envelope(error, &operation_id, &response.errors)
                    } else {
                        envelope(next, &operation_id, &response)
                    };
                    if !deliver(&outbox, message, &too_slow).await {
                        return;
                    }
                    if failed_outright {
                        finish_refused(&outbox, protocol, &operation_id).await;
                        return;
                    }
                }
                complete(&outbox, &operation_id).await;
            }
            .boxed()
        };
        let running = Running::start(&self.state.metrics.websocket_operations);
        let task = tokio::spawn(async move {
            let _running = running;
            operation.await
        });
        self.operations.insert(id, task);
        Outcome::Continue
    }
}
