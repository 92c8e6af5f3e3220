//! First pages of many customers' job lists in one statement, for
//! `Customer.jobs` inside a list of customers: each customer's newest jobs
//! are ranked with a window function, so the whole list costs the same
//! statements whatever its length. Later pages (`after`) go through
//! `jobs::list`, one customer at a time.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::error::DomainResult;
use super::jobs::{self, JobRow, JobScope};
use super::page::{self, Cursor, Page, PageRequest};
use crate::entities::positional::Row;
use crate::entities::{job, job_assignment};

/// The first `first` jobs (newest first) of each customer that `scope` may
/// see, with their current assignments; totals are counted when asked for.
pub async fn first_pages_by_customer(
    db: &impl ConnectionTrait,
    scope: JobScope,
    customer_ids: &[Uuid],
    first: u64,
    count_total: bool,
) -> DomainResult<HashMap<Uuid, Page<JobRow>>> {
    let request: PageRequest = PageRequest { first, after: None, count_total };
    let mut visible = Query::select()
        .column(job::Column::Id)
        .expr_as(
            Expr::cust("ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY created_at DESC, id DESC)"),
            Alias::new("newest_rank"),
        )
        .from(job::Entity)
        .and_where(job::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .to_owned();
    if let JobScope::AssignedTo(technician_id) = scope {
        visible.and_where(job::Column::Id.in_subquery(assigned_to(technician_id)));
    }
    // Newest `first + 1` per customer: the extra row tells whether more follow.
    let ranked = Query::select()
        .column(Alias::new("id"))
        .from_subquery(visible, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("newest_rank")).lte(first as i64 + 1))
        .to_owned();
    let rows = jobs::with_assignment::<job::Model>(job::Entity::find().filter(job::Column::Id.in_subquery(ranked)))
        .order_by_desc(job::Column::CreatedAt)
        .order_by_desc(job::Column::Id)
        .into_model::<Row<JobRow>>()
        .all(db)
        .await?;
    let totals = if count_total { totals(db, scope, customer_ids).await? } else { HashMap::new() };
    let mut grouped: HashMap<Uuid, Vec<JobRow>> = HashMap::new();
    for Row(row) in rows {
        grouped.entry(row.0.customer_id).or_default().push(row);
    }
    Ok(customer_ids
        .iter()
        .map(|id| {
            let rows = grouped.remove(id).unwrap_or_default();
            let total = totals.get(id).copied().unwrap_or(0);
            (*id, page::assemble(rows, request, total, |(j, _)| Cursor::row(j.created_at, j.id)))
        })
        .collect())
}

fn assigned_to(technician_id: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(job_assignment::Column::JobId)
        .from(job_assignment::Entity)
        .and_where(job_assignment::Column::TechnicianId.eq(technician_id))
        .to_owned()
}

/// Jobs per customer within the scope (one grouped statement).
async fn totals(db: &impl ConnectionTrait, scope: JobScope, customer_ids: &[Uuid]) -> DomainResult<HashMap<Uuid, u64>> {
    #[derive(FromQueryResult)]
    struct Total {
        customer_id: Uuid,
        jobs: i64,
    }
    let mut select = job::Entity::find()
        .select_only()
        .column(job::Column::CustomerId)
        .column_as(job::Column::Id.count(), "jobs")
        .filter(job::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .group_by(job::Column::CustomerId);
    if let JobScope::AssignedTo(technician_id) = scope {
        select = select.filter(job::Column::Id.in_subquery(assigned_to(technician_id)));
    }
    let totals = select.into_model::<Total>().all(db).await?;
    Ok(totals.into_iter().map(|t| (t.customer_id, u64::try_from(t.jobs).unwrap_or(0))).collect())
}
