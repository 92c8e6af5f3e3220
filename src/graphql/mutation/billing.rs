use async_graphql::{Context, ID, InputObject, Object, Result};
use rust_decimal::Decimal;

use crate::domain::billing::{self, Completion, Material, NewPayment};
use crate::entities::enums::PaymentMethod;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::types::{Job, Payment};

#[derive(InputObject)]
pub struct MaterialInput {
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
}

#[derive(InputObject, Default)]
pub struct CompleteJobInput {
    pub notes: Option<String>,
    /// Default: worked time, startedAt..completedAt, rounded up to 0.25 h.
    pub labor_hours: Option<Decimal>,
    pub materials: Option<Vec<MaterialInput>>,
}

#[derive(InputObject)]
pub struct RecordPaymentInput {
    pub invoice_id: ID,
    pub amount: Decimal,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    /// Same key + same data => the same Payment, recorded once.
    pub idempotency_key: Option<String>,
}

#[derive(Default)]
pub struct BillingMutation;

#[Object]
impl BillingMutation {
    /// IN_PROGRESS → COMPLETED → INVOICED, issuing the invoice in one transaction.
    async fn complete_job(&self, ctx: &Context<'_>, job_id: ID, input: Option<CompleteJobInput>) -> Result<Job> {
        let actor = ctx.actor()?;
        let input = input.unwrap_or_default();
        let completion = Completion {
            notes: input.notes,
            labor_hours: input.labor_hours,
            materials: input
                .materials
                .unwrap_or_default()
                .into_iter()
                .map(|m| Material { description: m.description, quantity: m.quantity, unit_price: m.unit_price })
                .collect(),
        };
        Ok(Job::new(billing::complete(ctx.db(), actor, ids::require(&job_id, "job")?, completion).await?))
    }

    async fn record_payment(&self, ctx: &Context<'_>, input: RecordPaymentInput) -> Result<Payment> {
        let actor = ctx.actor()?;
        let payment = NewPayment {
            invoice_id: ids::parse_or_nil(&input.invoice_id),
            amount: input.amount,
            method: input.method,
            reference: input.reference,
            idempotency_key: input.idempotency_key,
        };
        Ok(Payment(billing::record_payment(ctx.db(), actor, payment).await?))
    }
}
