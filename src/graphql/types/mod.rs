//! GraphQL output types: thin wrappers over entity rows whose nested fields
//! go through the request's DataLoaders.

mod assignment;
mod auth_payload;
mod customer;
mod events;
mod invoice;
mod job;
mod log_entry;
mod record;
mod schedule_entry;
mod suggestions;
mod technician;
mod user;
mod webhook;

pub use assignment::Assignment;
pub use auth_payload::AuthPayload;
pub use customer::{Customer, CustomerConnection};
pub use events::{InvoiceEvent, JobEvent};
pub use invoice::{Invoice, InvoiceConnection, InvoiceLine, JobFinancials, Payment};
pub use job::{Job, JobConnection};
pub use log_entry::{LogEntry, LogEntryConnection};
pub use schedule_entry::{ScheduleEntry, UpcomingJob};
pub use suggestions::{
    ExcludedTechnician, ExclusionReason, ScoreComponent, SuggestionWeights, TechnicianCandidate, TechnicianSuggestions,
};
pub use technician::{Technician, TechnicianConnection};
pub use user::{User, UserConnection};
pub use webhook::{Webhook, WebhookConnection, WebhookDelivery, WebhookDeliveryConnection, WebhookWithSecret};

/// A large future, moved to the heap. async-graphql sizes each field's
/// future by the largest field of its type, then allocates and copies that
/// size for every field it resolves (`id`, `name`, …, once per row of a
/// list); a resolver that awaits something large awaits it through this, so
/// its type's small fields stay small. For the same reason a field that
/// returns a `Job` (776 bytes, held while its own fields resolve) returns it
/// boxed.
fn on_heap<F: std::future::Future>(future: F) -> std::pin::Pin<Box<F>> {
    Box::pin(future)
}
