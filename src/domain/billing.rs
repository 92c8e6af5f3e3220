//! Billing: invoices (issued by `completion.rs` when a job is completed)
//! and the payments recorded until an invoice is paid.
//!
//! Concurrency: a payment locks its invoice row (`SELECT … FOR UPDATE` on
//! PostgreSQL; SQLite has a single writer), checks the balance and adds to
//! `amount_paid_cents`; the CHECK `amount_paid_cents <= total_cents` is the
//! database's last word. Idempotency keys are UNIQUE.

use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect,
};

use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{DomainError, DomainResult, Violation, violation};
use super::money::{self, MAX_AMOUNT_CENTS};
use super::page::{self, Cursor, Page, PageRequest};
use super::{clock, validate};
use crate::entities::enums::{InvoiceLineKind, InvoiceStatus, PaymentMethod};
use crate::entities::{counter, invoice, invoice_line, job, job_financials, payment};
use crate::journal::change::{InvoiceCreated, InvoicePaid, PaymentRecorded};
use crate::journal::{Change, Journaled};

pub struct NewPayment {
    pub invoice_id: Uuid,
    pub amount: Decimal,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    pub idempotency_key: Option<String>,
}

pub(crate) struct Line {
    pub kind: InvoiceLineKind,
    pub description: String,
    pub quantity_hundredths: i64,
    pub unit_price_cents: i64,
}

impl Line {
    /// quantity × unit price, rounded half up to the cent.
    fn amount_cents(&self) -> DomainResult<i64> {
        let exact = i128::from(self.quantity_hundredths) * i128::from(self.unit_price_cents);
        i64::try_from((exact + 50) / 100).map_err(|_| DomainError::bad_input("materials", "amount out of range"))
    }
}

/// The next gap-free invoice number; the counter row stays locked until the
/// transaction ends, and rolls back with it.
async fn next_invoice_number(txn: &DatabaseTransaction) -> DomainResult<String> {
    use sea_orm::sea_query::ExprTrait;
    counter::Entity::update_many()
        .col_expr(counter::Column::Value, Expr::col(counter::Column::Value).add(1))
        .filter(counter::Column::Name.eq("invoice_number"))
        .exec(txn)
        .await?;
    let value = counter::Entity::find_by_id("invoice_number")
        .one(txn)
        .await?
        .ok_or_else(|| DomainError::internal("invoice counter missing"))?
        .value;
    Ok(format!("INV-{value:06}"))
}

pub(crate) async fn issue_invoice(txn: &Journaled, job: &job::Model, lines: Vec<Line>) -> DomainResult<invoice::Model> {
    let mut total_cents: i64 = 0;
    let mut amounts = Vec::with_capacity(lines.len());
    for line in &lines {
        let amount = line.amount_cents()?;
        total_cents = total_cents
            .checked_add(amount)
            .filter(|t| *t <= MAX_AMOUNT_CENTS)
            .ok_or_else(|| DomainError::bad_input("materials", "the invoice total is out of range"))?;
        amounts.push(amount);
    }
    let number = next_invoice_number(txn).await?;
    let issued = invoice::ActiveModel {
        id: Set(Uuid::new_v4()),
        number: Set(number),
        job_id: Set(job.id),
        customer_id: Set(job.customer_id),
        status: Set(InvoiceStatus::Issued),
        total_cents: Set(total_cents),
        amount_paid_cents: Set(0),
        issued_at: Set(clock::now()),
        paid_at: Set(None),
    }
    .insert(&**txn)
    .await?;
    let rows = lines.into_iter().zip(amounts).enumerate().map(|(position, (line, amount))| invoice_line::ActiveModel {
        id: Set(Uuid::new_v4()),
        invoice_id: Set(issued.id),
        position: Set(position as i32),
        kind: Set(line.kind),
        description: Set(line.description),
        quantity_hundredths: Set(line.quantity_hundredths),
        unit_price_cents: Set(line.unit_price_cents),
        amount_cents: Set(amount),
    });
    invoice_line::Entity::insert_many(rows).exec_without_returning(&**txn).await?;
    let change =
        InvoiceCreated { number: issued.number.clone(), job_id: job.id, total: money::from_cents(total_cents) };
    txn.record(issued.id, Change::InvoiceCreated(change)).await?;
    Ok(issued)
}

/// An invoice by id, unchecked: for callers that have decided access
/// already (a live event the caller may see).
pub async fn find(db: &impl ConnectionTrait, invoice_id: Uuid) -> DomainResult<Option<invoice::Model>> {
    Ok(invoice::Entity::find_by_id(invoice_id).one(db).await?)
}

/// `recordPayment`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_payment(db: &DatabaseConnection, actor: &Actor, input: NewPayment) -> DomainResult<payment::Model> {
    actor.require(Permission::Billing)?;
    let amount_cents = money::to_cents_in("amount", input.amount, 1, MAX_AMOUNT_CENTS)?;
    let reference = validate::optional_text("reference", input.reference.as_deref(), validate::NAME_MAX)?;
    let key = validate::optional_text("idempotencyKey", input.idempotency_key.as_deref(), validate::NAME_MAX)?;

    if let Some(key) = &key
        && let Some(earlier) = replay(db, key, input.invoice_id, amount_cents, input.method).await?
    {
        return Ok(earlier);
    }

    let txn = super::write(db, actor).await?;
    let invoice = invoice::Entity::find_by_id(input.invoice_id)
        .lock_exclusive()
        .one(&*txn)
        .await?
        .ok_or(DomainError::NotFound("invoice"))?;
    let balance = invoice.total_cents - invoice.amount_paid_cents;
    if amount_cents > balance {
        return Err(DomainError::bad_input(
            "amount",
            format!("amount exceeds the balance due of {}", money::from_cents(balance)),
        ));
    }
    let now = clock::now();
    let inserted = payment::ActiveModel {
        id: Set(Uuid::new_v4()),
        invoice_id: Set(invoice.id),
        amount_cents: Set(amount_cents),
        method: Set(input.method),
        reference: Set(reference),
        idempotency_key: Set(key.clone()),
        received_at: Set(now),
        recorded_by: Set(Some(actor.user_id)),
    }
    .insert(&*txn)
    .await;
    let recorded = match inserted {
        Ok(recorded) => recorded,
        Err(err) if violation(&err) == Some(Violation::Unique) && key.is_some() => {
            // A concurrent retry with the same key committed first.
            txn.rollback().await?;
            let key = key.unwrap_or_default();
            return replay(db, &key, input.invoice_id, amount_cents, input.method)
                .await?
                .ok_or_else(|| DomainError::conflict("idempotency key already used"));
        }
        Err(err) => return Err(err.into()),
    };

    let paid_cents = invoice.amount_paid_cents + amount_cents;
    let paid = paid_cents == invoice.total_cents;
    let mut update: invoice::ActiveModel = invoice.into();
    update.amount_paid_cents = Set(paid_cents);
    update.status = Set(if paid { InvoiceStatus::Paid } else { InvoiceStatus::PartiallyPaid });
    if paid {
        update.paid_at = Set(Some(now));
    }
    let invoice = update.update(&*txn).await.map_err(|err| match violation(&err) {
        Some(Violation::Check) => DomainError::bad_input("amount", "amount exceeds the balance due"),
        _ => err.into(),
    })?;
    let change = Change::PaymentRecorded(PaymentRecorded {
        payment_id: recorded.id,
        amount: money::from_cents(amount_cents),
        method: recorded.method,
        amount_paid: money::from_cents(invoice.amount_paid_cents),
    });
    if paid {
        txn.record(invoice.id, change).await?;
        txn.commit(invoice.id, Change::InvoicePaid(InvoicePaid { payment_id: recorded.id, paid_at: now })).await?;
    } else {
        txn.commit(invoice.id, change).await?;
    }
    Ok(recorded)
}

/// The earlier payment made with `key`, if the data matches; CONFLICT if not.
async fn replay(
    db: &impl ConnectionTrait,
    key: &str,
    invoice_id: Uuid,
    amount_cents: i64,
    method: PaymentMethod,
) -> DomainResult<Option<payment::Model>> {
    let Some(earlier) = payment::Entity::find().filter(payment::Column::IdempotencyKey.eq(key)).one(db).await? else {
        return Ok(None);
    };
    if earlier.invoice_id == invoice_id && earlier.amount_cents == amount_cents && earlier.method == method {
        Ok(Some(earlier))
    } else {
        Err(DomainError::conflict("this idempotency key was used for a different payment"))
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
    status: Option<InvoiceStatus>,
) -> DomainResult<Page<invoice::Model>> {
    actor.require(Permission::Billing)?;
    let mut select = invoice::Entity::find();
    if let Some(status) = status {
        select = select.filter(invoice::Column::Status.eq(status));
    }
    page::fetch(db, select, invoice::Column::IssuedAt, invoice::Column::Id, request, |i| Cursor::row(i.issued_at, i.id))
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> DomainResult<Option<invoice::Model>> {
    actor.require(Permission::Billing)?;
    Ok(invoice::Entity::find_by_id(id).one(db).await?)
}

/// An invoice's lines in invoice order and its payments oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InvoiceItems {
    pub lines: Vec<invoice_line::Model>,
    pub payments: Vec<payment::Model>,
}

/// A line or a payment, as the job detail's union reads them (`jobs::get_detail`).
pub(super) type LineOrPayment = (Option<invoice_line::Model>, Option<payment::Model>);

impl InvoiceItems {
    /// The union's rows (in no order) as the API lists them.
    pub(super) fn from_rows(rows: impl IntoIterator<Item = LineOrPayment>) -> Self {
        let mut items = InvoiceItems::default();
        for (line, payment) in rows {
            items.lines.extend(line);
            items.payments.extend(payment);
        }
        items.lines.sort_by_key(|line| line.position);
        items.payments.sort_by_key(|payment| (payment.received_at, payment.id));
        items
    }
}

/// `jobFinancials(jobId)`: the row of the `job_financials` view.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn financials(
    db: &impl ConnectionTrait,
    actor: &Actor,
    job_id: Uuid,
) -> DomainResult<Option<job_financials::Model>> {
    actor.require(Permission::Billing)?;
    Ok(job_financials::Entity::find_by_id(job_id).one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_amounts_round_half_up() {
        let line = |q, p| Line {
            kind: InvoiceLineKind::Material,
            description: String::new(),
            quantity_hundredths: q,
            unit_price_cents: p,
        };
        assert_eq!(line(150, 1999).amount_cents().unwrap(), 2999); // 1.5 × 19.99 = 29.985
        assert_eq!(line(100, 4000).amount_cents().unwrap(), 4000);
    }

    #[test]
    fn invoice_items_are_listed_lines_by_position_and_payments_oldest_first() {
        let invoice_id = Uuid::new_v4();
        let line = |position| invoice_line::Model {
            id: Uuid::new_v4(),
            invoice_id,
            position,
            kind: InvoiceLineKind::Labor,
            description: format!("line {position}"),
            quantity_hundredths: 100,
            unit_price_cents: 100,
            amount_cents: 100,
        };
        let at = |seconds| chrono::DateTime::from_timestamp(seconds, 0).unwrap();
        let payment = |seconds| payment::Model {
            id: Uuid::new_v4(),
            invoice_id,
            amount_cents: 1,
            method: PaymentMethod::Cash,
            reference: None,
            idempotency_key: None,
            received_at: at(seconds),
            recorded_by: None,
        };
        let rows = vec![
            (None, Some(payment(30))),
            (Some(line(2)), None),
            (None, Some(payment(10))),
            (Some(line(0)), None),
            (Some(line(1)), None),
        ];
        let items = InvoiceItems::from_rows(rows);
        assert_eq!(items.lines.iter().map(|l| l.position).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(items.payments.iter().map(|p| p.received_at).collect::<Vec<_>>(), [at(10), at(30)]);
        assert_eq!(InvoiceItems::from_rows(Vec::new()), InvoiceItems::default());
    }
}
