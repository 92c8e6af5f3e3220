//! A minimal websocket GraphQL client for tests.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

#[derive(Debug, PartialEq)]
pub enum Received {
    Json(Value),
    Closed(Option<u16>),
    Timeout,
}

impl WsClient {
    /// Connects with the given subprotocol ("graphql-transport-ws" or "graphql-ws").
    pub async fn connect(url: &str, protocol: &str) -> WsClient {
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_str(protocol).unwrap());
        let (stream, response) = tokio_tungstenite::connect_async(request).await.expect("websocket connects");
        assert_eq!(
            response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()),
            Some(protocol),
            "server chose the subprotocol"
        );
        WsClient { stream }
    }

    pub async fn send(&mut self, message: Value) {
        self.stream.send(Message::Text(message.to_string().into())).await.expect("send");
    }

    pub async fn send_raw(&mut self, message: Message) {
        let _ = self.stream.send(message).await;
    }

    /// The next JSON message or close, skipping pings and keep-alives.
    pub async fn recv(&mut self, wait: Duration) -> Received {
        loop {
            match tokio::time::timeout(wait, self.stream.next()).await {
                Err(_) => return Received::Timeout,
                Ok(None) | Ok(Some(Err(_))) => return Received::Closed(None),
                Ok(Some(Ok(Message::Text(text)))) => {
                    let value: Value = serde_json::from_str(text.as_str()).expect("JSON message");
                    if matches!(value["type"].as_str(), Some("ka") | Some("ping")) {
                        continue;
                    }
                    return Received::Json(value);
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Received::Closed(frame.map(|f| u16::from(f.code)));
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    pub async fn recv_json(&mut self) -> Value {
        match self.recv(Duration::from_secs(10)).await {
            Received::Json(value) => value,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    pub async fn expect_close(&mut self, wait: Duration) -> Option<u16> {
        loop {
            match self.recv(wait).await {
                Received::Closed(code) => return code,
                Received::Json(_) => continue,
                Received::Timeout => panic!("expected the server to close the socket"),
            }
        }
    }

    /// graphql-transport-ws handshake with a bearer token.
    pub async fn init(&mut self, token: &str) -> Value {
        self.send(
            serde_json::json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
        )
        .await;
        self.recv_json().await
    }
}

impl WsClient {
    /// Connects with graphql-transport-ws and completes the handshake.
    pub async fn ready(url: &str, token: &str) -> WsClient {
        let mut client = WsClient::connect(url, "graphql-transport-ws").await;
        let ack = client.init(token).await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        client
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(
            serde_json::json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
        )
        .await;
    }

    /// The `data` of the next `next` message (panics on anything else).
    pub async fn next_data(&mut self) -> Value {
        let message = self.recv_json().await;
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"]["errors"].is_null(), "{message}");
        message["payload"]["data"].clone()
    }

    /// Nothing arrives within `wait`.
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        matches!(self.recv(wait).await, Received::Timeout)
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
