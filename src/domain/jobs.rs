//! Jobs and every move of their lifecycle (completion and its invoice are in
//! `billing.rs`). Each move locks the job row, checks `lifecycle`, writes the
//! change and its journal row in one transaction.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Query, UnionType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    RelationTrait, Select, Statement, Value,
};

use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::billing::InvoiceItems;
use super::error::{Conflicting, DomainError, DomainResult, Violation, violation};
use super::page::{self, Cursor, Page, PageRequest};
use super::{access, clock, lifecycle, validate, windows};
use crate::entities::enums::{JobPriority, JobStatus, ScheduleKind};
use crate::entities::positional::{Positional, Row, Unread, select_columns, select_columns_but, select_nulls};
use crate::entities::template::{Template, Templates};
use crate::entities::{customer, invoice, invoice_line, job, job_assignment, payment, schedule, technician};
use crate::journal::Change;
use crate::journal::change::{Booking, JobAssigned, JobCancelled, JobCreated, JobStarted, JobUnassigned};

pub const MAX_WINDOW: Duration = windows::MAX_BOOKING;

pub struct NewJob {
    pub customer_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub priority: JobPriority,
    pub required_skill_level: i32,
}

pub struct Assignment {
    pub job_id: Uuid,
    pub technician_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct JobFilter {
    pub statuses: Option<Vec<JobStatus>>,
    pub technician_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub scheduled_from: Option<DateTime<Utc>>,
    pub scheduled_to: Option<DateTime<Utc>>,
}

/// A job by id, unchecked: for callers that have decided access already
/// (a live event the caller may see).
pub async fn find(db: &impl ConnectionTrait, job_id: Uuid) -> DomainResult<Option<job::Model>> {
    Ok(job::Entity::find_by_id(job_id).one(db).await?)
}

/// The technician a job is assigned to now, if any.
pub async fn assigned_technician(db: &impl ConnectionTrait, job_id: Uuid) -> DomainResult<Option<Uuid>> {
    Ok(job_assignment::Entity::find()
        .filter(job_assignment::Column::JobId.eq(job_id))
        .one(db)
        .await?
        .map(|a| a.technician_id))
}

/// `job(id)`: None when missing or not the caller's to see. The current
/// assignment comes with it (one statement).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> DomainResult<Option<(job::Model, Option<job_assignment::Model>)>> {
    let found = with_assignment::<job::Model>(job::Entity::find_by_id(id)).into_model::<Row<JobRow>>().one(db).await?;
    Ok(found.map(|Row(row)| row).filter(|(_, assignment)| sees_single(actor, assignment.as_ref())))
}

/// Staff see any job; a technician only one assigned to it now.
fn sees_single(actor: &Actor, assignment: Option<&job_assignment::Model>) -> bool {
    access::sees_job(actor, assignment.map(|a| a.technician_id))
}

/// One job with its assignment, customer, assigned technician and invoice.
pub struct JobDetail {
    pub parties: JobWithParties,
    /// None for a caller who does not see billing, and for a job not invoiced.
    pub invoice: Option<invoice::Model>,
    /// The invoice's lines and payments, when asked for and there is an
    /// invoice the caller sees.
    pub invoice_items: Option<InvoiceItems>,
}

/// The job detail's row: the job, its parties and its invoice.
type DetailParts = (
    job::Model,
    Option<job_assignment::Model>,
    Option<customer::Model>,
    Option<technician::Model>,
    Option<invoice::Model>,
);

/// A row of the job detail with its invoice's items: the detail joined to
/// one payment (or none), or one invoice line with NULLs for the rest.
type DetailOrLine = (
    Option<job::Model>,
    Option<job_assignment::Model>,
    Option<customer::Model>,
    Option<technician::Model>,
    Option<invoice::Model>,
    Option<invoice_line::Model>,
    Option<payment::Model>,
);

/// `get` with the customer, the assigned technician and the invoice in one
/// statement (the job detail view); with `with_invoice_items`, the
/// invoice's lines and payments in the same statement.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_detail(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    with_invoice_items: bool,
) -> DomainResult<Option<JobDetail>> {
    let (found, items) = if with_invoice_items && access::sees_billing(actor) {
        let statement = DETAIL_WITH_ITEMS.statement(db.get_database_backend(), vec![id.into(), id.into()], || {
            detail_with_items(db.get_database_backend(), id)
        });
        let rows = Row::<DetailOrLine>::find_by_statement(statement).all(db).await?;
        match split_detail(rows.into_iter().map(|Row(row)| row).collect()) {
            Some((parts, items)) => (Some(parts), Some(items)),
            None => (None, None),
        }
    } else {
        (detail_select(id).into_model::<Row<DetailParts>>().one(db).await?.map(|Row(parts)| parts), None)
    };
    let Some((job, assignment, customer, technician, invoice)) = found else { return Ok(None) };
    if !sees_single(actor, assignment.as_ref()) {
        return Ok(None);
    }
    let invoice = invoice.filter(|_| access::sees_billing(actor));
    let invoice_items = items.filter(|_| invoice.is_some());
    Ok(Some(JobDetail { parties: (job, assignment, customer, technician), invoice, invoice_items }))
}

/// One job with its parties and invoice.
fn detail_select(id: Uuid) -> Select<job::Entity> {
    let detail = with_parties::<job::Model, customer::Model, technician::Model>(
        job::Entity::find_by_id(id),
        Unread::NONE,
        Unread::NONE,
    )
    .join(JoinType::LeftJoin, job::Relation::Invoice.def());
    select_columns::<invoice::Model, _>(detail)
}

/// `detail_with_items`'s text, built once per backend (its values: the
/// job's id, twice).
static DETAIL_WITH_ITEMS: Template = Template::new();

/// The detail's columns, then the invoice's lines and payments, as one
/// UNION ALL: the detail once per payment (once with NULLs if none), then
/// each line with NULLs for the rest. PostgreSQL types a UNION's NULL
/// columns pairwise from the left, so every column has its typed branch
/// first or second (a third branch after two NULLs would be typed text).
fn detail_with_items(backend: DatabaseBackend, id: Uuid) -> Statement {
    let detail = detail_select(id).join_rev(JoinType::LeftJoin, payment::Relation::Invoice.def());
    let detail = select_columns::<payment::Model, _>(select_nulls::<invoice_line::Model, _>(detail));
    let invoice_of_job = Query::select()
        .column(invoice::Column::Id)
        .from(invoice::Entity)
        .and_where(invoice::Column::JobId.eq(id))
        .to_owned();
    let lines =
        invoice_line::Entity::find().select_only().filter(invoice_line::Column::InvoiceId.in_subquery(invoice_of_job));
    let lines = select_columns::<invoice_line::Model, _>(select_nulls::<DetailParts, _>(lines));
    let lines = select_nulls::<payment::Model, _>(lines);
    let mut union = detail.into_query();
    union.union(UnionType::All, lines.into_query());
    backend.build(&union)
}

/// The detail (from the first row that has the job) and the items of all
/// rows; None when no row has the job (no such job).
fn split_detail(rows: Vec<DetailOrLine>) -> Option<(DetailParts, InvoiceItems)> {
    let mut parts = None;
    let mut items = Vec::with_capacity(rows.len());
    for (job, assignment, customer, technician, invoice, line, payment) in rows {
        if let Some(job) = job.filter(|_| parts.is_none()) {
            parts = Some((job, assignment, customer, technician, invoice));
        }
        items.push((line, payment));
    }
    parts.map(|parts| (parts, InvoiceItems::from_rows(items)))
}

/// Which jobs a caller's lists may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobScope {
    All,
    /// A technician's: only the jobs assigned to it (a login without a
    /// technician profile sees none: the nil id matches nothing).
    AssignedTo(Uuid),
}

pub fn scope(actor: &Actor) -> DomainResult<JobScope> {
    if actor.can(Permission::ReadAllJobs) {
        return Ok(JobScope::All);
    }
    actor.require(Permission::WorkOwnJobs)?;
    Ok(JobScope::AssignedTo(actor.technician_id.unwrap_or_else(Uuid::nil)))
}

/// A job of a list with its current assignment.
pub type JobRow = (job::Model, Option<job_assignment::Model>);
/// A job of a list with its assignment, customer and assigned technician,
/// as whole models (`JobWithParties`) or as the cards a list shows
/// (`JobCardWithParties`: 22 columns where the models have 40).
pub type Parties<J, C, T> = (J, Option<job_assignment::Model>, Option<C>, Option<T>);
pub type JobWithParties = Parties<job::Model, customer::Model, technician::Model>;
pub type JobCardWithParties = Parties<job::Card, customer::Card, technician::Card>;

/// A job read whole or as its card: where it stands in a list.
pub trait Listed {
    fn position(&self) -> Cursor;
}

impl Listed for job::Model {
    fn position(&self) -> Cursor {
        Cursor::row(self.created_at, self.id)
    }
}

impl Listed for job::Card {
    fn position(&self) -> Cursor {
        Cursor::row(self.created_at, self.id)
    }
}

/// `jobs`: newest first; a technician sees only jobs assigned to it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
    filter: JobFilter,
) -> DomainResult<Page<JobRow>> {
    let Some(select) = select_visible(actor, filter)? else { return Ok(Page::empty(request)) };
    // The current assignment comes with each job (one statement, not one per row).
    let total_count = page::total(db, &select, request).await?;
    let joined = with_assignment::<job::Model>(select);
    let statement = page::keyset(joined, job::Column::CreatedAt, job::Column::Id, request, db.get_database_backend());
    let rows = Row::<JobRow>::find_by_statement(statement).all(db).await?.into_iter().map(|Row(row)| row).collect();
    Ok(page::assemble(rows, request, total_count, |(j, _)| j.position()))
}

/// The jobs of `select` (whole or as cards: `J`) joined to their current
/// assignment, selected in that order to be read by position.
pub(super) fn with_assignment<J: Positional<Entity = job::Entity>>(select: Select<job::Entity>) -> Select<job::Entity> {
    let joined = select.select_only().join(JoinType::LeftJoin, job::Relation::Assignment.def());
    select_columns::<job_assignment::Model, _>(select_columns::<J, _>(joined))
}

/// As `list`, with each job's customer and assigned technician read whole
/// in the same statement.
pub async fn list_with_parties(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
    filter: JobFilter,
) -> DomainResult<Page<JobWithParties>> {
    parties_page(db, actor, request, filter, Unread::NONE, Unread::NONE).await
}

/// As `list_with_parties`, read as cards (the dispatch board), leaving
/// `unread`'s fields of the customer's and technician's cards unread.
pub async fn list_cards_with_parties(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
    filter: JobFilter,
    unread: PartiesUnread,
) -> DomainResult<Page<JobCardWithParties>> {
    parties_page(db, actor, request, filter, unread.customer, unread.technician).await
}

/// Fields of the parties' cards a list of jobs leaves unread.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PartiesUnread {
    pub customer: Unread<customer::Card>,
    pub technician: Unread<technician::Card>,
}

#[tracing::instrument(level = "debug", skip_all)]
async fn parties_page<J, C, T>(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
    filter: JobFilter,
    customer_unread: Unread<C>,
    technician_unread: Unread<T>,
) -> DomainResult<Page<Parties<J, C, T>>>
where
    J: Positional<Entity = job::Entity> + Listed + Send + Sync,
    C: Positional<Entity = customer::Entity> + Send + Sync,
    T: Positional<Entity = technician::Entity> + Send + Sync,
{
    let Some(filter) = visible(actor, filter)? else { return Ok(Page::empty(request)) };
    // The count's statement is only built when it is asked for.
    let total_count = if request.count_total { page::total(db, &select_filtered(&filter), request).await? } else { 0 };
    let backend = db.get_database_backend();
    let page = PartiesPage { filter: &filter, request, customer_unread, technician_unread };
    let statement = page.statement::<J>(backend);
    let rows = Row::<Parties<J, C, T>>::find_by_statement(statement).all(db).await?;
    let rows = rows.into_iter().map(|Row(row)| row).collect();
    Ok(page::assemble(rows, request, total_count, |(j, ..)| j.position()))
}

/// What a page of jobs with their parties reads.
struct PartiesPage<'a, C, T> {
    filter: &'a JobFilter,
    request: PageRequest,
    customer_unread: Unread<C>,
    technician_unread: Unread<T>,
}

impl<C, T> PartiesPage<'_, C, T>
where
    C: Positional<Entity = customer::Entity>,
    T: Positional<Entity = technician::Entity>,
{
    /// The page's statement, its text built once per shape (building it
    /// was a tenth of the board's work).
    fn statement<J: Positional<Entity = job::Entity>>(&self, backend: DatabaseBackend) -> Statement {
        let unread = (self.customer_unread.bits(), self.technician_unread.bits());
        let shape = PartiesShape::of::<Parties<J, C, T>>(self.filter, &self.request, unread);
        let mut values = filtered_values(self.filter);
        values.extend(self.request.after.iter().flat_map(|after| [after.at.into(), after.at.into(), after.id.into()]));
        PARTIES_PAGES.statement(shape, backend, values, || self.build::<J>(backend))
    }

    fn build<J: Positional<Entity = job::Entity>>(&self, backend: DatabaseBackend) -> Statement {
        let select = select_filtered(self.filter);
        let joined = with_parties::<J, C, T>(select, self.customer_unread, self.technician_unread);
        page::keyset(joined, job::Column::CreatedAt, job::Column::Id, self.request, backend)
    }
}

/// The jobs of `select` joined to their assignment, customer and assigned
/// technician, selected in `Parties` order to be read by position (SeaORM's
/// own four-model decoding was a quarter of the board's time).
fn with_parties<J, C, T>(
    select: Select<job::Entity>,
    customer_unread: Unread<C>,
    technician_unread: Unread<T>,
) -> Select<job::Entity>
where
    J: Positional<Entity = job::Entity>,
    C: Positional<Entity = customer::Entity>,
    T: Positional<Entity = technician::Entity>,
{
    let joined = with_assignment::<J>(select)
        .join(JoinType::LeftJoin, job::Relation::Customer.def())
        .join(JoinType::LeftJoin, job_assignment::Relation::Technician.def());
    select_columns_but::<T, _>(select_columns_but::<C, _>(joined, customer_unread), technician_unread)
}

/// The jobs `filter` selects among those the caller may see; None when
/// that is nothing (a technician asking for someone else's work).
fn select_visible(actor: &Actor, filter: JobFilter) -> DomainResult<Option<Select<job::Entity>>> {
    Ok(visible(actor, filter)?.map(|filter| select_filtered(&filter)))
}

/// `filter` narrowed to what the caller may see (a technician's own
/// work); None when that is nothing.
fn visible(actor: &Actor, mut filter: JobFilter) -> DomainResult<Option<JobFilter>> {
    if let JobScope::AssignedTo(own) = scope(actor)? {
        match filter.technician_id {
            Some(asked) if asked != own => return Ok(None),
            _ => filter.technician_id = Some(own),
        }
    }
    filter.statuses = filter.statuses.filter(|statuses| !statuses.is_empty());
    Ok(Some(filter))
}

/// The jobs `filter` selects. Its values, in the order they appear, are
/// `filtered_values`.
fn select_filtered(filter: &JobFilter) -> Select<job::Entity> {
    let mut select = job::Entity::find();
    if let Some(statuses) = &filter.statuses {
        select = select.filter(job::Column::Status.is_in(statuses.iter().copied()));
    }
    if let Some(customer_id) = filter.customer_id {
        select = select.filter(job::Column::CustomerId.eq(customer_id));
    }
    if filter.technician_id.is_some() || filter.scheduled_from.is_some() || filter.scheduled_to.is_some() {
        let mut assignments = Condition::all();
        if let Some(technician_id) = filter.technician_id {
            assignments = assignments.add(job_assignment::Column::TechnicianId.eq(technician_id));
        }
        if let Some(from) = filter.scheduled_from {
            assignments = assignments.add(job_assignment::Column::EndsAt.gt(from));
        }
        if let Some(to) = filter.scheduled_to {
            assignments = assignments.add(job_assignment::Column::StartsAt.lt(to));
        }
        let subquery = Query::select()
            .column(job_assignment::Column::JobId)
            .from(job_assignment::Entity)
            .cond_where(assignments)
            .to_owned();
        select = select.filter(job::Column::Id.in_subquery(subquery));
    }
    select
}

/// The values of `select_filtered(filter)`, in order.
fn filtered_values(filter: &JobFilter) -> Vec<Value> {
    let statuses = filter.statuses.iter().flatten().map(|&status| status.into());
    let assignment = [
        filter.technician_id.map(Value::from),
        filter.scheduled_from.map(Value::from),
        filter.scheduled_to.map(Value::from),
    ];
    statuses.chain(filter.customer_id.map(Value::from)).chain(assignment.into_iter().flatten()).collect()
}

/// What the text of a page of jobs with their parties depends on: the
/// models read, the fields left unread, which filters are set (and how
/// many statuses), whether it follows a cursor, and its size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PartiesShape {
    parties: &'static str,
    unread: (u32, u32),
    statuses: usize,
    filtered: [bool; 4],
    after: bool,
    first: u64,
}

impl PartiesShape {
    fn of<P>(filter: &JobFilter, request: &PageRequest, unread: (u32, u32)) -> Self {
        PartiesShape {
            parties: std::any::type_name::<P>(),
            unread,
            statuses: filter.statuses.as_ref().map_or(0, Vec::len),
            filtered: [
                filter.customer_id.is_some(),
                filter.technician_id.is_some(),
                filter.scheduled_from.is_some(),
                filter.scheduled_to.is_some(),
            ],
            after: request.after.is_some(),
            first: request.first,
        }
    }
}

/// The texts of the pages of jobs with their parties (`parties_page`).
static PARTIES_PAGES: LazyLock<Templates<PartiesShape>> = LazyLock::new(Templates::new);

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(db: &DatabaseConnection, actor: &Actor, input: NewJob) -> DomainResult<job::Model> {
    actor.require(Permission::DispatchJobs)?;
    let title = validate::required_text("title", &input.title, validate::NAME_MAX)?;
    let description = validate::optional_text("description", input.description.as_deref(), validate::TEXT_MAX)?;
    if !(1..=5).contains(&input.required_skill_level) {
        return Err(DomainError::bad_input("requiredSkillLevel", "requiredSkillLevel must be between 1 and 5"));
    }
    let txn = super::write(db, actor).await?;
    customer::Entity::find_by_id(input.customer_id).one(&*txn).await?.ok_or(DomainError::NotFound("customer"))?;
    let now = clock::now();
    let created = job::ActiveModel {
        id: Set(Uuid::new_v4()),
        customer_id: Set(input.customer_id),
        title: Set(title),
        description: Set(description),
        status: Set(JobStatus::Pending),
        priority: Set(input.priority),
        required_skill_level: Set(input.required_skill_level),
        notes: Set(None),
        started_at: Set(None),
        completed_at: Set(None),
        cancelled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    let change = Change::JobCreated(JobCreated {
        title: created.title.clone(),
        customer_id: created.customer_id,
        priority: created.priority,
        required_skill_level: created.required_skill_level,
    });
    txn.commit(created.id, change).await?;
    Ok(created)
}

/// Loads and locks a job the caller may act on (NOT_FOUND otherwise).
/// `own_only`: technicians may act on their own jobs; staff on any.
pub(crate) async fn lock_for_move(
    txn: &DatabaseTransaction,
    actor: &Actor,
    job_id: Uuid,
) -> DomainResult<(job::Model, Option<job_assignment::Model>)> {
    let job = job::Entity::find_by_id(job_id).lock_exclusive().one(txn).await?.ok_or(DomainError::NotFound("job"))?;
    let assignment = job_assignment::Entity::find().filter(job_assignment::Column::JobId.eq(job_id)).one(txn).await?;
    if !actor.can(Permission::WorkAnyJob) && !access::owns_job(actor, assignment.as_ref().map(|a| a.technician_id)) {
        return Err(DomainError::NotFound("job"));
    }
    Ok((job, assignment))
}

pub(crate) fn check_window(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> DomainResult<()> {
    if starts_at >= ends_at {
        return Err(DomainError::bad_input("endsAt", "endsAt must be after startsAt"));
    }
    if ends_at - starts_at > MAX_WINDOW {
        return Err(DomainError::bad_input("endsAt", "a window lasts at most 24 hours"));
    }
    Ok(())
}

fn overlap_conflict(conflicting_job: Uuid) -> DomainError {
    DomainError::conflict_with("the technician already has a job in that window", Conflicting::Job(conflicting_job))
}

/// A live assignment of the technician (other than `except_job`'s)
/// overlapping the half-open window.
pub(crate) async fn overlapping_assignment(
    db: &impl ConnectionTrait,
    technician_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    except_job: Option<Uuid>,
) -> DomainResult<Option<job_assignment::Model>> {
    let mut query = job_assignment::Entity::find()
        .filter(job_assignment::Column::TechnicianId.eq(technician_id))
        .filter(windows::booked(starts_at, ends_at));
    if let Some(job_id) = except_job {
        query = query.filter(job_assignment::Column::JobId.ne(job_id));
    }
    Ok(query.order_by_asc(job_assignment::Column::StartsAt).one(db).await?)
}

/// `assignJob`: PENDING or SCHEDULED → SCHEDULED, replacing any old window.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn assign(db: &DatabaseConnection, actor: &Actor, input: Assignment) -> DomainResult<job::Model> {
    actor.require(Permission::DispatchJobs)?;
    let starts_at = clock::truncate(input.starts_at);
    let ends_at = clock::truncate(input.ends_at);
    check_window(starts_at, ends_at)?;

    let txn = super::write(db, actor).await?;
    let (job, previous) = lock_for_move(&txn, actor, input.job_id).await?;
    lifecycle::check(job.status, JobStatus::Scheduled)?;
    // Locked: `createScheduleEntry` takes the same lock, so an UNAVAILABLE
    // entry and this booking cannot both pass their checks.
    let technician = technician::Entity::find_by_id(input.technician_id)
        .lock_exclusive()
        .one(&*txn)
        .await?
        .ok_or(DomainError::NotFound("technician"))?;
    if !technician.active {
        return Err(DomainError::bad_input("technicianId", "the technician is not active"));
    }
    if technician.skill_level < job.required_skill_level {
        return Err(DomainError::bad_input("technicianId", "the technician's skill level is below what the job needs"));
    }
    if let Some(other) = overlapping_assignment(&*txn, technician.id, starts_at, ends_at, Some(job.id)).await? {
        return Err(overlap_conflict(other.job_id));
    }
    if let Some(entry) = schedule::Entity::find()
        .filter(schedule::Column::TechnicianId.eq(technician.id))
        .filter(windows::unavailable(starts_at, ends_at))
        // The earliest, as `suggestTechnicians` names it.
        .order_by_asc(schedule::Column::StartsAt)
        .order_by_asc(schedule::Column::Id)
        .one(&*txn)
        .await?
    {
        return Err(DomainError::conflict_with(
            "the technician is unavailable in that window",
            Conflicting::ScheduleEntry(entry.id),
        ));
    }

    release_window(&txn, job.id).await?;
    let now = clock::now();
    let inserted = job_assignment::ActiveModel {
        id: Set(Uuid::new_v4()),
        job_id: Set(job.id),
        technician_id: Set(technician.id),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        live: Set(true),
        created_at: Set(now),
    }
    .insert(&*txn)
    .await;
    if let Err(err) = inserted {
        if violation(&err) == Some(Violation::AssignmentOverlap) {
            // Lost a race: the winner has committed; name its job.
            txn.rollback().await?;
            let winner = overlapping_assignment(db, technician.id, starts_at, ends_at, Some(job.id)).await?;
            return Err(overlap_conflict(winner.map(|a| a.job_id).unwrap_or_default()));
        }
        return Err(err.into());
    }
    schedule::ActiveModel {
        id: Set(Uuid::new_v4()),
        technician_id: Set(technician.id),
        kind: Set(ScheduleKind::Job),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        note: Set(Some(job.title.clone())),
        job_id: Set(Some(job.id)),
        created_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    let updated = set_status(&txn, job, JobStatus::Scheduled, |_| {}).await?;
    let change = Change::JobAssigned(JobAssigned {
        booking: Booking { technician_id: technician.id, starts_at, ends_at },
        previous: previous.map(|p| Booking {
            technician_id: p.technician_id,
            starts_at: p.starts_at,
            ends_at: p.ends_at,
        }),
    });
    txn.commit(updated.id, change).await?;
    Ok(updated)
}

/// Deletes the job's assignment and its JOB schedule entry.
async fn release_window(txn: &DatabaseTransaction, job_id: Uuid) -> DomainResult<()> {
    schedule::Entity::delete_many().filter(schedule::Column::JobId.eq(job_id)).exec(txn).await?;
    job_assignment::Entity::delete_many().filter(job_assignment::Column::JobId.eq(job_id)).exec(txn).await?;
    Ok(())
}

/// Writes the new status (and whatever `change` sets) on a locked job.
pub(crate) async fn set_status(
    txn: &DatabaseTransaction,
    job: job::Model,
    to: JobStatus,
    change: impl FnOnce(&mut job::ActiveModel),
) -> DomainResult<job::Model> {
    let mut model: job::ActiveModel = job.into();
    model.status = Set(to);
    model.updated_at = Set(clock::now());
    change(&mut model);
    Ok(model.update(txn).await?)
}

/// `unassignJob`: SCHEDULED → PENDING; the assignment and its entry go.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unassign(db: &DatabaseConnection, actor: &Actor, job_id: Uuid) -> DomainResult<job::Model> {
    actor.require(Permission::DispatchJobs)?;
    let txn = super::write(db, actor).await?;
    let (job, assignment) = lock_for_move(&txn, actor, job_id).await?;
    lifecycle::check(job.status, JobStatus::Pending)?;
    release_window(&txn, job.id).await?;
    let updated = set_status(&txn, job, JobStatus::Pending, |_| {}).await?;
    let technician_id = assignment.map(|a| a.technician_id);
    txn.commit(updated.id, Change::JobUnassigned(JobUnassigned { technician_id })).await?;
    Ok(updated)
}

/// `startJob`: SCHEDULED → IN_PROGRESS; technicians start their own jobs.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn start(db: &DatabaseConnection, actor: &Actor, job_id: Uuid) -> DomainResult<job::Model> {
    require_work(actor)?;
    let txn = super::write(db, actor).await?;
    let (job, _) = lock_for_move(&txn, actor, job_id).await?;
    lifecycle::check(job.status, JobStatus::InProgress)?;
    let now = clock::now();
    let updated = set_status(&txn, job, JobStatus::InProgress, |m| m.started_at = Set(Some(now))).await?;
    txn.commit(updated.id, Change::JobStarted(JobStarted { started_at: now })).await?;
    Ok(updated)
}

/// `cancelJob`: PENDING or SCHEDULED → CANCELLED; frees the window.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn cancel(
    db: &DatabaseConnection,
    actor: &Actor,
    job_id: Uuid,
    reason: Option<String>,
) -> DomainResult<job::Model> {
    actor.require(Permission::DispatchJobs)?;
    let reason = validate::optional_text("reason", reason.as_deref(), validate::TEXT_MAX)?;
    let txn = super::write(db, actor).await?;
    let (job, assignment) = lock_for_move(&txn, actor, job_id).await?;
    lifecycle::check(job.status, JobStatus::Cancelled)?;
    let from = job.status;
    release_window(&txn, job.id).await?;
    let now = clock::now();
    let updated = set_status(&txn, job, JobStatus::Cancelled, |m| m.cancelled_at = Set(Some(now))).await?;
    let technician_id = assignment.map(|a| a.technician_id);
    txn.commit(updated.id, Change::JobCancelled(JobCancelled { from, reason, technician_id })).await?;
    Ok(updated)
}

/// Staff may work any job, technicians their own (checked on the row).
pub(crate) fn require_work(actor: &Actor) -> DomainResult<()> {
    if actor.can(Permission::WorkAnyJob) { Ok(()) } else { actor.require(Permission::WorkOwnJobs) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::enums::{InvoiceLineKind, PaymentMethod};

    /// Built once per backend, and reused as a fresh build would give it.
    #[test]
    fn the_detail_with_items_is_built_once() {
        for backend in [DatabaseBackend::Postgres, DatabaseBackend::Sqlite] {
            for n in [1, 2] {
                let id = Uuid::from_u128(n);
                let statement =
                    DETAIL_WITH_ITEMS.statement(backend, vec![id.into(), id.into()], || detail_with_items(backend, id));
                assert_eq!(statement, detail_with_items(backend, id));
                assert!(DETAIL_WITH_ITEMS.kept(backend), "{backend:?}");
            }
        }
    }

    /// Each shape of the board's page (filters, cursor, size, fields left
    /// unread) is built once per backend and reused as a fresh build would
    /// give it, with the second request's values.
    #[test]
    fn pages_with_parties_are_built_once_per_shape() {
        let at = |hour: u32| chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 7, hour, 0, 0).unwrap();
        let filters = |n: u128| {
            let id = Uuid::from_u128(n);
            let statuses = if n == 1 {
                vec![JobStatus::Pending, JobStatus::Scheduled]
            } else {
                vec![JobStatus::Completed, JobStatus::Pending]
            };
            [
                JobFilter::default(),
                JobFilter { statuses: Some(statuses), ..Default::default() },
                JobFilter { customer_id: Some(id), technician_id: Some(id), ..Default::default() },
                JobFilter {
                    scheduled_from: Some(at(n as u32)),
                    scheduled_to: Some(at(n as u32 + 8)),
                    ..Default::default()
                },
                JobFilter {
                    statuses: Some(vec![JobStatus::Cancelled]),
                    customer_id: Some(id),
                    technician_id: Some(id),
                    scheduled_from: Some(at(1)),
                    scheduled_to: Some(at(n as u32 + 2)),
                },
            ]
        };
        let requests = |n: u128| {
            let after = page::RowKey { at: at(n as u32), id: Uuid::from_u128(n + 10) };
            [
                PageRequest { first: 50, after: None, count_total: false },
                PageRequest { first: 5, after: Some(after), count_total: true },
            ]
        };
        let unread = Unread::<customer::Card>::fields(&["email", "phone"]).unwrap();
        for backend in [DatabaseBackend::Postgres, DatabaseBackend::Sqlite] {
            for n in [1, 2] {
                for (filter, request) in filters(n).iter().flat_map(|f| requests(n).map(|r| (f, r))) {
                    let cards = PartiesPage {
                        filter,
                        request,
                        customer_unread: unread,
                        technician_unread: Unread::<technician::Card>::NONE,
                    };
                    assert_eq!(
                        cards.statement::<job::Card>(backend),
                        cards.build::<job::Card>(backend),
                        "{backend:?} {n}"
                    );
                    let whole: PartiesPage<'_, customer::Model, technician::Model> =
                        PartiesPage { filter, request, customer_unread: Unread::NONE, technician_unread: Unread::NONE };
                    assert_eq!(
                        whole.statement::<job::Model>(backend),
                        whole.build::<job::Model>(backend),
                        "{backend:?} {n}"
                    );
                    let shape = PartiesShape::of::<JobCardWithParties>(filter, &request, (unread.bits(), 0));
                    assert!(PARTIES_PAGES.kept(&shape, backend), "{shape:?} on {backend:?}");
                }
            }
        }
    }

    fn job(id: Uuid) -> job::Model {
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        job::Model {
            id,
            customer_id: Uuid::new_v4(),
            title: "Boiler".into(),
            description: None,
            status: JobStatus::Completed,
            priority: JobPriority::Normal,
            required_skill_level: 1,
            notes: None,
            started_at: None,
            completed_at: None,
            cancelled_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn line(position: i32) -> invoice_line::Model {
        invoice_line::Model {
            id: Uuid::new_v4(),
            invoice_id: Uuid::nil(),
            position,
            kind: InvoiceLineKind::Material,
            description: format!("line {position}"),
            quantity_hundredths: 100,
            unit_price_cents: 1,
            amount_cents: 1,
        }
    }

    fn payment(seconds: i64) -> payment::Model {
        payment::Model {
            id: Uuid::new_v4(),
            invoice_id: Uuid::nil(),
            amount_cents: 1,
            method: PaymentMethod::Cash,
            reference: None,
            idempotency_key: None,
            received_at: chrono::DateTime::from_timestamp(seconds, 0).unwrap(),
            recorded_by: None,
        }
    }

    fn detail_row(id: Uuid, payment: Option<payment::Model>) -> DetailOrLine {
        (Some(job(id)), None, None, None, None, None, payment)
    }

    fn line_row(position: i32) -> DetailOrLine {
        (None, None, None, None, None, Some(line(position)), None)
    }

    #[test]
    fn the_detail_comes_once_whatever_the_rows_order_with_every_line_and_payment() {
        let id = Uuid::new_v4();
        let rows = vec![line_row(2), detail_row(id, Some(payment(20))), line_row(1), detail_row(id, Some(payment(10)))];
        let (parts, items) = split_detail(rows).expect("the job is there");
        assert_eq!(parts.0.id, id);
        assert_eq!(items.lines.iter().map(|l| l.position).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(items.payments.iter().map(|p| p.received_at.timestamp()).collect::<Vec<_>>(), [10, 20]);

        // No payment: the detail row carries none, and no payment is made up.
        let (_, items) = split_detail(vec![detail_row(id, None), line_row(0)]).unwrap();
        assert!(items.payments.is_empty());
        assert_eq!(items.lines.len(), 1);
    }

    #[test]
    fn no_row_with_the_job_is_no_detail() {
        assert!(split_detail(Vec::new()).is_none());
        assert!(split_detail(vec![line_row(0)]).is_none());
    }
}
