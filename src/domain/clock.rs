//! The one source of "now": UTC, truncated to microseconds so a timestamp
//! reads back from either database exactly as it was written.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A client-supplied instant at the stored precision.
pub fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}
