//! The two wire protocols as typed messages: what a client may send
//! (serde-tagged enums, one per protocol, read into one `ClientMessage`) and
//! what the server sends (`ServerMessage`, written in the protocol's words).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use serde_json::value::RawValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// graphql-transport-ws (the graphql-ws library, Apollo)
    Transport,
    /// subscriptions-transport-ws, subprotocol "graphql-ws"
    Legacy,
}

/// graphql-transport-ws, client to server.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum TransportMessage {
    ConnectionInit { payload: Option<Json> },
    Ping {},
    Pong {},
    Subscribe { id: String, payload: Json },
    Complete { id: Option<String> },
}

/// subscriptions-transport-ws, client to server.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum LegacyMessage {
    ConnectionInit { payload: Option<Json> },
    Start { id: String, payload: Json },
    Stop { id: Option<String> },
    ConnectionTerminate {},
}

/// What a client asked for, whichever protocol it speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Init(Option<Json>),
    Ping,
    Pong,
    Subscribe { id: String, payload: Json },
    Stop { id: Option<String> },
    Terminate,
}

impl ClientMessage {
    /// None: not a message of this protocol.
    pub fn parse(protocol: Protocol, text: &str) -> Option<ClientMessage> {
        Some(match protocol {
            Protocol::Transport => match serde_json::from_str(text).ok()? {
                TransportMessage::ConnectionInit { payload } => ClientMessage::Init(payload),
                TransportMessage::Ping {} => ClientMessage::Ping,
                TransportMessage::Pong {} => ClientMessage::Pong,
                TransportMessage::Subscribe { id, payload } => ClientMessage::Subscribe { id, payload },
                TransportMessage::Complete { id } => ClientMessage::Stop { id },
            },
            Protocol::Legacy => match serde_json::from_str(text).ok()? {
                LegacyMessage::ConnectionInit { payload } => ClientMessage::Init(payload),
                LegacyMessage::Start { id, payload } => ClientMessage::Subscribe { id, payload },
                LegacyMessage::Stop { id } => ClientMessage::Stop { id },
                LegacyMessage::ConnectionTerminate {} => ClientMessage::Terminate,
            },
        })
    }
}

/// What the server sends. Payloads are serialised once, before.
#[derive(Debug, Clone)]
pub enum ServerMessage<'a> {
    Ack,
    /// graphql-transport-ws `ping` / legacy `ka`.
    KeepAlive,
    Pong,
    /// The legacy protocol's refusal of `connection_init`.
    ConnectionError,
    /// One result (`next` / `data`).
    Next {
        id: &'a str,
        payload: &'a RawValue,
    },
    /// The operation was refused (its errors); nothing follows.
    Error {
        id: &'a str,
        payload: &'a RawValue,
    },
    Complete {
        id: &'a str,
    },
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<&'a RawValue>,
}

impl ServerMessage<'_> {
    pub fn encode(&self, protocol: Protocol) -> String {
        let legacy = protocol == Protocol::Legacy;
        let (kind, id, payload) = match self {
            ServerMessage::Ack => ("connection_ack", None, None),
            ServerMessage::KeepAlive => (if legacy { "ka" } else { "ping" }, None, None),
            ServerMessage::Pong => ("pong", None, None),
            ServerMessage::ConnectionError => {
                return r#"{"type":"connection_error","payload":{"message":"Forbidden"}}"#.to_owned();
            }
            ServerMessage::Next { id, payload } => (if legacy { "data" } else { "next" }, Some(*id), Some(*payload)),
            ServerMessage::Error { id, payload } => ("error", Some(*id), Some(*payload)),
            ServerMessage::Complete { id } => ("complete", Some(*id), None),
        };
        serde_json::to_string(&Envelope { kind, id, payload }).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_protocol_reads_its_own_words_only() {
        let start = r#"{"type":"start","id":"1","payload":{"query":"subscription { jobChanged { cursor } }"}}"#;
        assert!(matches!(ClientMessage::parse(Protocol::Legacy, start), Some(ClientMessage::Subscribe { .. })));
        assert_eq!(ClientMessage::parse(Protocol::Transport, start), None);
        let subscribe = r#"{"type":"subscribe","id":"1","payload":{"query":"{ me { id } }"}}"#;
        assert!(matches!(ClientMessage::parse(Protocol::Transport, subscribe), Some(ClientMessage::Subscribe { .. })));
        assert_eq!(ClientMessage::parse(Protocol::Legacy, subscribe), None);
        assert_eq!(ClientMessage::parse(Protocol::Transport, r#"{"type":"ping"}"#), Some(ClientMessage::Ping));
        assert_eq!(ClientMessage::parse(Protocol::Legacy, r#"{"type":"ping"}"#), None);
        assert_eq!(
            ClientMessage::parse(Protocol::Legacy, r#"{"type":"connection_terminate"}"#),
            Some(ClientMessage::Terminate)
        );
    }

    #[test]
    fn malformed_messages_are_refused() {
        for text in [
            "",
            "null",
            "[]",
            r#"{"type":"subscribe","payload":{}}"#,
            r#"{"type":"subscribe","id":7,"payload":{}}"#,
            r#"{"type":"bogus"}"#,
        ] {
            assert_eq!(ClientMessage::parse(Protocol::Transport, text), None, "{text}");
        }
        assert_eq!(
            ClientMessage::parse(Protocol::Transport, r#"{"type":"complete"}"#),
            Some(ClientMessage::Stop { id: None }),
            "a complete without id stops nothing"
        );
    }

    #[test]
    fn results_are_worded_per_protocol() {
        let payload = RawValue::from_string(r#"{"data":{"x":1}}"#.to_owned()).unwrap();
        let next = ServerMessage::Next { id: "7", payload: &payload };
        let sent: Json = serde_json::from_str(&next.encode(Protocol::Transport)).unwrap();
        assert_eq!(sent, json!({ "type": "next", "id": "7", "payload": { "data": { "x": 1 } } }));
        let sent: Json = serde_json::from_str(&next.encode(Protocol::Legacy)).unwrap();
        assert_eq!(sent["type"], "data");
        assert_eq!(ServerMessage::KeepAlive.encode(Protocol::Legacy), r#"{"type":"ka"}"#);
        assert_eq!(ServerMessage::KeepAlive.encode(Protocol::Transport), r#"{"type":"ping"}"#);
        assert_eq!(ServerMessage::Complete { id: "7" }.encode(Protocol::Legacy), r#"{"type":"complete","id":"7"}"#);
    }
}
