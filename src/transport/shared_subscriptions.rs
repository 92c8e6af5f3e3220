//! Identical live subscriptions share one execution.
//!
//! A dispatch office opens the same `jobChanged` selection in many places.
//! Subscriptions with the same document, variables and visibility (role and,
//! for a technician, its profile: everything the per-event checks and the
//! nested fields look at) form a group: one stream is executed and each event
//! is serialised once; every member wraps the same payload in its own
//! envelope. Subscriptions that resume (`after`) replay their own past and
//! are never grouped.
//!
//! The group hands its members events in batches: an event waits `GATHER`
//! for the ones right behind it, so a burst of changes reaches each member
//! as one write rather than one per change. The wait is the group's (one
//! timer), not each connection's.
//!
//! A member only receives what the group emits after it joined, which is
//! what a new subscription gets anyway. A member that falls behind by more
//! than the group's buffer is told it is too slow (the connection then
//! closes with 1008 and the client resumes by cursor).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_graphql::{Response, Value};
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use serde_json::value::{RawValue, to_raw_value};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::domain::Actor;
use crate::entities::enums::Role;

/// Batches a member may be behind before it is dropped.
const BUFFER: usize = 1024;

/// How long an event waits for the ones right behind it. A change fanned
/// out to a thousand subscribers costs a write per subscriber; a burst of
/// changes, handed over one by one, cost that per change, and on two cores
/// those writes (mostly the kernel's) were what delayed the last delivery.
/// Three milliseconds gather most of a burst, and are nothing to a person
/// watching a board.
const GATHER: Duration = Duration::from_millis(3);

/// The most deliveries handed over together.
const MOST_PER_BATCH: usize = 256;

/// Deliveries handed to every member together, in order.
type Batch = Arc<[Arc<Delivery>]>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    role: Role,
    technician_id: Option<Uuid>,
    query: String,
    operation_name: Option<String>,
    variables: String,
}

impl GroupKey {
    /// None for a subscription that must run on its own: one that resumes
    /// (`resumes` is read from the parsed operation), or one with extensions.
    pub fn of(actor: &Actor, request: &async_graphql::Request, resumes: bool) -> Option<GroupKey> {
        if resumes || !request.extensions.is_empty() {
            return None;
        }
        Some(GroupKey {
            role: actor.role,
            technician_id: actor.technician_id,
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).ok()?,
        })
    }
}

/// What the group's execution produced, serialised once.
pub enum Delivery {
    Next(Box<RawValue>),
    /// The subscription was refused (its errors); nothing follows.
    Failed(Box<RawValue>),
    Complete,
}

#[derive(Default)]
pub struct SharedSubscriptions {
    groups: Mutex<HashMap<GroupKey, Weak<Group>>>,
}

struct Group {
    deliveries: broadcast::Sender<Batch>,
    leader: tokio::task::AbortHandle,
    registry: Weak<SharedSubscriptions>,
}

impl Drop for Group {
    /// The last member left: stop executing and forget the group.
    fn drop(&mut self) {
        self.leader.abort();
        if let Some(registry) = self.registry.upgrade() {
            registry.lock().retain(|_, group| group.strong_count() > 0);
        }
    }
}

/// A member's place in a group; leaving is dropping it.
pub struct Membership {
    _group: Arc<Group>,
    deliveries: broadcast::Receiver<Batch>,
}

impl SharedSubscriptions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<GroupKey, Weak<Group>>> {
        self.groups.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Groups executing now (one execution each), for /metrics.
    pub fn running(&self) -> usize {
        self.lock().values().filter(|group| group.strong_count() > 0).count()
    }

    /// Joins the running group for `key`, or starts one with `start()`.
    pub fn join(self: &Arc<Self>, key: GroupKey, start: impl FnOnce() -> BoxStream<'static, Response>) -> Membership {
        let mut groups = self.lock();
        if let Some(group) = groups.get(&key).and_then(Weak::upgrade) {
            return Membership { deliveries: group.deliveries.subscribe(), _group: group };
        }
        let (sender, receiver) = broadcast::channel(BUFFER);
        let registry = Arc::downgrade(self);
        let group = Arc::new_cyclic(|me: &Weak<Group>| {
            let stream = start();
            let leader =
                tokio::spawn(lead(stream, sender.clone(), registry.clone(), key.clone(), me.clone())).abort_handle();
            Group { deliveries: sender, leader, registry }
        });
        groups.insert(key, Arc::downgrade(&group));
        Membership { deliveries: receiver, _group: group }
    }
}

/// An execution's responses as deliveries, each serialised once: a first
/// response with errors and no data is a refusal (nothing follows); the
/// end of the stream is `Complete`.
pub fn deliveries_of(responses: BoxStream<'static, Response>) -> BoxStream<'static, Arc<Delivery>> {
    let mut first = true;
    let mut done = false;
    responses
        .map(Some)
        .chain(futures_util::stream::once(async { None }))
        .filter_map(move |response| {
            let delivery = match response {
                _ if done => None,
                None => Some(Delivery::Complete),
                Some(response) => {
                    let refused = first && response.data == Value::Null && !response.errors.is_empty();
                    first = false;
                    done = refused;
                    let payload = if refused { to_raw_value(&response.errors) } else { to_raw_value(&response) };
                    match payload {
                        Ok(payload) if refused => Some(Delivery::Failed(payload)),
                        Ok(payload) => Some(Delivery::Next(payload)),
                        Err(_) => None,
                    }
                }
            };
            futures_util::future::ready(delivery.map(Arc::new))
        })
        .boxed()
}

/// Runs the group's one execution and hands its deliveries to every
/// member, in batches.
async fn lead(
    responses: BoxStream<'static, Response>,
    deliveries: broadcast::Sender<Batch>,
    registry: Weak<SharedSubscriptions>,
    key: GroupKey,
    me: Weak<Group>,
) {
    let mut produced = deliveries_of(responses).fuse();
    while let Some(first) = produced.next().await {
        let batch = gather(first, &mut produced).await;
        if batch.iter().any(|delivery| !is_event(delivery)) {
            // Finished: new subscribers start a fresh execution.
            retire(&registry, &key, &me);
        }
        // No receiver right now is fine: members come and go.
        let _ = deliveries.send(batch.into());
    }
}

fn is_event(delivery: &Delivery) -> bool {
    matches!(delivery, Delivery::Next(_))
}

/// `first` and the events that follow it within `GATHER`; the end of the
/// execution (a refusal, or complete) goes at once.
async fn gather(
    first: Arc<Delivery>,
    produced: &mut (impl Stream<Item = Arc<Delivery>> + Unpin),
) -> Vec<Arc<Delivery>> {
    let mut more = is_event(&first);
    let mut batch = vec![first];
    let hold = tokio::time::sleep(GATHER);
    tokio::pin!(hold);
    while more && batch.len() < MOST_PER_BATCH {
        tokio::select! {
            biased;
            next = produced.next() => match next {
                Some(delivery) => {
                    more = is_event(&delivery);
                    batch.push(delivery);
                }
                None => more = false,
            },
            () = &mut hold => more = false,
        }
    }
    batch
}

impl Membership {
    /// The group's deliveries from now on, a batch at a time (a batch is
    /// all there before its first delivery is taken); `Behind` when this
    /// member fell further behind than the group's buffer.
    pub fn into_feed(self) -> crate::transport::ws::forward::Feed {
        use crate::transport::ws::forward::Behind;
        futures_util::stream::unfold(self, |mut member| async move {
            let taken: Vec<Result<Arc<Delivery>, Behind>> = match member.deliveries.recv().await {
                Ok(batch) => batch.iter().cloned().map(Ok).collect(),
                Err(broadcast::error::RecvError::Lagged(_)) => vec![Err(Behind)],
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            Some((futures_util::stream::iter(taken), member))
        })
        .flatten()
        .boxed()
    }
}

/// A finished group takes no new members (they start a fresh execution);
/// those already in still receive the final delivery.
fn retire(registry: &Weak<SharedSubscriptions>, key: &GroupKey, me: &Weak<Group>) {
    if let Some(registry) = registry.upgrade() {
        let mut groups = registry.lock();
        if groups.get(key).is_some_and(|group| group.ptr_eq(me)) {
            groups.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;

    fn key() -> GroupKey {
        GroupKey {
            role: Role::Dispatcher,
            technician_id: None,
            query: "subscription { jobChanged { cursor } }".into(),
            operation_name: None,
            variables: "{}".into(),
        }
    }

    /// Responses `1, 2, …` produced at the given milliseconds, then the end.
    fn produced_at(times_ms: &'static [u64]) -> BoxStream<'static, Response> {
        let start = Instant::now();
        futures_util::stream::iter(times_ms.iter().enumerate())
            .then(move |(n, at)| async move {
                tokio::time::sleep_until(start + Duration::from_millis(*at)).await;
                Response::new(Value::from(n as i32 + 1))
            })
            .boxed()
    }

    fn shown(delivery: &Delivery) -> String {
        match delivery {
            Delivery::Next(payload) => payload.get().to_owned(),
            Delivery::Failed(_) => "failed".into(),
            Delivery::Complete => "complete".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn events_close_together_reach_members_together_after_the_hold() {
        let registry = Arc::new(SharedSubscriptions::default());
        let start = Instant::now();
        let first = registry.join(key(), || produced_at(&[0, 1, 5]));
        let second = registry.join(key(), || unreachable!("the group is running: no second execution"));
        assert_eq!(registry.running(), 1);
        let received = |member: Membership| async move {
            let mut feed = member.into_feed();
            let mut got = Vec::new();
            for _ in 0..4 {
                let next = tokio::time::timeout(Duration::from_secs(1), feed.next()).await;
                let delivery = next.expect("a delivery within a second").expect("the feed goes on").expect("in time");
                got.push((shown(&delivery), (Instant::now() - start).as_millis()));
            }
            got
        };
        let (first, second) = futures_util::future::join(received(first), received(second)).await;
        let expected = [
            (r#"{"data":1}"#.to_owned(), 3),
            (r#"{"data":2}"#.to_owned(), 3),
            // The third waits its own hold; the end goes with it at once.
            (r#"{"data":3}"#.to_owned(), 5),
            ("complete".to_owned(), 5),
        ];
        assert_eq!(first, expected);
        assert_eq!(second, expected);
    }
}
