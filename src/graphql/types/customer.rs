use std::borrow::Cow;

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::record::{Record, either, read_at_hand, read_field};
use super::{Job, JobConnection, on_heap};
use crate::domain::jobs::{self, JobFilter};
use crate::domain::page::{Page, PageRequest};
use crate::entities::customer;
use crate::entities::positional::Unread;
use crate::graphql::at_hand::{FieldsAtHand, Selected, Written};
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::loaders::{CustomerJobsKey, shared};

#[derive(Clone)]
pub struct Customer(Record<customer::Model, customer::Card>);

impl Customer {
    /// Fields that need more than the customer's card (`customer::Card`).
    pub const WHOLE_ONLY: &[&str] = &["latitude", "longitude", "createdAt", "updatedAt"];

    pub fn new(model: customer::Model) -> Self {
        Customer(Record::Whole(model))
    }

    /// A card, `unread`'s fields left unread (loaded whole when asked).
    pub fn card(card: customer::Card, unread: Unread<customer::Card>) -> Self {
        Customer(Record::Card(card, unread))
    }

    pub fn row_id(&self) -> Uuid {
        *either!(self.0, id)
    }

    /// Every column (loaded, batched, when only the card was read).
    async fn whole(&self, ctx: &Context<'_>) -> Result<Cow<'_, customer::Model>> {
        Ok(self.0.whole("customer", |card| ctx.loaders().customer_by_id.load_one(card.id)).await?)
    }
}

#[Object]
impl Customer {
    async fn id(&self) -> ID {
        ids::of(self.row_id())
    }
    async fn name(&self) -> &str {
        either!(self.0, name)
    }
    async fn email(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        read_field!(self, ctx, email)
    }
    async fn phone(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        read_field!(self, ctx, phone)
    }
    async fn address(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        read_field!(self, ctx, address)
    }
    async fn latitude(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.whole(ctx).await?.latitude)
    }
    async fn longitude(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        Ok(self.whole(ctx).await?.longitude)
    }
    async fn created_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.whole(ctx).await?.created_at)
    }
    async fn updated_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.whole(ctx).await?.updated_at)
    }
    /// This customer's jobs, newest first (a technician sees only its own).
    async fn jobs(&self, ctx: &Context<'_>, first: Option<i32>, after: Option<String>) -> Result<JobConnection> {
        // On the heap: the page's future would size every Customer field's.
        on_heap(async move {
            let actor = ctx.actor()?;
            let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
            if request.after.is_none() {
                // First pages of all customers in a list load together.
                let key = CustomerJobsKey {
                    customer_id: self.row_id(),
                    first: request.first,
                    scope: jobs::scope(actor)?,
                    count_total: request.count_total,
                };
                let page = ctx.loaders().first_jobs_by_customer.load_one(key).await.map_err(shared)?;
                let page = page.unwrap_or_else(|| Page::empty(request));
                return Ok(JobConnection::from_page(page, |row| {
                    let mut job = Job::with_assignment(row);
                    job.customer = Some(self.clone());
                    job
                }));
            }
            let filter = JobFilter { customer_id: Some(self.row_id()), ..Default::default() };
            let page = jobs::list(ctx.db(), actor, request, filter).await?;
            Ok(JobConnection::from_page(crate::graphql::preload::job_page(ctx, page).await?, |job| job))
        })
        .await
    }
}

impl FieldsAtHand for Customer {
    fn field_at_hand(&self, name: &str, _: Selected<'_>, out: &mut Written) -> Option<()> {
        let whole = || self.0.whole_at_hand();
        match name {
            "id" => out.id(self.row_id()),
            "name" => out.text(either!(self.0, name)),
            "email" => out.optional_text(read_at_hand!(self.0, email)?),
            "phone" => out.optional_text(read_at_hand!(self.0, phone)?),
            "address" => out.optional_text(read_at_hand!(self.0, address)?),
            "latitude" => out.optional(&whole()?.latitude),
            "longitude" => out.optional(&whole()?.longitude),
            "createdAt" => out.datetime(&whole()?.created_at),
            "updatedAt" => out.datetime(&whole()?.updated_at),
            _ => return None,
        }
        Some(())
    }
}

crate::graphql::connection::connection_types!(CustomerConnection, CustomerEdge, Customer, at_hand);
