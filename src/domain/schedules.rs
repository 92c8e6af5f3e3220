//! Technicians' calendars: AVAILABLE and UNAVAILABLE entries made by hand,
//! JOB entries that follow assignments, availability and upcoming work.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, QueryTrait, RelationTrait, Select, Statement,
    Value,
};

use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{Conflicting, DomainError, DomainResult};
use super::{access, clock, jobs, validate, windows};
use crate::entities::enums::ScheduleKind;
use crate::entities::positional::{Row, select_columns};
use crate::entities::template::Templates;
use crate::entities::{job, job_assignment, schedule, technician, technician_upcoming_job};
use crate::journal::Change;
use crate::journal::change::ScheduleData;

pub struct NewEntry {
    pub technician_id: Uuid,
    pub kind: ScheduleKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// Staff manage anyone's calendar; a technician only its own.
fn require_calendar(actor: &Actor, technician_id: Uuid) -> DomainResult<()> {
    if actor.can(Permission::ManageAnySchedule) {
        return Ok(());
    }
    actor.require(Permission::ManageOwnSchedule)?;
    if actor.technician_id == Some(technician_id) { Ok(()) } else { Err(DomainError::Forbidden) }
}

/// The longest calendar window one `schedule` read may span.
pub const MAX_CALENDAR_WINDOW: chrono::TimeDelta = chrono::TimeDelta::days(92);
/// The longest window `availableTechnicians` looks at (an assignment's limit).
pub const MAX_AVAILABILITY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// The most rows `upcomingJobs` answers, per technician.
pub const MAX_UPCOMING: u64 = 100;

/// `from < to`, at most `longest` apart; else BAD_USER_INPUT naming `field`.
fn check_window(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    field: &'static str,
    longest: chrono::TimeDelta,
) -> DomainResult<()> {
    if from >= to {
        return Err(DomainError::bad_input(field, format!("{field} must be after the start")));
    }
    if to - from > longest {
        let span = if longest.num_hours() <= 24 {
            format!("{} hours", longest.num_hours())
        } else {
            format!("{} days", longest.num_days())
        };
        return Err(DomainError::bad_input(field, format!("the window may span at most {span}")));
    }
    Ok(())
}

/// A calendar window a caller may ask for: `from < to`, at most 92 days.
pub fn check_calendar_window(from: DateTime<Utc>, to: DateTime<Utc>) -> DomainResult<()> {
    check_window(from, to, "to", MAX_CALENDAR_WINDOW)
}

/// A calendar entry with its job's card (kind JOB), read in one statement.
pub type EntryWithJob = (schedule::Model, Option<job::Card>);
/// A row of the upcoming-jobs view with its job, read in one statement.
pub type UpcomingWithJob = (technician_upcoming_job::Model, Option<job::Model>);

/// Every entry overlapping `[from, to)`, ordered by start.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    technician_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<EntryWithJob>> {
    if !access::sees_calendar(actor, technician_id) {
        return Err(DomainError::Forbidden);
    }
    check_window(from, to, "to", MAX_CALENDAR_WINDOW)?;
    entries_of(db, &[technician_id], from, to).await
}

/// The entries of these technicians overlapping `[from, to)`, ordered by
/// start, each with its job (one statement; the caller has checked access).
pub async fn entries_of(
    db: &impl ConnectionTrait,
    technician_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> DomainResult<Vec<EntryWithJob>> {
    let statement = entries_statement(db.get_database_backend(), technician_ids, from, to);
    let rows = Row::<EntryWithJob>::find_by_statement(statement).all(db).await?;
    Ok(rows.into_iter().map(|Row(row)| row).collect())
}

/// `entries_select`'s statement, its text built once per count of
/// technicians (building it was a twentieth of a week's work).
fn entries_statement(
    backend: DatabaseBackend,
    technician_ids: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Statement {
    let mut values: Vec<Value> = technician_ids.iter().map(|&id| id.into()).collect();
    values.extend([to.into(), from.into()]);
    ENTRIES.statement(technician_ids.len(), backend, values, || entries_select(technician_ids, from, to).build(backend))
}

static ENTRIES: LazyLock<Templates<usize>> = LazyLock::new(Templates::new);

/// `entries_of`'s statement: both models selected in `EntryWithJob` order,
/// to be read by position. Public for the test that holds its plan to the
/// (technician, end) index.
pub fn entries_select(technician_ids: &[Uuid], from: DateTime<Utc>, to: DateTime<Utc>) -> Select<schedule::Entity> {
    let joined = schedule::Entity::find().select_only().join(JoinType::LeftJoin, schedule::Relation::Job.def());
    select_columns::<job::Card, _>(select_columns::<schedule::Model, _>(joined))
        .filter(schedule::Column::TechnicianId.is_in(technician_ids.iter().copied()))
        .filter(windows::overlapping(schedule::Column::StartsAt, schedule::Column::EndsAt, from, to))
        .order_by_asc(schedule::Column::StartsAt)
        .order_by_asc(schedule::Column::Id)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(db: &DatabaseConnection, actor: &Actor, input: NewEntry) -> DomainResult<schedule::Model> {
    require_calendar(actor, input.technician_id)?;
    if input.kind == ScheduleKind::Job {
        return Err(DomainError::bad_input("kind", "JOB entries come from assignJob"));
    }
    let starts_at = clock::truncate(input.starts_at);
    let ends_at = clock::truncate(input.ends_at);
    check_window(starts_at, ends_at, "endsAt", chrono::TimeDelta::MAX)?;
    let note = validate::optional_text("note", input.note.as_deref(), validate::TEXT_MAX)?;
    let entry = schedule::ActiveModel {
        id: Set(Uuid::new_v4()),
        technician_id: Set(input.technician_id),
        kind: Set(input.kind),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        note: Set(note),
        job_id: Set(None),
        created_at: Set(clock::now()),
    };
    let txn = super::write(db, actor).await?;
    // The technician's row is the calendar's lock: `assignJob` takes it too,
    // so the check below and the insert cannot interleave with a booking.
    technician::Entity::find_by_id(input.technician_id)
        .lock_exclusive()
        .one(&*txn)
        .await?
        .ok_or(DomainError::NotFound("technician"))?;
    if input.kind == ScheduleKind::Unavailable {
        // Booked work must be moved first: an UNAVAILABLE entry never hides a job.
        if let Some(booked) = jobs::overlapping_assignment(&*txn, input.technician_id, starts_at, ends_at, None).await?
        {
            return Err(DomainError::conflict_with(
                "the technician has a job in that window",
                Conflicting::Job(booked.job_id),
            ));
        }
    }
    let created = entry.insert(&*txn).await?;
    txn.commit(created.id, Change::ScheduleCreated(journalled(&created))).await?;
    Ok(created)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> DomainResult<bool> {
    let entry = schedule::Entity::find_by_id(id).one(db).await?.ok_or(DomainError::NotFound("schedule entry"))?;
    if !access::sees_calendar(actor, entry.technician_id) {
        return Err(DomainError::NotFound("schedule entry"));
    }
    require_calendar(actor, entry.technician_id)?;
    if entry.kind == ScheduleKind::Job {
        return Err(DomainError::bad_input("id", "JOB entries go with their assignment: use unassignJob"));
    }
    let txn = super::write(db, actor).await?;
    schedule::Entity::delete_by_id(entry.id).exec(&*txn).await?;
    txn.commit(entry.id, Change::ScheduleDeleted(journalled(&entry))).await?;
    Ok(true)
}

/// Calendar entries are journalled like every other change: the audit
/// trail shows them, and the journal's newest id versions all data.
fn journalled(entry: &schedule::Model) -> ScheduleData {
    ScheduleData {
        technician_id: entry.technician_id,
        kind: entry.kind,
        starts_at: entry.starts_at,
        ends_at: entry.ends_at,
    }
}

/// Active technicians with the skill and nothing booked or blocked in the window.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn available_technicians(
    db: &impl ConnectionTrait,
    actor: &Actor,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    min_skill_level: Option<i32>,
) -> DomainResult<Vec<technician::Model>> {
    actor.require(Permission::ManageTechnicians)?;
    check_window(starts_at, ends_at, "endsAt", MAX_AVAILABILITY_WINDOW)?;
    let busy = Query::select()
        .column(job_assignment::Column::TechnicianId)
        .from(job_assignment::Entity)
        .cond_where(windows::booked(starts_at, ends_at))
        .to_owned();
    let blocked = Query::select()
        .column(schedule::Column::TechnicianId)
        .from(schedule::Entity)
        .cond_where(windows::unavailable(starts_at, ends_at))
        .to_owned();
    Ok(technician::Entity::find()
        .filter(technician::Column::Active.eq(true))
        .filter(technician::Column::SkillLevel.gte(min_skill_level.unwrap_or(1)))
        .filter(technician::Column::Id.not_in_subquery(busy))
        .filter(technician::Column::Id.not_in_subquery(blocked))
        .order_by_asc(technician::Column::Name)
        .order_by_asc(technician::Column::Id)
        .all(db)
        .await?)
}

/// Rows of `technician_upcoming_jobs`: one technician's, or (staff) everyone's.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn upcoming_jobs(
    db: &impl ConnectionTrait,
    actor: &Actor,
    technician_id: Option<Uuid>,
) -> DomainResult<Vec<UpcomingWithJob>> {
    let technician_id = match technician_id {
        Some(id) if access::sees_calendar(actor, id) => Some(id),
        Some(_) => return Err(DomainError::Forbidden),
        None if actor.can(Permission::ReadAllTechnicians) => None,
        None => Some(actor.technician_id.ok_or(DomainError::Forbidden)?),
    };
    upcoming_of(db, technician_id.as_ref().map(std::slice::from_ref)).await
}

/// Upcoming work of these technicians (all when None), soonest first, each
/// row with its job (one statement; the caller has checked access): the
/// next `MAX_UPCOMING` per technician, or in all when None.
pub async fn upcoming_of(
    db: &impl ConnectionTrait,
    technician_ids: Option<&[Uuid]>,
) -> DomainResult<Vec<UpcomingWithJob>> {
    let mut select = technician_upcoming_job::Entity::find().find_also_related(job::Entity);
    match technician_ids {
        Some(ids) => {
            let numbered = Query::select()
                .column(technician_upcoming_job::Column::JobId)
                .expr_as(
                    Expr::cust("ROW_NUMBER() OVER (PARTITION BY technician_id ORDER BY starts_at, job_id)"),
                    Alias::new("soonest_rank"),
                )
                .from(technician_upcoming_job::Entity)
                .and_where(technician_upcoming_job::Column::TechnicianId.is_in(ids.iter().copied()))
                .to_owned();
            let next = Query::select()
                .column(Alias::new("job_id"))
                .from_subquery(numbered, Alias::new("numbered"))
                .and_where(Expr::col(Alias::new("soonest_rank")).lte(MAX_UPCOMING as i64))
                .to_owned();
            select = select
                .filter(technician_upcoming_job::Column::TechnicianId.is_in(ids.iter().copied()))
                .filter(technician_upcoming_job::Column::JobId.in_subquery(next));
        }
        None => select = select.limit(MAX_UPCOMING),
    }
    Ok(select
        .order_by_asc(technician_upcoming_job::Column::StartsAt)
        .order_by_asc(technician_upcoming_job::Column::JobId)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Built once per count of technicians and backend, and reused as a
    /// fresh build would give it.
    #[test]
    fn calendars_are_built_once_per_count_of_technicians() {
        for backend in [DatabaseBackend::Postgres, DatabaseBackend::Sqlite] {
            for n in [1u32, 2] {
                let from = Utc.with_ymd_and_hms(2026, 12, n, 0, 0, 0).unwrap();
                let to = from + chrono::Duration::days(7);
                for count in [1, 3] {
                    let ids: Vec<Uuid> = (0..count).map(|i| Uuid::from_u128(u128::from(n) * 10 + i)).collect();
                    let statement = entries_statement(backend, &ids, from, to);
                    assert_eq!(statement, entries_select(&ids, from, to).build(backend), "{backend:?}");
                    assert!(ENTRIES.kept(&ids.len(), backend), "{count} on {backend:?}");
                }
            }
        }
    }
}
