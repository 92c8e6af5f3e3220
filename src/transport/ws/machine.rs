//! The websocket rules of the contract as a pure state machine: the state
//! of one connection × what happened → what to do. No I/O here; the
//! connection (`mod.rs`) performs the actions and reports back (the token
//! check's outcome, operations that ended on their own).

use std::collections::HashSet;

use serde_json::Value as Json;

use super::close::{Close, INVALID_MESSAGE};
use super::protocol::{ClientMessage, Protocol};

/// Operations running at once on one socket; the next gets an `error`.
pub const MAX_OPERATIONS: usize = 100;
/// Longest operation id accepted (4400 beyond).
pub const MAX_OPERATION_ID: usize = 128;

/// Messages the machine asks to send (payloads it owns).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Ack,
    KeepAlive,
    Pong,
    ConnectionError,
    /// An operation refused before it started, with this message.
    Refused {
        id: String,
        message: String,
    },
    Complete {
        id: String,
    },
}

#[derive(Debug, PartialEq)]
pub enum Action {
    Send(Reply),
    /// Check the `connection_init` payload's token, then call
    /// `Machine::authenticated`.
    Authenticate(Option<Json>),
    /// Run an operation (its payload is a GraphQL request).
    Start {
        id: String,
        request: Operation,
    },
    /// Stop a running operation.
    Stop(String),
    Close(Close),
}

/// A GraphQL request to run, as the client sent it.
pub struct Operation(pub Box<async_graphql::Request>);

impl PartialEq for Operation {
    fn eq(&self, other: &Self) -> bool {
        self.0.query == other.0.query && self.0.operation_name == other.0.operation_name
    }
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Operation").field(&self.0.query).finish()
    }
}

/// Something that happened to the connection.
#[derive(Debug)]
pub enum Input {
    /// A text frame (`None`: not a message of the protocol).
    Message(Option<ClientMessage>),
    Binary,
    /// The outcome of `Action::Authenticate`.
    Authenticated(bool),
    /// `connection_init` did not come in time.
    InitDeadline,
    KeepAliveDue,
    /// An operation ended by itself (completed or failed).
    Finished(String),
}

#[derive(Debug)]
pub struct Machine {
    protocol: Protocol,
    init_seen: bool,
    acknowledged: bool,
    running: HashSet<String>,
}

impl Machine {
    pub fn new(protocol: Protocol) -> Self {
        Machine { protocol, init_seen: false, acknowledged: false, running: HashSet::new() }
    }

    #[cfg(test)]
    pub fn acknowledged(&self) -> bool {
        self.acknowledged
    }

    pub fn awaiting_init(&self) -> bool {
        !self.init_seen
    }

    pub fn step(&mut self, input: Input) -> Vec<Action> {
        match input {
            Input::Message(None) => vec![Action::Close(INVALID_MESSAGE)],
            Input::Message(Some(message)) => self.on_message(message),
            Input::Binary => vec![Action::Close(Close::Invalid("binary frames are not supported"))],
            Input::Authenticated(true) => {
                self.acknowledged = true;
                let mut actions = vec![Action::Send(Reply::Ack)];
                if self.protocol == Protocol::Legacy {
                    actions.push(Action::Send(Reply::KeepAlive));
                }
                actions
            }
            Input::Authenticated(false) => {
                let mut actions = Vec::new();
                if self.protocol == Protocol::Legacy {
                    actions.push(Action::Send(Reply::ConnectionError));
                }
                actions.push(Action::Close(Close::Forbidden));
                actions
            }
            Input::InitDeadline if !self.init_seen => vec![Action::Close(Close::InitTimeout)],
            Input::InitDeadline => Vec::new(),
            Input::KeepAliveDue if self.acknowledged => vec![Action::Send(Reply::KeepAlive)],
            Input::KeepAliveDue => Vec::new(),
            Input::Finished(id) => {
                self.running.remove(&id);
                Vec::new()
            }
        }
    }

    fn on_message(&mut self, message: ClientMessage) -> Vec<Action> {
        match message {
            ClientMessage::Init(_) if self.init_seen => vec![Action::Close(Close::TooManyInits)],
            ClientMessage::Init(payload) => {
                self.init_seen = true;
                vec![Action::Authenticate(payload)]
            }
            ClientMessage::Ping => vec![Action::Send(Reply::Pong)],
            ClientMessage::Pong => Vec::new(),
            ClientMessage::Subscribe { id, payload } => self.on_subscribe(id, payload),
            ClientMessage::Stop { id } => match id {
                Some(id) if self.running.remove(&id) => vec![Action::Stop(id)],
                _ => Vec::new(),
            },
            ClientMessage::Terminate => vec![Action::Close(Close::Terminated)],
        }
    }

    fn on_subscribe(&mut self, id: String, payload: Json) -> Vec<Action> {
        if !self.acknowledged {
            return vec![Action::Close(Close::Unauthorized("Unauthorized"))];
        }
        if id.is_empty() {
            return vec![Action::Close(INVALID_MESSAGE)];
        }
        if id.chars().count() > MAX_OPERATION_ID {
            return vec![Action::Close(Close::Invalid("Operation id too long"))];
        }
        let Ok(request) = serde_json::from_value::<async_graphql::Request>(payload) else {
            return vec![Action::Close(INVALID_MESSAGE)];
        };
        if self.running.contains(&id) {
            return vec![Action::Close(Close::DuplicateId)];
        }
        if self.running.len() >= MAX_OPERATIONS {
            let message = format!("at most {MAX_OPERATIONS} operations at once on one connection");
            let mut actions = vec![Action::Send(Reply::Refused { id: id.clone(), message })];
            if self.protocol == Protocol::Legacy {
                actions.push(Action::Send(Reply::Complete { id }));
            }
            return actions;
        }
        self.running.insert(id.clone());
        vec![Action::Start { id, request: Operation(Box::new(request)) }]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn text(protocol: Protocol, message: Json) -> Input {
        Input::Message(ClientMessage::parse(protocol, &message.to_string()))
    }

    fn ready(protocol: Protocol) -> Machine {
        let mut machine = Machine::new(protocol);
        machine.step(text(protocol, json!({ "type": "connection_init", "payload": {} })));
        machine.step(Input::Authenticated(true));
        machine
    }

    fn subscribe(id: &str) -> Input {
        text(
            Protocol::Transport,
            json!({ "type": "subscribe", "id": id, "payload": { "query": "subscription { jobChanged { cursor } }" } }),
        )
    }

    fn closes(actions: &[Action]) -> Option<u16> {
        actions.iter().find_map(|a| match a {
            Action::Close(close) => Some(close.code()),
            _ => None,
        })
    }

    #[test]
    fn init_asks_for_the_token_check_and_acks_a_good_one() {
        let mut machine = Machine::new(Protocol::Transport);
        let actions = machine.step(text(
            Protocol::Transport,
            json!({ "type": "connection_init", "payload": { "authorization": "Bearer x" } }),
        ));
        assert_eq!(actions, vec![Action::Authenticate(Some(json!({ "authorization": "Bearer x" })))]);
        assert_eq!(machine.step(Input::Authenticated(true)), vec![Action::Send(Reply::Ack)]);
        assert!(machine.acknowledged());
    }

    #[test]
    fn a_bad_token_closes_with_4403_and_legacy_clients_hear_why_first() {
        let mut machine = Machine::new(Protocol::Transport);
        machine.step(text(Protocol::Transport, json!({ "type": "connection_init" })));
        assert_eq!(machine.step(Input::Authenticated(false)), vec![Action::Close(Close::Forbidden)]);
        let mut legacy = Machine::new(Protocol::Legacy);
        legacy.step(text(Protocol::Legacy, json!({ "type": "connection_init" })));
        assert_eq!(
            legacy.step(Input::Authenticated(false)),
            vec![Action::Send(Reply::ConnectionError), Action::Close(Close::Forbidden)]
        );
        assert_eq!(Close::Forbidden.code(), 4403);
    }

    #[test]
    fn no_init_in_time_closes_with_4408_but_not_after_init() {
        let mut machine = Machine::new(Protocol::Transport);
        assert_eq!(closes(&machine.step(Input::InitDeadline)), Some(4408));
        let mut machine = ready(Protocol::Transport);
        assert_eq!(machine.step(Input::InitDeadline), vec![]);
    }

    #[test]
    fn a_second_init_closes_with_4429() {
        let mut machine = ready(Protocol::Transport);
        let again = machine.step(text(Protocol::Transport, json!({ "type": "connection_init" })));
        assert_eq!(closes(&again), Some(4429));
    }

    #[test]
    fn subscribe_before_ack_closes_with_4401() {
        let mut machine = Machine::new(Protocol::Transport);
        assert_eq!(closes(&machine.step(subscribe("1"))), Some(4401));
        // Also while the token check is still running.
        machine.step(text(Protocol::Transport, json!({ "type": "connection_init" })));
        assert_eq!(closes(&machine.step(subscribe("1"))), Some(4401));
    }

    #[test]
    fn a_running_id_reused_closes_with_4409_a_finished_one_may_be_reused() {
        let mut machine = ready(Protocol::Transport);
        assert!(matches!(machine.step(subscribe("1")).as_slice(), [Action::Start { .. }]));
        assert_eq!(closes(&machine.step(subscribe("1"))), Some(4409));
        let mut machine = ready(Protocol::Transport);
        machine.step(subscribe("1"));
        machine.step(Input::Finished("1".into()));
        assert!(matches!(machine.step(subscribe("1")).as_slice(), [Action::Start { .. }]));
    }

    #[test]
    fn malformed_messages_close_with_4400() {
        let mut machine = ready(Protocol::Transport);
        assert_eq!(closes(&machine.step(Input::Message(None))), Some(4400));
        let mut machine = ready(Protocol::Transport);
        assert_eq!(closes(&machine.step(Input::Binary)), Some(4400));
        for bad in [
            json!({ "type": "subscribe", "id": "", "payload": { "query": "{ me { id } }" } }),
            json!({ "type": "subscribe", "id": "x".repeat(MAX_OPERATION_ID + 1), "payload": { "query": "{ me { id } }" } }),
            json!({ "type": "subscribe", "id": "1", "payload": { "query": 5 } }),
        ] {
            let mut machine = ready(Protocol::Transport);
            assert_eq!(closes(&machine.step(text(Protocol::Transport, bad.clone()))), Some(4400), "{bad}");
        }
    }

    #[test]
    fn operations_past_the_cap_are_refused_and_the_socket_stays() {
        let mut machine = ready(Protocol::Legacy);
        for n in 0..MAX_OPERATIONS {
            let start = json!({ "type": "start", "id": n.to_string(), "payload": { "query": "subscription { jobChanged { cursor } }" } });
            assert!(matches!(machine.step(text(Protocol::Legacy, start)).as_slice(), [Action::Start { .. }]));
        }
        let one_more =
            json!({ "type": "start", "id": "extra", "payload": { "query": "subscription { jobChanged { cursor } }" } });
        let actions = machine.step(text(Protocol::Legacy, one_more));
        assert!(matches!(&actions[0], Action::Send(Reply::Refused { id, .. }) if id == "extra"));
        assert_eq!(
            actions[1],
            Action::Send(Reply::Complete { id: "extra".into() }),
            "legacy clients also get complete"
        );
        assert_eq!(closes(&actions), None);
    }

    #[test]
    fn stop_ends_only_a_running_operation() {
        let mut machine = ready(Protocol::Transport);
        machine.step(subscribe("1"));
        let stop = text(Protocol::Transport, json!({ "type": "complete", "id": "1" }));
        assert_eq!(machine.step(stop), vec![Action::Stop("1".into())]);
        let again = text(Protocol::Transport, json!({ "type": "complete", "id": "1" }));
        assert_eq!(machine.step(again), vec![]);
    }

    #[test]
    fn pings_are_answered_and_keep_alives_start_after_ack() {
        let mut machine = Machine::new(Protocol::Transport);
        assert_eq!(machine.step(Input::KeepAliveDue), vec![]);
        let mut machine = ready(Protocol::Transport);
        assert_eq!(machine.step(text(Protocol::Transport, json!({ "type": "ping" }))), vec![Action::Send(Reply::Pong)]);
        assert_eq!(machine.step(Input::KeepAliveDue), vec![Action::Send(Reply::KeepAlive)]);
    }

    #[test]
    fn legacy_terminate_closes_normally() {
        let mut machine = ready(Protocol::Legacy);
        let actions = machine.step(text(Protocol::Legacy, json!({ "type": "connection_terminate" })));
        assert_eq!(closes(&actions), Some(1000));
    }
}
