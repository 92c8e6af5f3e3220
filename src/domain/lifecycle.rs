//! The job lifecycle: the only place that says which status moves are legal.
//!
//! PENDING → SCHEDULED → IN_PROGRESS → COMPLETED → INVOICED, SCHEDULED →
//! SCHEDULED (reassignment), SCHEDULED → PENDING (unassign), and CANCELLED
//! from PENDING or SCHEDULED.

use super::error::{DomainError, DomainResult};
use crate::entities::enums::JobStatus::{self, *};

pub fn allowed(from: JobStatus, to: JobStatus) -> bool {
    matches!(
        (from, to),
        (Pending, Scheduled)
            | (Scheduled, Scheduled)
            | (Scheduled, Pending)
            | (Scheduled, InProgress)
            | (InProgress, Completed)
            | (Completed, Invoiced)
            | (Pending, Cancelled)
            | (Scheduled, Cancelled)
    )
}

/// INVALID_TRANSITION (with `from` and `to`) unless the move is legal.
pub fn check(from: JobStatus, to: JobStatus) -> DomainResult<()> {
    if allowed(from, to) {
        Ok(())
    } else {
        Err(DomainError::InvalidTransition { from: from.as_str(), to: to.as_str() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_table() {
        assert!(check(Pending, Scheduled).is_ok());
        assert!(check(Scheduled, InProgress).is_ok());
        assert!(check(Pending, InProgress).is_err());
        assert!(check(InProgress, Cancelled).is_err());
        assert!(check(Invoiced, Pending).is_err());
        assert!(check(Cancelled, Scheduled).is_err());
        match check(Completed, Cancelled) {
            Err(DomainError::InvalidTransition { from, to }) => assert_eq!((from, to), ("COMPLETED", "CANCELLED")),
            other => panic!("{other:?}"),
        }
    }
}
