//! SeaORM entities, one file per table or view. Rules live in the database
//! (see `migration/sql`) and in `crate::domain`, not here.

pub mod bootstrap;
pub mod connection;
pub mod counter;
pub mod customer;
pub mod enums;
pub mod guard;
pub mod invoice;
pub mod invoice_line;
pub mod job;
pub mod job_assignment;
pub mod job_financials;
pub mod journal_entry;
pub mod limit;
pub mod payment;
pub mod positional;
pub mod read_pool;
pub mod schedule;
pub mod technician;
pub mod technician_upcoming_job;
pub mod template;
pub mod user;
pub mod webhook;
pub mod webhook_delivery;
