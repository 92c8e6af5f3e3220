//! Customers: dispatch's address book. Technicians never list or open
//! customers; they see one only as the customer of their own job.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{DomainError, DomainResult};
use super::location::{self, Patch};
use super::page::{self, Cursor, Page, PageRequest};
use super::{clock, validate};
use crate::entities::customer;
use crate::journal::Change;
use crate::journal::change::CustomerData;

pub struct CustomerFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub latitude: Patch<f64>,
    pub longitude: Patch<f64>,
}

const LOCATION: location::Names = ("latitude", "longitude");

pub const PHONE_MAX: usize = 50;
pub const ADDRESS_MAX: usize = 1000;

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
    search: Option<&str>,
) -> DomainResult<Page<customer::Model>> {
    actor.require(Permission::ManageCustomers)?;
    let mut select = customer::Entity::find();
    if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
        let term = validate::required_text("search", term, validate::NAME_MAX)?;
        let escaped = term.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let pattern = format!("%{escaped}%");
        let like = |column: customer::Column| {
            Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        select = select
            .filter(like(customer::Column::Name).or(like(customer::Column::Email)).or(like(customer::Column::Phone)));
    }
    page::fetch(db, select, customer::Column::CreatedAt, customer::Column::Id, request, |c| {
        Cursor::row(c.created_at, c.id)
    })
    .await
}

/// `customer(id)`: None when it does not exist.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> DomainResult<Option<customer::Model>> {
    actor.require(Permission::ManageCustomers)?;
    Ok(customer::Entity::find_by_id(id).one(db).await?)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(db: &DatabaseConnection, actor: &Actor, fields: CustomerFields) -> DomainResult<customer::Model> {
    actor.require(Permission::ManageCustomers)?;
    let now = clock::now();
    let point = location::read(fields.latitude, fields.longitude, LOCATION)?.flatten();
    let model = customer::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(validate::required_text("name", fields.name.as_deref().unwrap_or_default(), validate::NAME_MAX)?),
        email: Set(optional_email(fields.email.as_deref())?),
        phone: Set(validate::optional_text("phone", fields.phone.as_deref(), PHONE_MAX)?),
        address: Set(validate::optional_text("address", fields.address.as_deref(), ADDRESS_MAX)?),
        latitude: Set(point.map(|p| p.latitude)),
        longitude: Set(point.map(|p| p.longitude)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = super::write(db, actor).await?;
    let created = model.insert(&*txn).await?;
    txn.commit(created.id, Change::CustomerCreated(journalled(&created))).await?;
    Ok(created)
}

/// Updates the given fields; an empty string clears an optional one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    fields: CustomerFields,
) -> DomainResult<customer::Model> {
    actor.require(Permission::ManageCustomers)?;
    let txn = super::write(db, actor).await?;
    let existing = customer::Entity::find_by_id(id).one(&*txn).await?.ok_or(DomainError::NotFound("customer"))?;
    let mut model: customer::ActiveModel = existing.into();
    if let Some(name) = fields.name.as_deref() {
        model.name = Set(validate::required_text("name", name, validate::NAME_MAX)?);
    }
    if fields.email.is_some() {
        model.email = Set(optional_email(fields.email.as_deref())?);
    }
    if fields.phone.is_some() {
        model.phone = Set(validate::optional_text("phone", fields.phone.as_deref(), PHONE_MAX)?);
    }
    if fields.address.is_some() {
        model.address = Set(validate::optional_text("address", fields.address.as_deref(), ADDRESS_MAX)?);
    }
    if let Some(point) = location::read(fields.latitude, fields.longitude, LOCATION)? {
        model.latitude = Set(point.map(|p| p.latitude));
        model.longitude = Set(point.map(|p| p.longitude));
    }
    model.updated_at = Set(clock::now());
    let updated = model.update(&*txn).await?;
    txn.commit(updated.id, Change::CustomerUpdated(journalled(&updated))).await?;
    Ok(updated)
}

/// Address-book changes are journaled like every other change: the audit
/// trail shows them, and the journal's newest id versions all data.
fn journalled(customer: &customer::Model) -> CustomerData {
    CustomerData {
        name: customer.name.clone(),
        email: customer.email.clone(),
        phone: customer.phone.clone(),
        address: customer.address.clone(),
        latitude: customer.latitude,
        longitude: customer.longitude,
    }
}

pub fn optional_email(value: Option<&str>) -> DomainResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(email) => validate::email("email", email).map(Some),
    }
}
