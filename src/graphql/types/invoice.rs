use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::{Customer, Job, User};
use crate::domain::billing::InvoiceItems;
use crate::domain::{DomainError, money};
use crate::entities::{invoice, invoice_line, job_financials, payment};
use crate::graphql::at_hand::{FieldsAtHand, Selected, Written};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::{InvoiceStatus, PaymentMethod};
use crate::graphql::ids;
use crate::graphql::loaders::shared;

#[derive(Clone)]
pub struct Invoice {
    model: invoice::Model,
    /// Lines and payments read with the invoice (`jobs::get_detail`);
    /// otherwise they are loaded on demand.
    items: Option<InvoiceItems>,
}

impl Invoice {
    pub fn new(model: invoice::Model) -> Self {
        Invoice { model, items: None }
    }

    /// An invoice with its lines and payments already read.
    pub fn with_items(model: invoice::Model, items: Option<InvoiceItems>) -> Self {
        Invoice { model, items }
    }

    /// What is left to pay.
    fn due(&self) -> Decimal {
        money::from_cents(self.model.total_cents - self.model.amount_paid_cents)
    }
}

#[Object]
impl Invoice {
    async fn id(&self) -> ID {
        ids::of(self.model.id)
    }
    /// Human-readable and unique, e.g. "INV-000042".
    async fn number(&self) -> &str {
        &self.model.number
    }
    async fn job(&self, ctx: &Context<'_>) -> Result<Box<Job>> {
        let job = ctx.loaders().job_by_id.load_one(self.model.job_id).await.map_err(shared)?;
        Ok(Box::new(Job::new(job.ok_or_else(|| DomainError::internal("invoice without job"))?)))
    }
    async fn customer(&self, ctx: &Context<'_>) -> Result<Customer> {
        let customer = ctx.loaders().customer_by_id.load_one(self.model.customer_id).await.map_err(shared)?;
        Ok(Customer::new(customer.ok_or_else(|| DomainError::internal("invoice without customer"))?))
    }
    async fn status(&self) -> InvoiceStatus {
        self.model.status.into()
    }
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<InvoiceLine>> {
        if let Some(items) = &self.items {
            return Ok(items.lines.iter().cloned().map(InvoiceLine).collect());
        }
        let lines = ctx.loaders().lines_by_invoice.load_one(self.model.id).await.map_err(shared)?;
        Ok(lines.unwrap_or_default().into_iter().map(InvoiceLine).collect())
    }
    async fn total(&self) -> Decimal {
        money::from_cents(self.model.total_cents)
    }
    async fn amount_paid(&self) -> Decimal {
        money::from_cents(self.model.amount_paid_cents)
    }
    async fn balance_due(&self) -> Decimal {
        self.due()
    }
    async fn issued_at(&self) -> DateTime<Utc> {
        self.model.issued_at
    }
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.model.paid_at
    }
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<Payment>> {
        if let Some(items) = &self.items {
            return Ok(items.payments.iter().cloned().map(Payment).collect());
        }
        let payments = ctx.loaders().payments_by_invoice.load_one(self.model.id).await.map_err(shared)?;
        Ok(payments.unwrap_or_default().into_iter().map(Payment).collect())
    }
}

/// Its job and customer are loaded: not at hand; its lines and payments
/// are when read with it (`jobs::get_detail`).
impl FieldsAtHand for Invoice {
    fn field_at_hand(&self, name: &str, selected: Selected<'_>, out: &mut Written) -> Option<()> {
        let model = &self.model;
        match name {
            "id" => out.id(model.id),
            "number" => out.text(&model.number),
            "status" => out.enumerated::<InvoiceStatus>(model.status),
            "total" => out.scalar(&money::from_cents(model.total_cents)),
            "amountPaid" => out.scalar(&money::from_cents(model.amount_paid_cents)),
            "balanceDue" => out.scalar(&self.due()),
            "issuedAt" => out.datetime(&model.issued_at),
            "paidAt" => out.optional_datetime(&model.paid_at),
            "lines" => out.list(self.items.as_ref()?.lines.iter().cloned().map(InvoiceLine), selected)?,
            "payments" => out.list(self.items.as_ref()?.payments.iter().cloned().map(Payment), selected)?,
            _ => return None,
        }
        Some(())
    }
}

crate::graphql::connection::connection_types!(InvoiceConnection, InvoiceEdge, Invoice, at_hand);

#[derive(Clone)]
pub struct InvoiceLine(pub invoice_line::Model);

#[Object]
impl InvoiceLine {
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn quantity(&self) -> Decimal {
        money::from_hundredths(self.0.quantity_hundredths)
    }
    async fn unit_price(&self) -> Decimal {
        money::from_cents(self.0.unit_price_cents)
    }
    async fn amount(&self) -> Decimal {
        money::from_cents(self.0.amount_cents)
    }
}

#[derive(Clone)]
pub struct Payment(pub payment::Model);

#[Object]
impl Payment {
    async fn id(&self) -> ID {
        ids::of(self.0.id)
    }
    async fn invoice(&self, ctx: &Context<'_>) -> Result<Invoice> {
        let invoice = ctx.loaders().invoice_by_id.load_one(self.0.invoice_id).await.map_err(shared)?;
        Ok(Invoice::new(invoice.ok_or_else(|| DomainError::internal("payment without invoice"))?))
    }
    async fn amount(&self) -> Decimal {
        money::from_cents(self.0.amount_cents)
    }
    async fn method(&self) -> PaymentMethod {
        self.0.method.into()
    }
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(user_id) = self.0.recorded_by else { return Ok(None) };
        Ok(ctx.loaders().user_by_id.load_one(user_id).await.map_err(shared)?.map(User))
    }
}

/// A row of the `job_financials` view.
impl FieldsAtHand for InvoiceLine {
    fn field_at_hand(&self, name: &str, _: Selected<'_>, out: &mut Written) -> Option<()> {
        match name {
            "description" => out.text(&self.0.description),
            "quantity" => out.scalar(&money::from_hundredths(self.0.quantity_hundredths)),
            "unitPrice" => out.scalar(&money::from_cents(self.0.unit_price_cents)),
            "amount" => out.scalar(&money::from_cents(self.0.amount_cents)),
            _ => return None,
        }
        Some(())
    }
}

/// Its invoice and recorder are loaded: not at hand.
impl FieldsAtHand for Payment {
    fn field_at_hand(&self, name: &str, _: Selected<'_>, out: &mut Written) -> Option<()> {
        match name {
            "id" => out.id(self.0.id),
            "amount" => out.scalar(&money::from_cents(self.0.amount_cents)),
            "method" => out.enumerated::<PaymentMethod>(self.0.method),
            "reference" => out.optional_text(&self.0.reference),
            "receivedAt" => out.datetime(&self.0.received_at),
            _ => return None,
        }
        Some(())
    }
}

#[derive(Clone)]
pub struct JobFinancials(pub job_financials::Model);

#[Object]
impl JobFinancials {
    async fn job(&self, ctx: &Context<'_>) -> Result<Box<Job>> {
        let job = ctx.loaders().job_by_id.load_one(self.0.job_id).await.map_err(shared)?;
        Ok(Box::new(Job::new(job.ok_or_else(|| DomainError::internal("financials without job"))?)))
    }
    async fn labor_hours(&self) -> Decimal {
        money::from_hundredths(self.0.labor_hours_hundredths)
    }
    async fn labor_cost(&self) -> Decimal {
        money::from_cents(self.0.labor_cost_cents)
    }
    async fn materials_cost(&self) -> Decimal {
        money::from_cents(self.0.materials_cost_cents)
    }
    async fn invoice_total(&self) -> Option<Decimal> {
        self.0.invoice_total_cents.map(money::from_cents)
    }
    async fn amount_paid(&self) -> Decimal {
        money::from_cents(self.0.amount_paid_cents)
    }
    async fn balance_due(&self) -> Decimal {
        money::from_cents(self.0.balance_due_cents)
    }
}
