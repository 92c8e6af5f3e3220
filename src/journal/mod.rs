//! The journal: every change is one `logs` row, written in the change's own
//! transaction (`write::Journaled`), typed as a `Change` (`change.rs`), and
//! read back in one place (`entry.rs`). The bus (`bus.rs`, `feed.rs`,
//! `listener.rs`) tails it and hands entries to subscribers in id order.
//!
//! Sits below the domain: it names entities and SeaORM, never the domain.

pub mod bus;
pub mod change;
pub mod entry;
pub mod feed;
mod listener;
pub mod snapshots;
pub mod write;

pub use bus::{Event, EventBus};
pub use change::{Change, EntityType};
pub use entry::Entry;
pub use write::Journaled;
