//! PostgreSQL LISTEN: notifications only say "there is news"; the rows are
//! read from the journal, so a dropped notification loses nothing. When the
//! connection breaks (PostgreSQL restarted, backend terminated) the listener
//! reconnects and the bus catches up from the journal.

use std::sync::Weak;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;

use super::bus::EventBus;
use super::write::NOTIFY_CHANNEL as CHANNEL;

pub async fn listen(bus: Weak<EventBus>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(pool) = bus.upgrade().map(|b| b.db().get_postgres_connection_pool().clone()) else { return };
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(%err, "event listener cannot connect; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        if let Err(err) = listener.listen(CHANNEL).await {
            tracing::warn!(%err, "LISTEN failed; retrying");
            tokio::time::sleep(backoff).await;
            continue;
        }
        backoff = Duration::from_millis(100);
        // Connected (again): anything missed meanwhile is in the journal.
        match bus.upgrade() {
            Some(bus) => bus.poke(),
            None => return,
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => match bus.upgrade() {
                    Some(bus) => bus.poke(),
                    None => return,
                },
                Ok(None) => {
                    tracing::warn!("event listener lost its connection; reconnecting and catching up");
                    match bus.upgrade() {
                        Some(bus) => bus.poke(),
                        None => return,
                    }
                }
                Err(err) => {
                    tracing::warn!(%err, "event listener failed; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(backoff).await;
    }
}
