//! Technicians: profiles with skill and rate, optionally linked to a
//! TECHNICIAN login (one login, at most one technician).

use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use uuid::Uuid;

use super::access;
use super::actor::{Actor, Permission};
use super::customers::{PHONE_MAX, optional_email};
use super::error::{DomainError, DomainResult, Violation, violation};
use super::location::{self, Patch};
use super::page::{self, Cursor, Page, PageRequest};
use super::{clock, money, validate};
use crate::entities::enums::Role;
use crate::entities::{technician, user};
use crate::journal::Change;
use crate::journal::change::TechnicianData;

pub const MAX_HOURLY_RATE_CENTS: i64 = 1_000_000;

pub struct TechnicianFields {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub skill_level: Option<i32>,
    pub hourly_rate: Option<Decimal>,
    pub active: Option<bool>,
    pub user_id: Option<Uuid>,
    pub base_latitude: Patch<f64>,
    pub base_longitude: Patch<f64>,
}

const BASE: location::Names = ("baseLatitude", "baseLongitude");

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
    active: Option<bool>,
) -> DomainResult<Page<technician::Model>> {
    actor.require(Permission::ManageTechnicians)?;
    let mut select = technician::Entity::find();
    if let Some(active) = active {
        select = select.filter(technician::Column::Active.eq(active));
    }
    page::fetch(db, select, technician::Column::CreatedAt, technician::Column::Id, request, |t| {
        Cursor::row(t.created_at, t.id)
    })
    .await
}

/// `technician(id)`: None when missing or not the caller's to see.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> DomainResult<Option<technician::Model>> {
    if !access::sees_technician(actor, id) {
        return Ok(None);
    }
    Ok(technician::Entity::find_by_id(id).one(db).await?)
}

fn skill(value: i32) -> DomainResult<i32> {
    if (1..=5).contains(&value) {
        Ok(value)
    } else {
        Err(DomainError::bad_input("skillLevel", "skillLevel must be between 1 and 5"))
    }
}

fn rate(value: Decimal) -> DomainResult<i64> {
    money::to_cents_in("hourlyRate", value, 0, MAX_HOURLY_RATE_CENTS)
}

/// The login to link must exist and be a TECHNICIAN account.
async fn linkable_user(db: &impl ConnectionTrait, user_id: Uuid) -> DomainResult<Uuid> {
    let user = user::Entity::find_by_id(user_id).one(db).await?.ok_or(DomainError::NotFound("user"))?;
    if user.role != Role::Technician {
        return Err(DomainError::bad_input("userId", "only a TECHNICIAN login can be linked to a technician"));
    }
    Ok(user.id)
}

fn link_conflict(err: sea_orm::DbErr) -> DomainError {
    match violation(&err) {
        Some(Violation::Unique) => DomainError::conflict("that login is already linked to another technician"),
        _ => err.into(),
    }
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    fields: TechnicianFields,
) -> DomainResult<technician::Model> {
    actor.require(Permission::ManageTechnicians)?;
    let name = validate::required_text("name", fields.name.as_deref().unwrap_or_default(), validate::NAME_MAX)?;
    let skill_level = skill(fields.skill_level.unwrap_or(1))?;
    let hourly_rate_cents = rate(fields.hourly_rate.unwrap_or_default())?;
    let user_id = match fields.user_id {
        Some(id) => Some(linkable_user(db, id).await?),
        None => None,
    };
    let base = location::read(fields.base_latitude, fields.base_longitude, BASE)?.flatten();
    let now = clock::now();
    let model = technician::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        name: Set(name),
        email: Set(optional_email(fields.email.as_deref())?),
        phone: Set(validate::optional_text("phone", fields.phone.as_deref(), PHONE_MAX)?),
        skill_level: Set(skill_level),
        hourly_rate_cents: Set(hourly_rate_cents),
        active: Set(fields.active.unwrap_or(true)),
        base_latitude: Set(base.map(|p| p.latitude)),
        base_longitude: Set(base.map(|p| p.longitude)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = super::write(db, actor).await?;
    let created = model.insert(&*txn).await.map_err(link_conflict)?;
    txn.commit(created.id, Change::TechnicianCreated(journalled(&created))).await?;
    Ok(created)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    fields: TechnicianFields,
) -> DomainResult<technician::Model> {
    actor.require(Permission::ManageTechnicians)?;
    let txn = super::write(db, actor).await?;
    let existing = technician::Entity::find_by_id(id).one(&*txn).await?.ok_or(DomainError::NotFound("technician"))?;
    let mut model: technician::ActiveModel = existing.into();
    if let Some(name) = fields.name.as_deref() {
        model.name = Set(validate::required_text("name", name, validate::NAME_MAX)?);
    }
    if fields.email.is_some() {
        model.email = Set(optional_email(fields.email.as_deref())?);
    }
    if fields.phone.is_some() {
        model.phone = Set(validate::optional_text("phone", fields.phone.as_deref(), PHONE_MAX)?);
    }
    if let Some(level) = fields.skill_level {
        model.skill_level = Set(skill(level)?);
    }
    if let Some(value) = fields.hourly_rate {
        model.hourly_rate_cents = Set(rate(value)?);
    }
    if let Some(active) = fields.active {
        model.active = Set(active);
    }
    if let Some(base) = location::read(fields.base_latitude, fields.base_longitude, BASE)? {
        model.base_latitude = Set(base.map(|p| p.latitude));
        model.base_longitude = Set(base.map(|p| p.longitude));
    }
    if let Some(user_id) = fields.user_id {
        model.user_id = Set(Some(linkable_user(&*txn, user_id).await?));
    }
    model.updated_at = Set(clock::now());
    let updated = model.update(&*txn).await.map_err(link_conflict)?;
    txn.commit(updated.id, Change::TechnicianUpdated(journalled(&updated))).await?;
    Ok(updated)
}

fn journalled(technician: &technician::Model) -> TechnicianData {
    TechnicianData {
        name: technician.name.clone(),
        user_id: technician.user_id,
        skill_level: technician.skill_level,
        hourly_rate: money::from_cents(technician.hourly_rate_cents),
        active: technician.active,
        base_latitude: technician.base_latitude,
        base_longitude: technician.base_longitude,
    }
}
