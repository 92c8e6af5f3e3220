//! Outbound webhooks: the journal is the outbox. One worker per process
//! fans new journal rows out into delivery rows (`outbox::fan_out`), leases
//! due deliveries (`outbox::claim`), makes each attempt (`sender`) with the
//! signed body of `wire`, and records the outcome (`outbox::finish`).
//!
//! Everything durable is in the database, so a crash or a restart loses
//! nothing: rows not yet fanned out are still after the webhook's position,
//! and a lease left by a dead process expires. The worker has connections
//! of its own (the event bus's pool), a cap on attempts in flight, and a
//! share per webhook, so a slow receiver delays neither the API nor other
//! webhooks.
//!
//! Sits beside the transport (it is one, outbound): it names the domain's
//! rules, the journal and the entities, never async-graphql or axum.

pub mod outbox;
pub mod sender;
pub mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::Utc;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, Semaphore, broadcast};
use uuid::Uuid;

use crate::config::WebhookSettings;
use crate::domain::webhook_rules;
use crate::entities::enums::DeliveryStatus;
use crate::journal::{Event, EventBus};
use outbox::Claimed;
use sender::{ATTEMPT_TIMEOUT, Sender};

/// How long a lease lasts: longer than any attempt (10 s) and its record.
const LEASE: Duration = Duration::from_secs(15);
/// The longest the worker sleeps without looking (another process may have
/// queued or freed something).
const TICK: Duration = Duration::from_secs(1);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// What `/metrics` shows about deliveries.
#[derive(Clone, Default)]
pub struct DeliveryMetrics {
    attempts: Family<OutcomeLabel, Counter>,
    oldest_pending_seconds: Gauge,
    in_flight: Gauge,
}

impl DeliveryMetrics {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "fieldforge_webhook_deliveries",
            "Webhook delivery attempts by outcome (succeeded; failed: will be retried; dead: no more attempts)",
            self.attempts.clone(),
        );
        registry.register(
            "fieldforge_webhook_oldest_pending_seconds",
            "Age of the oldest webhook delivery not yet delivered (PENDING or FAILED)",
            self.oldest_pending_seconds.clone(),
        );
        registry.register(
            "fieldforge_webhook_attempts_in_flight",
            "Webhook attempts this process is making now",
            self.in_flight.clone(),
        );
    }

    fn count(&self, status: DeliveryStatus) {
        let outcome = match status {
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed | DeliveryStatus::Pending => "failed",
            DeliveryStatus::Dead => "dead",
        };
        self.attempts.get_or_create(&OutcomeLabel { outcome }).inc();
    }
}

/// The process's webhook worker, as the rest of the server sees it.
pub struct Webhooks {
    wake: Arc<Notify>,
    pub metrics: DeliveryMetrics,
}

impl Webhooks {
    /// Starts the worker on `db` (a pool apart from the requests'). `wake`
    /// is notified when a delivery is queued outside the journal (a ping, a
    /// redelivery).
    pub fn start(
        db: DatabaseConnection,
        bus: &Arc<EventBus>,
        settings: &WebhookSettings,
        wake: Arc<Notify>,
    ) -> Result<Arc<Webhooks>, reqwest::Error> {
        let concurrency = settings.concurrency.max(1) as usize;
        let hub = Arc::new(Webhooks { wake, metrics: DeliveryMetrics::default() });
        let worker = Worker {
            db,
            bus: Arc::downgrade(bus),
            sender: Sender::new(settings.allow_private)?,
            retry_base: settings.retry_base,
            slots: Arc::new(Semaphore::new(concurrency)),
            per_webhook: (concurrency / 4).max(1),
            in_flight: Mutex::new(HashMap::new()),
            wake: hub.wake.clone(),
            metrics: hub.metrics.clone(),
        };
        tokio::spawn(run(Arc::new(worker), Arc::downgrade(&hub), bus.subscribe()));
        Ok(hub)
    }
}

struct Worker {
    db: DatabaseConnection,
    bus: Weak<EventBus>,
    sender: Sender,
    retry_base: Duration,
    slots: Arc<Semaphore>,
    per_webhook: usize,
    in_flight: Mutex<HashMap<Uuid, usize>>,
    wake: Arc<Notify>,
    metrics: DeliveryMetrics,
}

/// Rounds until the server is gone: each fans out, claims what is due and
/// free slots allow, then waits for news (a journal event, a finished
/// attempt, a poke) or the next due time, at most a second.
async fn run(worker: Arc<Worker>, hub: Weak<Webhooks>, mut events: broadcast::Receiver<Event>) {
    loop {
        if hub.strong_count() == 0 {
            return;
        }
        let wait = worker.round().await;
        tokio::select! {
            received = events.recv() => {
                if matches!(received, Err(broadcast::error::RecvError::Closed)) {
                    return;
                }
            }
            _ = worker.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

impl Worker {
    async fn round(self: &Arc<Self>) -> Duration {
        let Some(high_water) = self.bus.upgrade().map(|bus| bus.high_water()) else { return TICK };
        match outbox::fan_out_position(&self.db).await {
            Ok(None) => {
                // No webhooks, so nothing to deliver.
                self.metrics.oldest_pending_seconds.set(0);
                return TICK;
            }
            Ok(Some(position)) if position < high_water => self.fan_out().await,
            Ok(Some(_)) => {}
            Err(err) => {
                tracing::warn!(%err, "webhooks: cannot read the webhooks; retrying");
                return TICK;
            }
        }
        self.claim_and_send().await;
        let now = Utc::now();
        match outbox::queue_state(&self.db, now).await {
            Ok((next, oldest)) => {
                let age = oldest.map_or(0, |at| (now - at).num_seconds().max(0));
                self.metrics.oldest_pending_seconds.set(age);
                let until_next = next.and_then(|at| (at - now).to_std().ok()).unwrap_or(TICK);
                until_next.clamp(Duration::from_millis(10), TICK)
            }
            Err(err) => {
                tracing::warn!(%err, "webhooks: cannot read the queue");
                TICK
            }
        }
    }

    async fn fan_out(&self) {
        loop {
            match outbox::fan_out(&self.db, Utc::now()).await {
                Ok(true) => continue,
                Ok(false) => return,
                Err(err) => {
                    tracing::warn!(%err, "webhooks: fan-out failed; retrying");
                    return;
                }
            }
        }
    }

    async fn claim_and_send(self: &Arc<Self>) {
        let free = self.slots.available_permits();
        if free == 0 {
            return;
        }
        let now = Utc::now();
        let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::seconds(15));
        let busy = self.in_flight.lock().map(|m| m.clone()).unwrap_or_default();
        let claimed = match outbox::claim(&self.db, now, lease_until, free, self.per_webhook, &busy).await {
            Ok(claimed) => claimed,
            Err(err) => {
                tracing::warn!(%err, "webhooks: cannot claim deliveries");
                return;
            }
        };
        for claimed in claimed {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                // Cannot happen (we took no more than were free); the lease
                // runs out and the delivery is taken again.
                break;
            };
            self.enter(claimed.delivery.webhook_id);
            let worker = self.clone();
            tokio::spawn(async move {
                worker.deliver(claimed).await;
                drop(slot);
                // A slot is free, and the entity's next delivery may be due.
                worker.wake.notify_one();
            });
        }
    }

    /// One attempt and its record.
    async fn deliver(&self, claimed: Claimed) {
        let outcome = self.sender.attempt(&claimed).await;
        let base = self.retry_base;
        let recorded = outbox::finish(&self.db, &claimed, Utc::now(), &outcome, |attempts| {
            webhook_rules::after_failure(attempts, Utc::now(), base, webhook_rules::random_jitter())
        })
        .await;
        match recorded {
            Ok(Some(status)) => {
                self.metrics.count(status);
                tracing::debug!(delivery = %claimed.delivery.id, webhook = %claimed.delivery.webhook_id, status = status.as_str(), "webhook attempt");
            }
            Ok(None) => {
                tracing::debug!(delivery = %claimed.delivery.id, "webhook attempt outlived its lease or webhook")
            }
            Err(err) => {
                tracing::warn!(%err, delivery = %claimed.delivery.id, "webhooks: cannot record an attempt; it will be made again")
            }
        }
        self.exit(claimed.delivery.webhook_id);
    }

    fn enter(&self, webhook_id: Uuid) {
        if let Ok(mut in_flight) = self.in_flight.lock() {
            *in_flight.entry(webhook_id).or_default() += 1;
        }
        self.metrics.in_flight.inc();
    }

    fn exit(&self, webhook_id: Uuid) {
        if let Ok(mut in_flight) = self.in_flight.lock()
            && let Some(count) = in_flight.get_mut(&webhook_id)
        {
            *count -= 1;
            if *count == 0 {
                in_flight.remove(&webhook_id);
            }
        }
        self.metrics.in_flight.dec();
    }
}

// The attempt timeout bounds how long a slot is held.
const _: () = assert!(ATTEMPT_TIMEOUT.as_secs() < LEASE.as_secs());
