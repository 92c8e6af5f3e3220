//! Mutation root, merged from one object per area.

mod account;
mod billing;
mod customers;
mod jobs;
mod schedules;
mod technicians;
mod webhooks;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Mutation(
    account::AccountMutation,
    customers::CustomerMutation,
    technicians::TechnicianMutation,
    jobs::JobMutation,
    schedules::ScheduleMutation,
    billing::BillingMutation,
    webhooks::WebhookMutation,
);
