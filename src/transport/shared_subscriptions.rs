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
//! A member only receives what the group emits after it joined, which is
//! what a new subscription gets anyway. A member that falls behind by more
//! than the group's buffer is told it is too slow (the connection then
//! closes with 1008 and the client resumes by cursor).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use async_graphql::{Response, Value};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde_json::value::{RawValue, to_raw_value};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::domain::Actor;
use crate::entities::enums::Role;

/// Events a member may be behind before it is dropped.
const BUFFER: usize = 1024;

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
    deliveries: broadcast::Sender<Arc<Delivery>>,
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
    pub deliveries: broadcast::Receiver<Arc<Delivery>>,
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

/// Runs the group's one execution and hands each delivery to every member.
async fn lead(
    responses: BoxStream<'static, Response>,
    deliveries: broadcast::Sender<Arc<Delivery>>,
    registry: Weak<SharedSubscriptions>,
    key: GroupKey,
    me: Weak<Group>,
) {
    let mut produced = deliveries_of(responses);
    while let Some(delivery) = produced.next().await {
        if !matches!(*delivery, Delivery::Next(_)) {
            // Finished: new subscribers start a fresh execution.
            retire(&registry, &key, &me);
        }
        // No receiver right now is fine: members come and go.
        let _ = deliveries.send(delivery);
    }
}

impl Membership {
    /// The group's deliveries from now on; `Behind` when this member fell
    /// further behind than the group's buffer.
    pub fn into_feed(self) -> crate::transport::ws::forward::Feed {
        futures_util::stream::unfold(self, |mut member| async move {
            match member.deliveries.recv().await {
                Ok(delivery) => Some((Ok(delivery), member)),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    Some((Err(crate::transport::ws::forward::Behind), member))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
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
