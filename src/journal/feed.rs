//! One subscriber's feed: replay from the journal after its cursor, then live
//! from the bus, in id order, with no gap and no duplicate. A subscriber that
//! falls behind the broadcast buffer catches up from the journal instead.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::Stream;
use tokio::sync::broadcast::{self, error::RecvError};

use super::bus::{Event, EventBus, entries_after};

const REPLAY_BATCH: u64 = 200;

struct State {
    bus: Arc<EventBus>,
    live: broadcast::Receiver<Event>,
    last: i64,
    pending: VecDeque<Event>,
    replaying: bool,
}

/// Every journal row after `after` (or from now), forever.
pub fn feed(bus: Arc<EventBus>, after: Option<i64>) -> impl Stream<Item = Event> + Send {
    // Subscribe before reading the journal: nothing committed in between is lost.
    let live = bus.subscribe();
    let last = after.unwrap_or_else(|| bus.high_water());
    let state = State { bus, live, last, pending: VecDeque::new(), replaying: after.is_some() };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.pending.pop_front() {
                state.last = event.id;
                return Some((event, state));
            }
            if state.replaying {
                match entries_after(state.bus.db(), state.last, REPLAY_BATCH).await {
                    Ok(batch) => {
                        state.replaying = batch.full;
                        state.pending.extend(batch.entries.into_iter().map(Arc::new));
                        if let Some(last_id) = batch.last_id.filter(|_| state.pending.is_empty()) {
                            state.last = last_id;
                        }
                    }
                    Err(err) => {
                        tracing::warn!(%err, "replay failed; ending the feed");
                        return None;
                    }
                }
                continue;
            }
            match state.live.recv().await {
                Ok(event) if event.id > state.last => state.pending.push_back(event),
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => state.replaying = true,
                Err(RecvError::Closed) => return None,
            }
        }
    })
}
