//! DataLoaders: nested fields batch their lookups, so a list costs a fixed
//! number of statements whatever its length.

use std::collections::HashMap;
use std::sync::Arc;

use crate::entities::connection::RequestConnection;
use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use crate::domain::jobs::{JobRow, JobScope};
use crate::domain::page::{Page, PageRequest};
use crate::domain::schedules::{EntryWithJob, UpcomingWithJob};
use crate::domain::{Actor, DomainError};
use crate::domain::{job_pages, lookups, webhooks};
use crate::entities::enums::DeliveryStatus;
use crate::entities::webhook_delivery;
use chrono::{DateTime, Utc};

use crate::entities::{
    customer, invoice, invoice_line, job, job_assignment, job_financials, payment, technician, user,
};

/// Whom a request's loaders load for: the domain lookups leave out what
/// the caller may not see. Anonymous callers see nothing nested.
#[derive(Clone)]
pub struct Viewer {
    db: RequestConnection,
    actor: Option<Actor>,
}

/// A loader of rows by a UUID key (`key` reads it off a row), through a
/// batched domain lookup.
macro_rules! uuid_loader {
    ($name:ident, $module:ident, $lookup:path, $key:expr) => {
        pub struct $name(Viewer);

        impl Loader<Uuid> for $name {
            type Value = $module::Model;
            type Error = Arc<DomainError>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                let Some(actor) = &self.0.actor else { return Ok(HashMap::new()) };
                let rows = $lookup(&self.0.db, actor, keys).await.map_err(Arc::new)?;
                let key: fn(&$module::Model) -> Option<Uuid> = $key;
                Ok(rows.into_iter().filter_map(|row| key(&row).map(|k| (k, row))).collect())
            }
        }
    };
}

uuid_loader!(UserById, user, lookups::users, |row| Some(row.id));
uuid_loader!(TechnicianById, technician, lookups::technicians, |row| Some(row.id));
uuid_loader!(TechnicianByUser, technician, lookups::technicians_of_users, |row| row.user_id);
uuid_loader!(CustomerById, customer, lookups::customers, |row| Some(row.id));
uuid_loader!(JobById, job, lookups::jobs, |row| Some(row.id));
uuid_loader!(AssignmentByJob, job_assignment, lookups::assignments_of_jobs, |row| Some(row.job_id));
uuid_loader!(InvoiceById, invoice, lookups::invoices, |row| Some(row.id));
uuid_loader!(InvoiceByJob, invoice, lookups::invoices_of_jobs, |row| Some(row.job_id));
uuid_loader!(FinancialsByJob, job_financials, lookups::financials_of_jobs, |row| Some(row.job_id));
uuid_loader!(PaymentById, payment, lookups::payments, |row| Some(row.id));

/// A loader of the rows belonging to each key (one-to-many), in the
/// lookup's order.
macro_rules! group_loader {
    ($name:ident, $module:ident, $lookup:path, $key:expr) => {
        pub struct $name(Viewer);

        impl Loader<Uuid> for $name {
            type Value = Vec<$module::Model>;
            type Error = Arc<DomainError>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                let Some(actor) = &self.0.actor else { return Ok(HashMap::new()) };
                let rows = $lookup(&self.0.db, actor, keys).await.map_err(Arc::new)?;
                let key: fn(&$module::Model) -> Uuid = $key;
                let mut groups: HashMap<Uuid, Self::Value> = HashMap::new();
                for row in rows {
                    groups.entry(key(&row)).or_default().push(row);
                }
                Ok(groups)
            }
        }
    };
}

group_loader!(LinesByInvoice, invoice_line, lookups::lines_of_invoices, |row| row.invoice_id);
group_loader!(PaymentsByInvoice, payment, lookups::payments_of_invoices, |row| row.invoice_id);

/// Upcoming work per technician, each row with its job (one statement).
pub struct UpcomingByTechnician(Viewer);

impl Loader<Uuid> for UpcomingByTechnician {
    type Value = Vec<UpcomingWithJob>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let Some(actor) = &self.0.actor else { return Ok(HashMap::new()) };
        let rows = lookups::upcoming_of_technicians(&self.0.db, actor, keys).await.map_err(Arc::new)?;
        let mut groups: HashMap<Uuid, Self::Value> = HashMap::new();
        for row in rows {
            groups.entry(row.0.technician_id).or_default().push(row);
        }
        Ok(groups)
    }
}

/// Calendar entries per (technician, from, to), each with its job: one
/// statement per distinct window, for all technicians asking for it
/// (`Technician.schedule` in a list).
pub struct ScheduleByTechnician(Viewer);

pub type CalendarKey = (Uuid, DateTime<Utc>, DateTime<Utc>);

impl Loader<CalendarKey> for ScheduleByTechnician {
    type Value = Vec<EntryWithJob>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[CalendarKey]) -> Result<HashMap<CalendarKey, Self::Value>, Self::Error> {
        let Some(actor) = &self.0.actor else { return Ok(HashMap::new()) };
        let mut windows: HashMap<(DateTime<Utc>, DateTime<Utc>), Vec<Uuid>> = HashMap::new();
        for (technician, from, to) in keys {
            windows.entry((*from, *to)).or_default().push(*technician);
        }
        let mut found: HashMap<CalendarKey, Self::Value> = HashMap::new();
        for ((from, to), technicians) in windows {
            let rows =
                lookups::calendars_of_technicians(&self.0.db, actor, &technicians, from, to).await.map_err(Arc::new)?;
            for row in rows {
                found.entry((row.0.technician_id, from, to)).or_default().push(row);
            }
        }
        Ok(found)
    }
}

/// First pages of customers' job lists (`Customer.jobs` in a list of
/// customers): one statement per distinct page size and scope.
pub struct FirstJobsByCustomer(Viewer);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerJobsKey {
    pub customer_id: Uuid,
    pub first: u64,
    pub scope: JobScope,
    pub count_total: bool,
}

impl Loader<CustomerJobsKey> for FirstJobsByCustomer {
    type Value = Page<JobRow>;
    type Error = Arc<DomainError>;

    async fn load(&self, keys: &[CustomerJobsKey]) -> Result<HashMap<CustomerJobsKey, Self::Value>, Self::Error> {
        let mut batches: HashMap<(u64, JobScope, bool), Vec<Uuid>> = HashMap::new();
        for key in keys {
            batches.entry((key.first, key.scope, key.count_total)).or_default().push(key.customer_id);
        }
        let mut found = HashMap::new();
        for ((first, scope, count_total), customers) in batches {
            let pages = job_pages::first_pages_by_customer(&self.0.db, scope, &customers, first, count_total)
                .await
                .map_err(Arc::new)?;
            for (customer_id, page) in pages {
                found.insert(CustomerJobsKey { customer_id, first, scope, count_total }, page);
            }
        }
        Ok(found)
    }
}

/// First pages of webhooks' deliveries (`Webhook.deliveries` in a list of
/// webhooks): one statement per distinct page size and status filter.
pub struct FirstDeliveriesByWebhook(Viewer);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WebhookDeliveriesKey {
    pub webhook_id: Uuid,
    pub first: u64,
    pub status: Option<DeliveryStatus>,
    pub count_total: bool,
}

impl Loader<WebhookDeliveriesKey> for FirstDeliveriesByWebhook {
    type Value = Page<webhook_delivery::Model>;
    type Error = Arc<DomainError>;

    async fn load(
        &self,
        keys: &[WebhookDeliveriesKey],
    ) -> Result<HashMap<WebhookDeliveriesKey, Self::Value>, Self::Error> {
        let Some(actor) = &self.0.actor else { return Ok(HashMap::new()) };
        let mut batches: HashMap<(u64, Option<DeliveryStatus>, bool), Vec<Uuid>> = HashMap::new();
        for key in keys {
            batches.entry((key.first, key.status, key.count_total)).or_default().push(key.webhook_id);
        }
        let mut found = HashMap::new();
        for ((first, status, count_total), webhooks) in batches {
            let request = PageRequest { first, after: None, count_total };
            let pages = webhooks::first_delivery_pages(&self.0.db, actor, &webhooks, request, status)
                .await
                .map_err(Arc::new)?;
            for (webhook_id, page) in pages {
                found.insert(WebhookDeliveriesKey { webhook_id, first, status, count_total }, page);
            }
        }
        Ok(found)
    }
}

/// All loaders of one request (created per request: results are not cached
/// across requests, so nobody sees stale or foreign data).
pub struct Loaders {
    pub user_by_id: DataLoader<UserById>,
    pub technician_by_id: DataLoader<TechnicianById>,
    pub technician_by_user: DataLoader<TechnicianByUser>,
    pub customer_by_id: DataLoader<CustomerById>,
    pub job_by_id: DataLoader<JobById>,
    pub assignment_by_job: DataLoader<AssignmentByJob>,
    pub invoice_by_id: DataLoader<InvoiceById>,
    pub invoice_by_job: DataLoader<InvoiceByJob>,
    pub financials_by_job: DataLoader<FinancialsByJob>,
    pub payment_by_id: DataLoader<PaymentById>,
    pub lines_by_invoice: DataLoader<LinesByInvoice>,
    pub payments_by_invoice: DataLoader<PaymentsByInvoice>,
    pub upcoming_by_technician: DataLoader<UpcomingByTechnician>,
    pub schedule_by_technician: DataLoader<ScheduleByTechnician>,
    pub first_jobs_by_customer: DataLoader<FirstJobsByCustomer>,
    pub first_deliveries_by_webhook: DataLoader<FirstDeliveriesByWebhook>,
    /// What this request's resolvers and loaders read through.
    pub connection: RequestConnection,
}

impl Loaders {
    /// `viewer`: the caller (None: anonymous).
    pub fn new(connection: RequestConnection, viewer: Option<Actor>) -> Self {
        let viewer = Viewer { db: connection.clone(), actor: viewer };
        let load = |v: &Viewer| v.clone();
        Loaders {
            user_by_id: DataLoader::new(UserById(load(&viewer)), tokio::spawn),
            technician_by_id: DataLoader::new(TechnicianById(load(&viewer)), tokio::spawn),
            technician_by_user: DataLoader::new(TechnicianByUser(load(&viewer)), tokio::spawn),
            customer_by_id: DataLoader::new(CustomerById(load(&viewer)), tokio::spawn),
            job_by_id: DataLoader::new(JobById(load(&viewer)), tokio::spawn),
            assignment_by_job: DataLoader::new(AssignmentByJob(load(&viewer)), tokio::spawn),
            invoice_by_id: DataLoader::new(InvoiceById(load(&viewer)), tokio::spawn),
            invoice_by_job: DataLoader::new(InvoiceByJob(load(&viewer)), tokio::spawn),
            financials_by_job: DataLoader::new(FinancialsByJob(load(&viewer)), tokio::spawn),
            payment_by_id: DataLoader::new(PaymentById(load(&viewer)), tokio::spawn),
            lines_by_invoice: DataLoader::new(LinesByInvoice(load(&viewer)), tokio::spawn),
            payments_by_invoice: DataLoader::new(PaymentsByInvoice(load(&viewer)), tokio::spawn),
            upcoming_by_technician: DataLoader::new(UpcomingByTechnician(load(&viewer)), tokio::spawn),
            schedule_by_technician: DataLoader::new(ScheduleByTechnician(load(&viewer)), tokio::spawn),
            first_jobs_by_customer: DataLoader::new(FirstJobsByCustomer(load(&viewer)), tokio::spawn),
            first_deliveries_by_webhook: DataLoader::new(FirstDeliveriesByWebhook(viewer), tokio::spawn),
            connection,
        }
    }
}

/// Loader errors are shared (`Arc`); give the resolver its own copy.
pub fn shared(err: Arc<DomainError>) -> DomainError {
    (*err).clone()
}
