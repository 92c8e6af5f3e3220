//! The delivery table as a work queue, shared by every server process.
//!
//! - `fan_out` turns journal rows into delivery rows: per webhook, every
//!   matching row after its `journal_position`, then moves the position, in
//!   one transaction with the webhooks locked (PostgreSQL: `FOR UPDATE SKIP
//!   LOCKED`; SQLite: an IMMEDIATE transaction). Journal ids become visible
//!   in order, so "after the position" never skips a late commit, and the
//!   unique (webhook, journal row) index makes a second delivery impossible.
//! - `claim` leases due deliveries to one process: an attempt is made by
//!   whoever set the lease, and a lease left by a process that died simply
//!   expires. A delivery is due only when no earlier delivery of the same
//!   webhook and entity is still PENDING or FAILED (per-entity order).
//! - `finish` records an attempt's outcome, only under the caller's lease.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use crate::domain::webhook_rules::{self, AfterFailure};
use crate::entities::enums::DeliveryStatus;
use crate::entities::{journal_entry, webhook, webhook_delivery};

/// Journal rows read per fan-out transaction.
const FAN_OUT_BATCH: u64 = 500;
/// Delivery rows per INSERT (bounded bind parameters).
const INSERT_CHUNK: usize = 100;
/// Candidates read per claim (more than any process takes at once).
const CANDIDATES: u64 = 200;

const OPEN: [DeliveryStatus; 2] = [DeliveryStatus::Pending, DeliveryStatus::Failed];
/// The same, spelled for SQL.
const OPEN_SQL: &str = "'PENDING', 'FAILED'";

#[derive(Debug, FromQueryResult)]
struct Candidate {
    seq: i64,
    webhook_id: Uuid,
}

/// The least far any webhook was fanned out (None: there are no webhooks).
pub async fn fan_out_position(db: &DatabaseConnection) -> Result<Option<i64>, DbErr> {
    let lowest: Option<Option<i64>> = webhook::Entity::find()
        .select_only()
        .expr(Expr::col(webhook::Column::JournalPosition).min())
        .into_tuple()
        .one(db)
        .await?;
    Ok(lowest.flatten())
}

/// Fans out one batch of journal rows. Returns whether more may follow.
pub async fn fan_out(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let options =
        TransactionOptions { sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate), ..Default::default() };
    let txn = db.begin_with_options(options).await?;
    let mut hooks = webhook::Entity::find();
    if db.get_database_backend() == DatabaseBackend::Postgres {
        // Another process fanning out takes the others; none waits.
        hooks = hooks
            .lock_with_behavior(sea_orm::sea_query::LockType::Update, sea_orm::sea_query::LockBehavior::SkipLocked);
    }
    let hooks = hooks.all(&txn).await?;
    let Some(lowest) = hooks.iter().map(|h| h.journal_position).min() else {
        txn.commit().await?;
        return Ok(false);
    };
    let rows = crate::journal::bus::rows_after(&txn, lowest, FAN_OUT_BATCH).await?;
    let Some(last) = rows.last().map(|row| row.id) else {
        txn.commit().await?;
        return Ok(false);
    };
    let mut deliveries = Vec::new();
    let mut advanced = Vec::new();
    for hook in &hooks {
        if hook.journal_position >= last {
            continue;
        }
        advanced.push(hook.id);
        let patterns = hook.event_patterns();
        for row in rows.iter().filter(|r| r.id > hook.journal_position) {
            if webhook_rules::matches(&patterns, &row.event) {
                deliveries.push(delivery_of(hook.id, row, now));
            }
        }
    }
    for chunk in deliveries.chunks(INSERT_CHUNK) {
        webhook_delivery::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
    }
    webhook::Entity::update_many()
        .col_expr(webhook::Column::JournalPosition, Expr::value(last))
        .filter(webhook::Column::Id.is_in(advanced))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(rows.len() as u64 == FAN_OUT_BATCH)
}

fn delivery_of(webhook_id: Uuid, row: &journal_entry::Model, now: DateTime<Utc>) -> webhook_delivery::ActiveModel {
    webhook_delivery::Queued {
        webhook_id,
        journal_id: Some(row.id),
        event: row.event.clone(),
        entity_type: row.entity_type.clone(),
        entity_id: row.entity_id,
        actor_id: row.actor_id,
        data: row.data.clone(),
        occurred_at: row.created_at,
    }
    .at(now)
}

/// A delivery leased to this process, with what its attempt needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: webhook_delivery::Model,
    pub url: String,
    pub secret: String,
}

/// Leases up to `limit` due deliveries until `lease_until`, at most
/// `per_webhook` in flight per webhook counting `in_flight`.
pub async fn claim(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: usize,
    per_webhook: usize,
    in_flight: &HashMap<Uuid, usize>,
) -> Result<Vec<Claimed>, DbErr> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    // Due deliveries, at most `per_webhook` of each webhook (so one with
    // thousands waiting cannot crowd the others out of the list), each
    // only when no earlier one of its webhook and entity is still open.
    let sql = format!(
        "SELECT seq, webhook_id FROM (
           SELECT d.seq, d.webhook_id, d.next_attempt_at,
                  ROW_NUMBER() OVER (PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.seq) AS place
           FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
           WHERE w.active AND d.status IN ({OPEN_SQL}) AND d.next_attempt_at <= $1
             AND (d.lease_until IS NULL OR d.lease_until <= $1)
             AND NOT EXISTS (
               SELECT 1 FROM webhook_deliveries earlier
               WHERE earlier.webhook_id = d.webhook_id AND earlier.entity_type = d.entity_type
                 AND earlier.entity_id = d.entity_id AND earlier.status IN ({OPEN_SQL}) AND earlier.seq < d.seq)
         ) due
         WHERE place <= $2
         ORDER BY next_attempt_at, seq
         LIMIT $3"
    );
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [now.into(), (per_webhook as i64).into(), (CANDIDATES as i64).into()],
    );
    let candidates: Vec<(i64, Uuid)> =
        Candidate::find_by_statement(statement).all(db).await?.into_iter().map(|c| (c.seq, c.webhook_id)).collect();
    let chosen = choose(&candidates, limit, per_webhook, in_flight);
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    // The lease is taken row by row under the row's lock: of two processes
    // that chose the same delivery, the second finds it leased and skips it.
    let token = Uuid::new_v4();
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::LeaseToken, Expr::value(token))
        .col_expr(webhook_delivery::Column::LeaseUntil, Expr::value(lease_until))
        .filter(webhook_delivery::Column::Seq.is_in(chosen))
        .filter(webhook_delivery::Column::Status.is_in(OPEN))
        .filter(lease_free(now))
        .exec(db)
        .await?;
    let leased = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::LeaseToken.eq(token))
        .find_also_related(webhook::Entity)
        .order_by_asc(webhook_delivery::Column::Seq)
        .all(db)
        .await?;
    Ok(leased
        .into_iter()
        .filter_map(|(delivery, hook)| hook.map(|h| Claimed { delivery, url: h.url, secret: h.secret }))
        .collect())
}

fn lease_free(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(webhook_delivery::Column::LeaseUntil.is_null())
        .add(webhook_delivery::Column::LeaseUntil.lte(now))
}

/// Picks deliveries in the candidates' order: at most `limit`, and at most
/// `per_webhook` in flight for any webhook, so one slow receiver cannot take
/// every slot.
pub fn choose(
    candidates: &[(i64, Uuid)],
    limit: usize,
    per_webhook: usize,
    in_flight: &HashMap<Uuid, usize>,
) -> Vec<i64> {
    let mut taken: HashMap<Uuid, usize> = HashMap::new();
    let mut chosen = Vec::new();
    for &(seq, webhook_id) in candidates {
        if chosen.len() == limit {
            break;
        }
        let busy = in_flight.get(&webhook_id).copied().unwrap_or(0) + taken.get(&webhook_id).copied().unwrap_or(0);
        if busy < per_webhook {
            *taken.entry(webhook_id).or_default() += 1;
            chosen.push(seq);
        }
    }
    chosen
}

/// What one attempt gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered { status_code: u16 },
    /// Anything else: another status, a timeout, no connection, a refused
    /// target. `error` is ours, never the receiver's body.
    Failed { status_code: Option<u16>, error: String },
}

/// Records an attempt of a delivery leased with `token`; returns the
/// delivery's new status (None when the lease was lost or the webhook
/// deleted meanwhile, and nothing was written).
pub async fn finish(
    db: &DatabaseConnection,
    claimed: &Claimed,
    now: DateTime<Utc>,
    outcome: &Outcome,
    retry: impl FnOnce(i32) -> AfterFailure,
) -> Result<Option<DeliveryStatus>, DbErr> {
    let delivery = &claimed.delivery;
    let attempts = delivery.attempts.saturating_add(1);
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(webhook_delivery::Column::LeaseToken, Expr::value(Option::<Uuid>::None))
        .col_expr(webhook_delivery::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None));
    let status = match outcome {
        Outcome::Delivered { status_code } => {
            update = update
                .col_expr(webhook_delivery::Column::Status, Expr::value(DeliveryStatus::Succeeded.as_str()))
                .col_expr(webhook_delivery::Column::LastStatusCode, Expr::value(i32::from(*status_code)))
                .col_expr(webhook_delivery::Column::LastError, Expr::value(Option::<String>::None))
                .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(now))
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(Option::<DateTime<Utc>>::None));
            DeliveryStatus::Succeeded
        }
        Outcome::Failed { status_code, error } => {
            let (status, next) = match retry(attempts) {
                AfterFailure::RetryAt(at) => (DeliveryStatus::Failed, Some(at)),
                AfterFailure::Dead => (DeliveryStatus::Dead, None),
            };
            update = update
                .col_expr(webhook_delivery::Column::Status, Expr::value(status.as_str()))
                .col_expr(webhook_delivery::Column::LastStatusCode, Expr::value(status_code.map(i32::from)))
                .col_expr(webhook_delivery::Column::LastError, Expr::value(error.clone()))
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next));
            status
        }
    };
    let written = update
        .filter(webhook_delivery::Column::Seq.eq(delivery.seq))
        .filter(webhook_delivery::Column::LeaseToken.eq(delivery.lease_token))
        .exec(db)
        .await?;
    Ok((written.rows_affected == 1).then_some(status))
}

/// For the worker's sleep and `/metrics`: the earliest future attempt, and
/// when the oldest delivery still to be made was queued.
pub async fn queue_state(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>), DbErr> {
    let next: Option<Option<DateTime<Utc>>> = webhook_delivery::Entity::find()
        .select_only()
        .expr(Expr::col(webhook_delivery::Column::NextAttemptAt).min())
        .filter(webhook_delivery::Column::Status.is_in(OPEN))
        .filter(webhook_delivery::Column::NextAttemptAt.gt(now))
        .into_tuple()
        .one(db)
        .await?;
    let oldest: Option<Option<DateTime<Utc>>> = webhook_delivery::Entity::find()
        .select_only()
        .expr(Expr::col(webhook_delivery::Column::CreatedAt).min())
        .filter(webhook_delivery::Column::Status.is_in(OPEN))
        .into_tuple()
        .one(db)
        .await?;
    Ok((next.flatten(), oldest.flatten()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_statuses_are_spelled_alike_in_sql() {
        assert_eq!(OPEN_SQL, OPEN.map(|s| format!("'{}'", s.as_str())).join(", "));
    }

    #[test]
    fn one_busy_webhook_leaves_room_for_the_others() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let candidates = [(1, a), (2, a), (3, a), (4, b), (5, a), (6, b)];
        assert_eq!(choose(&candidates, 10, 2, &HashMap::new()), vec![1, 2, 4, 6]);
        assert_eq!(choose(&candidates, 3, 2, &HashMap::new()), vec![1, 2, 4]);
        let busy = HashMap::from([(a, 2)]);
        assert_eq!(choose(&candidates, 10, 2, &busy), vec![4, 6]);
        assert!(choose(&candidates, 0, 2, &HashMap::new()).is_empty());
    }
}
