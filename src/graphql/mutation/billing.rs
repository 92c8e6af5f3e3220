use async_graphql::{Context, ID, InputObject, Object, Result};
use rust_decimal::Decimal;

use crate::domain::DomainError;
use crate::domain::billing::{self, NewPayment};
use crate::domain::completion::{self, Completion, Material};
use crate::graphql::context::ContextExt;
use crate::graphql::enums::PaymentMethod;
use crate::graphql::ids;
use crate::graphql::lenient::{Lenient, read_optional};
use crate::graphql::types::{Job, Payment};

#[derive(InputObject)]
pub struct MaterialInput {
    pub description: String,
    pub quantity: Lenient<Decimal>,
    pub unit_price: Lenient<Decimal>,
}

#[derive(InputObject, Default)]
pub struct CompleteJobInput {
    pub notes: Option<String>,
    /// Default: worked time, startedAt..completedAt, rounded up to 0.25 h.
    pub labor_hours: Option<Lenient<Decimal>>,
    pub materials: Option<Vec<MaterialInput>>,
}

#[derive(InputObject)]
pub struct RecordPaymentInput {
    pub invoice_id: ID,
    pub amount: Lenient<Decimal>,
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
            labor_hours: read_optional(input.labor_hours, "laborHours")?,
            materials: input
                .materials
                .unwrap_or_default()
                .into_iter()
                .map(|m| {
                    Ok(Material {
                        description: m.description,
                        quantity: m.quantity.read("quantity")?,
                        unit_price: m.unit_price.read("unitPrice")?,
                    })
                })
                .collect::<Result<_, DomainError>>()?,
        };
        Ok(Job::new(completion::complete(ctx.pool(), actor, ids::parse(&job_id), completion).await?))
    }

    async fn record_payment(&self, ctx: &Context<'_>, input: RecordPaymentInput) -> Result<Payment> {
        let actor = ctx.actor()?;
        let payment = NewPayment {
            invoice_id: ids::parse(&input.invoice_id),
            amount: input.amount.read("amount")?,
            method: input.method.into(),
            reference: input.reference,
            idempotency_key: input.idempotency_key,
        };
        Ok(Payment(billing::record_payment(ctx.pool(), actor, payment).await?))
    }
}
