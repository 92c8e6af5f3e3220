//! The related rows a page of jobs asks for (customer, technician), set on
//! the jobs for the whole page: no per-field DataLoader futures on the
//! hottest query (the dispatch board). `jobs` reads them in the page's own
//! statement (`with_parties`); a later page of `Customer.jobs` loads them in
//! two statements for the page (`job_page`).

use std::collections::HashMap;

use async_graphql::{Context, Lookahead, SelectionField};

use super::context::ContextExt;
use super::types::{Customer, Invoice, Job, Technician};
use crate::domain::jobs::{JobCardWithParties, JobDetail, JobRow, JobWithParties, PartiesUnread};
use crate::domain::page::Page;
use crate::domain::{DomainError, lookups};
use crate::entities::positional::{Nullable, Unread};

/// Whether the `nodes` / `edges.node` selection of a job connection asks
/// for customers or technicians.
pub fn wants_parties(look: Lookahead<'_>) -> bool {
    let (customers, technicians) = wanted(look);
    customers || technicians
}

/// Whether the cards (`job::Card`, `customer::Card`, `technician::Card`)
/// answer every field the `nodes` / `edges.node` of a job connection ask
/// for: then the page reads only their columns (22 of 40). Fragments count
/// as asked. A field beyond the cards is still answered right (its whole row
/// loads in one more statement), so this only picks the cheaper read.
pub fn cards_suffice(jobs: SelectionField<'_>) -> bool {
    jobs.selection_set().all(|part| match part.name() {
        "nodes" => job_on_cards(part),
        "edges" => part.selection_set().all(|edge| edge.name() != "node" || job_on_cards(edge)),
        _ => true,
    })
}

/// The fields of the parties' cards that the `nodes` / `edges.node` of a
/// job connection do not ask for, to be left unread (fragments count as
/// asked). Another path to the same card (`customer { jobs { nodes {
/// customer { email } } } }`) still answers right: a field left unread
/// loads the whole row.
pub fn unread(jobs: SelectionField<'_>) -> PartiesUnread {
    let mut asked: [Vec<&str>; 2] = Default::default();
    for job in jobs.selection_set().flat_map(|part| match part.name() {
        "nodes" => vec![part],
        "edges" => part.selection_set().filter(|edge| edge.name() == "node").collect(),
        _ => vec![],
    }) {
        for party in job.selection_set() {
            let into = match party.name() {
                "customer" => &mut asked[0],
                "technician" => &mut asked[1],
                _ => continue,
            };
            into.extend(party.selection_set().map(|field| field.name()));
        }
    }
    let [customer, technician] = asked;
    PartiesUnread { customer: not_asked(&customer), technician: not_asked(&technician) }
}

/// The nullable fields of the card that are not `asked` (a nullable
/// field is named alike in the model and the schema: a unit test of
/// `positional` holds that each is one word).
fn not_asked<M: Nullable>(asked: &[&str]) -> Unread<M> {
    let left: Vec<&str> = M::NULLABLE.iter().copied().filter(|field| !asked.contains(field)).collect();
    // Every NULLABLE field may be left unread.
    Unread::fields(&left).unwrap_or_default()
}

fn job_on_cards(job: SelectionField<'_>) -> bool {
    let on_card = |field: SelectionField<'_>, whole_only: &[&str]| {
        field.selection_set().all(|asked| !whole_only.contains(&asked.name()))
    };
    job.selection_set().all(|field| match field.name() {
        "customer" => on_card(field, Customer::WHOLE_ONLY),
        "technician" => on_card(field, Technician::WHOLE_ONLY),
        name => !Job::WHOLE_ONLY.contains(&name),
    })
}

/// Whether a single job's selection asks for its customer, technician or
/// invoice: then they come in the job's own statement.
pub fn wants_detail_of_one(look: Lookahead<'_>) -> bool {
    ["customer", "technician", "invoice"].into_iter().any(|field| look.field(field).exists())
}

/// Whether a single job's selection asks for its invoice's lines or
/// payments: then they come in one statement with the job's detail.
pub fn wants_invoice_items(look: Lookahead<'_>) -> bool {
    let invoice = look.field("invoice");
    invoice.field("lines").exists() || invoice.field("payments").exists()
}

/// A job read together with its assignment, customer and technician.
pub fn with_parties((job, assignment, customer, technician): JobWithParties) -> Job {
    let mut view = Job::with_assignment((job, assignment));
    view.customer = customer.map(Customer::new);
    view.technician = Some(technician.map(Technician::new));
    view
}

/// A job read as cards with its assignment, customer and technician, the
/// parties' `unread` fields left unread.
pub fn cards_with_parties((card, assignment, customer, technician): JobCardWithParties, unread: PartiesUnread) -> Job {
    let mut view = Job::card_with_assignment((card, assignment));
    view.customer = customer.map(|card| Customer::card(card, unread.customer));
    view.technician = Some(technician.map(|card| Technician::card(card, unread.technician)));
    view
}

/// A single job read with its parties and invoice (`jobs::get_detail`).
pub fn detail(detail: JobDetail) -> Job {
    let mut view = with_parties(detail.parties);
    let items = detail.invoice_items;
    view.invoice = Some(detail.invoice.map(|invoice| Invoice::with_items(invoice, items)));
    view
}

/// Which related rows the `nodes` / `edges.node` selection of a job
/// connection asks for.
fn wanted(look: Lookahead<'_>) -> (bool, bool) {
    let nodes = [look.field("nodes"), look.field("edges").field("node")];
    let customer = nodes.iter().any(|n| n.field("customer").exists());
    let technician =
        nodes.iter().any(|n| n.field("technician").exists() || n.field("assignment").field("technician").exists());
    (customer, technician)
}

pub async fn job_page(ctx: &Context<'_>, page: Page<JobRow>) -> Result<Page<Job>, DomainError> {
    let (want_customers, want_technicians) = wanted(ctx.look_ahead());
    let db = ctx.db();
    let viewer = ctx.actor()?;
    let customer_ids: Vec<_> = page.items.iter().map(|(_, (j, _))| j.customer_id).collect();
    let technician_ids: Vec<_> =
        page.items.iter().filter_map(|(_, (_, a))| a.as_ref().map(|a| a.technician_id)).collect();
    let customers = async {
        if !want_customers || customer_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = lookups::customers(db, viewer, &customer_ids).await?;
        Ok::<_, DomainError>(rows.into_iter().map(|c| (c.id, c)).collect::<HashMap<_, _>>())
    };
    let technicians = async {
        if !want_technicians || technician_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = lookups::technicians(db, viewer, &technician_ids).await?;
        Ok::<_, DomainError>(rows.into_iter().map(|t| (t.id, t)).collect::<HashMap<_, _>>())
    };
    let (customers, technicians) = futures_util::try_join!(customers, technicians)?;
    Ok(page.map(|(job, assignment)| {
        let mut view = Job::with_assignment((job, assignment));
        if want_customers {
            view.customer = customers.get(&view.customer_id()).cloned().map(Customer::new);
        }
        if want_technicians {
            let technician_id = view.assigned_technician_id();
            view.technician = Some(technician_id.and_then(|id| technicians.get(&id).cloned()).map(Technician::new));
        }
        view
    }))
}
