//! What an event's object looked like when the event was first delivered,
//! shared by every subscriber: a thousand subscribers of one change cost one
//! lookup, not a thousand. Bounded to the most recent events.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

const KEEP: usize = 4096;

/// The cells by event id, and the ids oldest first (for eviction).
type Cells<T> = (HashMap<i64, Arc<OnceCell<T>>>, VecDeque<i64>);

pub struct Snapshots<T> {
    cells: Mutex<Cells<T>>,
}

impl<T> Default for Snapshots<T> {
    fn default() -> Self {
        Snapshots { cells: Mutex::new((HashMap::new(), VecDeque::new())) }
    }
}

impl<T: Clone> Snapshots<T> {
    /// The value for `event_id`, loaded by the first caller only.
    pub async fn get_or_load<E, F, Fut>(&self, event_id: i64, load: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.cell(event_id).get_or_try_init(load).await.cloned()
    }

    /// Sets the value for `event_id` unless a caller already loaded it.
    pub fn fill(&self, event_id: i64, value: T) {
        let _ = self.cell(event_id).set(value);
    }

    fn cell(&self, event_id: i64) -> Arc<OnceCell<T>> {
        let mut guard = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        let (cells, order) = &mut *guard;
        let cell = cells
            .entry(event_id)
            .or_insert_with(|| {
                order.push_back(event_id);
                Arc::new(OnceCell::new())
            })
            .clone();
        while order.len() > KEEP {
            if let Some(old) = order.pop_front() {
                cells.remove(&old);
            }
        }
        cell
    }
}
