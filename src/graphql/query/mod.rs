//! Query root, merged from one object per area.

mod account;
mod billing;
mod customers;
mod dispatch;
mod jobs;
mod schedules;
mod technicians;
mod webhooks;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    account::AccountQuery,
    customers::CustomerQuery,
    technicians::TechnicianQuery,
    jobs::JobQuery,
    schedules::ScheduleQuery,
    billing::BillingQuery,
    dispatch::DispatchQuery,
    webhooks::WebhookQuery,
);
