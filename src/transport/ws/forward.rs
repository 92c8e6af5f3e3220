//! The one forwarder: an operation's deliveries (its own execution, or a
//! shared group's) wrapped in this operation's envelope and queued.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Message;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::{Notify, mpsc};

use super::protocol::{Protocol, ServerMessage};
use crate::transport::shared_subscriptions::Delivery;

/// How long a full outgoing buffer is tolerated before the client is dropped.
const SLOW_CLIENT: Duration = Duration::from_secs(5);

/// A delivery, or word that this member fell too far behind.
pub type Feed = BoxStream<'static, Result<Arc<Delivery>, Behind>>;

#[derive(Debug)]
pub struct Behind;

/// Where an operation's messages go.
pub struct Outlet {
    pub outbox: mpsc::Sender<Message>,
    pub protocol: Protocol,
    pub id: String,
    /// Told when the client reads too slowly: the connection closes (1008).
    pub too_slow: Arc<Notify>,
}

impl Outlet {
    /// Queues one message; false when the operation should stop (the client
    /// is gone, or too slow: then the connection is told to close).
    async fn deliver(&self, message: ServerMessage<'_>) -> bool {
        let text = Message::Text(message.encode(self.protocol).into());
        match self.outbox.send_timeout(text, SLOW_CLIENT).await {
            Ok(()) => true,
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                self.too_slow.notify_one();
                false
            }
            Err(mpsc::error::SendTimeoutError::Closed(_)) => false,
        }
    }

    /// Sends every delivery until the operation ends, then `complete`
    /// (after a refusal, only the legacy protocol expects one).
    pub async fn forward(self, mut feed: Feed) {
        let id = self.id.as_str();
        while let Some(delivery) = feed.next().await {
            let Ok(delivery) = delivery else {
                self.too_slow.notify_one();
                return;
            };
            match &*delivery {
                Delivery::Next(payload) => {
                    if !self.deliver(ServerMessage::Next { id, payload }).await {
                        return;
                    }
                }
                Delivery::Failed(errors) => {
                    if self.deliver(ServerMessage::Error { id, payload: errors }).await
                        && self.protocol == Protocol::Legacy
                    {
                        self.deliver(ServerMessage::Complete { id }).await;
                    }
                    return;
                }
                Delivery::Complete => break,
            }
        }
        self.deliver(ServerMessage::Complete { id }).await;
    }
}
