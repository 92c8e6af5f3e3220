//! Calendar windows are half-open, `[starts_at, ends_at)`: back-to-back
//! windows do not overlap. The one overlap predicate, and the two things a
//! booking must not overlap (a live assignment, an UNAVAILABLE entry), as
//! conditions every query uses: `assignJob`, `createScheduleEntry`,
//! `availableTechnicians` and the calendars all ask the same question.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition};

use crate::entities::enums::ScheduleKind;
use crate::entities::{job_assignment, schedule};

/// Rows whose `[starts, ends)` overlaps `[from, to)`.
pub fn overlapping<C: ColumnTrait>(starts: C, ends: C, from: DateTime<Utc>, to: DateTime<Utc>) -> Condition {
    Condition::all().add(starts.lt(to)).add(ends.gt(from))
}

/// Live assignments (bookings) overlapping `[from, to)`. A booking lasts at
/// most `MAX_BOOKING` (`assignJob` refuses longer ones; PostgreSQL also has
/// a CHECK), so one that overlaps starts after `from - MAX_BOOKING`: that
/// bound lets the index on live starts read a day, not the whole past.
pub fn booked(from: DateTime<Utc>, to: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(job_assignment::Column::Live.eq(true))
        .add(overlapping(job_assignment::Column::StartsAt, job_assignment::Column::EndsAt, from, to))
        .add(job_assignment::Column::StartsAt.gt(from - MAX_BOOKING))
}

/// The longest booking: a job's window is at most 24 hours.
pub const MAX_BOOKING: chrono::Duration = chrono::Duration::hours(24);

/// UNAVAILABLE calendar entries overlapping `[from, to)`.
pub fn unavailable(from: DateTime<Utc>, to: DateTime<Utc>) -> Condition {
    Condition::all().add(schedule::Column::Kind.eq(ScheduleKind::Unavailable)).add(overlapping(
        schedule::Column::StartsAt,
        schedule::Column::EndsAt,
        from,
        to,
    ))
}
