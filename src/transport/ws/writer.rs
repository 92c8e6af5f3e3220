//! The socket's writing half: sends what the connection queues, in
//! batches, and the close frame at the end.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt};
use tokio::sync::mpsc;

/// How the connection ends: a close frame, after the queued messages or not.
pub struct Goodbye {
    pub frame: CloseFrame,
    pub flush: bool,
}

/// The most messages sent with one flush.
const MOST_PER_WRITE: usize = 64;

/// Sends queued messages, everything queued by then with one flush (a
/// shared subscription hands its members events in batches, so a burst of
/// changes is one write per connection); on a goodbye, sends the close
/// frame (giving a reader that has stopped five seconds to take it).
pub async fn write<S>(
    mut sink: S,
    mut outgoing: mpsc::Receiver<Message>,
    mut goodbye: tokio::sync::oneshot::Receiver<Goodbye>,
) where
    S: Sink<Message> + Unpin,
{
    let mut batch = Vec::with_capacity(MOST_PER_WRITE);
    let farewell = loop {
        tokio::select! {
            biased;
            farewell = &mut goodbye => break farewell.ok(),
            received = outgoing.recv_many(&mut batch, MOST_PER_WRITE) => {
                // Every sender gone: the connection is over; a goodbye may follow.
                if received == 0 {
                    break (&mut goodbye).await.ok();
                }
                let send_all = async {
                    for message in batch.drain(..) {
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

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};

    use super::*;

    /// What the writer did to the socket, in order.
    #[derive(Clone, Default)]
    struct Recorded(Arc<Mutex<Vec<String>>>);

    impl Sink<Message> for Recorded {
        type Error = std::convert::Infallible;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Self::Error> {
            if let Message::Text(text) = message {
                self.0.lock().unwrap().push(text.to_string());
            }
            Ok(())
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.0.lock().unwrap().push("flush".into());
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn messages_queued_together_share_one_flush() {
        let recorded = Recorded::default();
        let (outbox, outgoing) = mpsc::channel(16);
        let (closer, goodbye) = tokio::sync::oneshot::channel::<Goodbye>();
        for text in ["e1", "e2", "e3"] {
            outbox.send(Message::Text(text.into())).await.unwrap();
        }
        let writer = tokio::spawn(write(recorded.clone(), outgoing, goodbye));
        let written = |count: usize| {
            let recorded = recorded.clone();
            let written = async move {
                while recorded.0.lock().unwrap().len() < count {
                    tokio::task::yield_now().await;
                }
            };
            async move { tokio::time::timeout(Duration::from_secs(5), written).await.expect("written in time") }
        };
        written(4).await;
        outbox.send(Message::Text("ack".into())).await.unwrap();
        written(6).await;
        // The connection is over: no goodbye comes.
        drop((outbox, closer));
        writer.await.unwrap();
        let written = recorded.0.lock().unwrap().clone();
        assert_eq!(written, ["e1", "e2", "e3", "flush", "ack", "flush"]);
    }
}
