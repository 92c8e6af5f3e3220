//! The socket's writing half: sends what the connection queues, in
//! batches, and the close frame at the end.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use tokio::sync::mpsc;

/// How the connection ends: a close frame, after the queued messages or not.
pub struct Goodbye {
    pub frame: CloseFrame,
    pub flush: bool,
}

pub type Sink = futures_util::stream::SplitSink<WebSocket, Message>;

/// Sends queued messages; on a goodbye, sends the close frame (giving a
/// reader that has stopped five seconds to take it).
pub async fn write(
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
