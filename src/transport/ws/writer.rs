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

/// A message queued for the socket.
pub enum Outgoing {
    /// An event of a live operation: it may wait `GATHER` for the events
    /// right behind it, to share one write with them.
    Event(Message),
    /// An answer to the client (ack, pong, a refusal, a completion): sent
    /// at once, with whatever is queued.
    Reply(Message),
}

impl Outgoing {
    fn into_message(self) -> Message {
        match self {
            Outgoing::Event(message) | Outgoing::Reply(message) => message,
        }
    }
}

/// How long an event waits for the ones behind it. A change fanned out to
/// a thousand subscribers costs a thousand writes; a burst of changes,
/// written as they come, costs that per change, and on two cores those
/// writes (mostly the kernel's) were what delayed the last delivery. Three
/// milliseconds gather most of a burst into a write per connection, and
/// are nothing to a person watching a board.
const GATHER: Duration = Duration::from_millis(3);

/// Sends queued messages; on a goodbye, sends the close frame (giving a
/// reader that has stopped five seconds to take it).
pub async fn write<S>(
    mut sink: S,
    mut outgoing: mpsc::Receiver<Outgoing>,
    mut goodbye: tokio::sync::oneshot::Receiver<Goodbye>,
) where
    S: Sink<Message> + Unpin,
{
    let farewell = loop {
        tokio::select! {
            biased;
            farewell = &mut goodbye => break farewell.ok(),
            first = outgoing.recv() => {
                // Every sender gone: the connection is over; a goodbye may follow.
                let Some(first) = first else { break (&mut goodbye).await.ok() };
                if matches!(first, Outgoing::Event(_)) {
                    tokio::select! {
                        biased;
                        farewell = &mut goodbye => break farewell.ok(),
                        () = tokio::time::sleep(GATHER) => {}
                    }
                }
                // Everything queued by now goes out with one flush.
                let mut batch = vec![first.into_message()];
                while batch.len() < 64 {
                    match outgoing.try_recv() {
                        Ok(more) => batch.push(more.into_message()),
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
                    if sink.send(message.into_message()).await.is_err() {
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
    use std::sync::{Arc, Mutex};

    use futures_util::sink;
    use tokio::time::Instant;

    use super::*;

    fn text(text: &str) -> Message {
        Message::Text(text.into())
    }

    #[tokio::test(start_paused = true)]
    async fn events_queued_together_go_out_together_and_replies_at_once() {
        let written = Arc::new(Mutex::new(Vec::<(String, Instant)>::new()));
        let sink = {
            let written = written.clone();
            Box::pin(sink::unfold((), move |(), message: Message| {
                let written = written.clone();
                async move {
                    if let Message::Text(text) = message {
                        written.lock().unwrap().push((text.to_string(), Instant::now()));
                    }
                    Ok::<_, std::convert::Infallible>(())
                }
            }))
        };
        let (outbox, outgoing) = mpsc::channel(16);
        let (closer, goodbye) = tokio::sync::oneshot::channel::<Goodbye>();
        let start = Instant::now();
        let writer = tokio::spawn(write(sink, outgoing, goodbye));
        outbox.send(Outgoing::Reply(text("ack"))).await.unwrap();
        tokio::task::yield_now().await;
        outbox.send(Outgoing::Event(text("e1"))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        outbox.send(Outgoing::Event(text("e2"))).await.unwrap();
        outbox.send(Outgoing::Reply(text("complete"))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        // The connection is over: no goodbye comes.
        drop((outbox, closer));
        let _ = writer.await;
        let written = written.lock().unwrap().clone();
        let at: Vec<(&str, Duration)> = written.iter().map(|(t, at)| (t.as_str(), *at - start)).collect();
        assert_eq!(at[0], ("ack", Duration::ZERO), "a reply is not held back: {at:?}");
        let names: Vec<&str> = at.iter().map(|(t, _)| *t).collect();
        assert_eq!(names, ["ack", "e1", "e2", "complete"], "in order");
        assert_eq!(at[1].1, GATHER, "the first event waited: {at:?}");
        assert!(at[2..].iter().all(|(_, when)| *when == GATHER), "the rest went with it: {at:?}");
    }
}
