//! Accounts: registration (with the first-admin bootstrap), login, the
//! current user, and account administration.

use std::net::IpAddr;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QuerySelect, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{DomainError, DomainResult, Violation, violation};
use super::journal::{self, LogRow};
use super::page::{self, Cursor, Page, PageRequest};
use super::{clock, validate};
use crate::auth::{password, rate_limit::LoginLimiter, token::TokenService};
use crate::entities::enums::Role;
use crate::entities::{bootstrap, technician, user};

pub struct NewUser {
    pub email: String,
    pub password: String,
    pub name: String,
    pub role: Role,
}

pub struct UserChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// An admin's reset: ends every session of the user.
    pub password: Option<String>,
}

pub struct Session {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub user: user::Model,
}

/// The caller behind a verified token, read fresh from the database so that a
/// deactivation or role change applies to the very next request.
/// `session_epoch` is the token's: a token from before a password change or
/// a revocation is UNAUTHENTICATED.
pub async fn load_actor(db: &impl ConnectionTrait, user_id: Uuid, session_epoch: i64) -> DomainResult<Actor> {
    Ok(load_actor_at(db, user_id, session_epoch).await?.0)
}

/// As `load_actor`, with the journal's newest id read in the same statement.
/// Every change writes a journal row in its own transaction, so this id is a
/// version of all the data: while it stays the same, nothing has changed
/// (the HTTP response cache relies on it).
pub async fn load_actor_at(db: &impl ConnectionTrait, user_id: Uuid, session_epoch: i64) -> DomainResult<(Actor, i64)> {
    #[derive(FromQueryResult)]
    struct ActorRow {
        id: Uuid,
        role: Role,
        active: bool,
        session_epoch: i64,
        technician_id: Option<Uuid>,
        journal_version: i64,
    }
    // One statement: the account, its technician profile and the version.
    let row = user::Entity::find_by_id(user_id)
        .select_only()
        .columns([user::Column::Id, user::Column::Role, user::Column::Active, user::Column::SessionEpoch])
        .column_as(technician::Column::Id, "technician_id")
        .column_as(Expr::cust("(SELECT COALESCE(MAX(id), 0) FROM logs)"), "journal_version")
        .left_join(technician::Entity)
        .into_model::<ActorRow>()
        .one(db)
        .await?
        .filter(|row| row.active && row.session_epoch == session_epoch)
        .ok_or(DomainError::Unauthenticated)?;
    let technician_id = row.technician_id.filter(|_| row.role == Role::Technician);
    Ok((Actor { user_id: row.id, role: row.role, technician_id, session_epoch }, row.journal_version))
}

/// `register`: anonymous only for the first account (which must be ADMIN);
/// afterwards admins register any role and dispatchers technicians only.
pub async fn register(
    db: &DatabaseConnection,
    tokens: &TokenService,
    actor: Option<&Actor>,
    input: NewUser,
) -> DomainResult<Session> {
    match actor {
        None => {}
        Some(actor) if input.role == Role::Technician => actor.require(Permission::RegisterTechnicianAccounts)?,
        Some(actor) => actor.require(Permission::RegisterAnyAccount)?,
    }
    let email = validate::email("email", &input.email)?;
    let name = validate::required_text("name", &input.name, validate::NAME_MAX)?;
    validate::password("password", &input.password)?;
    if actor.is_none() {
        if user::Entity::find().count(db).await? > 0 {
            return Err(DomainError::Unauthenticated);
        }
        if input.role != Role::Admin {
            return Err(DomainError::bad_input("role", "the first account must be an ADMIN"));
        }
    }
    let password_hash = password::hash(input.password).await?;
    let now = clock::now();
    let new_user = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set(email),
        name: Set(name),
        password_hash: Set(password_hash),
        role: Set(input.role),
        active: Set(true),
        session_epoch: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    };

    let txn = db.begin().await?;
    let created = new_user.insert(&txn).await.map_err(|err| match violation(&err) {
        Some(Violation::Unique) => DomainError::conflict("a user with this email already exists"),
        _ => err.into(),
    })?;
    if actor.is_none() {
        // Two racing bootstraps: the loser hits the singleton's primary key.
        let row = bootstrap::ActiveModel { singleton: Set(1), user_id: Set(created.id), created_at: Set(now) };
        if let Err(err) = bootstrap::Entity::insert(row).exec_without_returning(&txn).await {
            return Err(match violation(&err) {
                Some(Violation::Unique) => DomainError::Unauthenticated,
                _ => err.into(),
            });
        }
    }
    journal::append(
        &txn,
        LogRow {
            event: "user.registered",
            entity_type: "user",
            entity_id: created.id,
            actor_id: actor.map(|a| a.user_id).or(Some(created.id)),
            data: json!({ "email": created.email, "name": created.name, "role": created.role.as_str() }),
        },
    )
    .await?;
    txn.commit().await?;
    session_for(tokens, created)
}

/// `login`: one answer for every failure. Each attempt takes a slot of the
/// limiter (per email and per client address) before the password check and
/// keeps it unless it succeeds, so past the limit nothing reaches argon2.
pub async fn login(
    db: &DatabaseConnection,
    tokens: &TokenService,
    limiter: &LoginLimiter,
    client: IpAddr,
    email: &str,
    password_text: String,
) -> DomainResult<Session> {
    let email = email.trim().to_lowercase();
    if email.chars().count() > validate::LOGIN_EMAIL_MAX {
        return Err(DomainError::bad_input(
            "email",
            format!("email is longer than {} characters", validate::LOGIN_EMAIL_MAX),
        ));
    }
    let attempt = limiter.begin(&email, client).map_err(rate_limited)?;
    let found = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(db).await?;
    let stored_hash = found.as_ref().map_or_else(|| password::decoy_hash().to_owned(), |u| u.password_hash.clone());
    let password_ok = password_matches(password_text, stored_hash).await;
    match found {
        Some(user) if password_ok && user.active => {
            attempt.succeeded();
            session_for(tokens, user)
        }
        found => {
            drop(attempt); // counted as a failure
            let reason = match &found {
                None => "unknown_email",
                Some(u) if !u.active => "inactive",
                Some(_) => "wrong_password",
            };
            // Unknown emails get a stable id of their own, so failures group.
            let entity_id =
                found.as_ref().map_or_else(|| Uuid::new_v5(&Uuid::NAMESPACE_OID, email.as_bytes()), |u| u.id);
            journal_failed_login(
                db,
                entity_id,
                json!({ "email": email, "reason": reason, "client": client.to_string() }),
            )
            .await?;
            Err(DomainError::BadCredentials)
        }
    }
}

fn rate_limited(retry_after_seconds: u64) -> DomainError {
    DomainError::RateLimited { retry_after_seconds }
}

/// Whether a password given at login (or as the current one) is right. An
/// over-long one is wrong without hashing a megabyte.
async fn password_matches(given: String, stored_hash: String) -> bool {
    given.chars().count() <= validate::PASSWORD_MAX && password::verify(given, stored_hash).await
}

async fn journal_failed_login(db: &DatabaseConnection, user_id: Uuid, data: serde_json::Value) -> DomainResult<()> {
    let txn = db.begin().await?;
    journal::append(
        &txn,
        LogRow { event: "auth.login_failed", entity_type: "user", entity_id: user_id, actor_id: None, data },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// `changePassword`: the current password is checked like a login (a wrong
/// one counts toward the login limit); the new one ends every earlier
/// session of the caller, and the answer carries a fresh token.
pub async fn change_password(
    db: &DatabaseConnection,
    tokens: &TokenService,
    limiter: &LoginLimiter,
    client: IpAddr,
    actor: &Actor,
    current_password: String,
    new_password: String,
) -> DomainResult<Session> {
    validate::password("newPassword", &new_password)?;
    let account = me(db, actor).await?;
    let attempt = limiter.begin(&account.email, client).map_err(rate_limited)?;
    if !password_matches(current_password, account.password_hash.clone()).await {
        drop(attempt); // counted as a failure
        let data = json!({ "email": account.email, "reason": "wrong_password", "operation": "changePassword", "client": client.to_string() });
        journal_failed_login(db, account.id, data).await?;
        return Err(DomainError::BadCredentials);
    }
    attempt.succeeded();
    let password_hash = password::hash(new_password).await?;
    let txn = db.begin().await?;
    let updated = end_sessions(&txn, account.id, Some(password_hash)).await?;
    journal::append(&txn, LogRow::by(actor, "user.password_changed", "user", account.id, json!({ "by": "self" })))
        .await?;
    txn.commit().await?;
    session_for(tokens, updated)
}

/// `revokeSessions`: ends every session of a user (the caller's own when no
/// user is named; another user's needs account administration).
pub async fn revoke_sessions(db: &DatabaseConnection, actor: &Actor, user_id: Option<Uuid>) -> DomainResult<bool> {
    let target = user_id.unwrap_or(actor.user_id);
    if target != actor.user_id {
        actor.require(Permission::ManageUsers)?;
    }
    let txn = db.begin().await?;
    end_sessions(&txn, target, None).await?;
    journal::append(&txn, LogRow::by(actor, "user.sessions_revoked", "user", target, json!({}))).await?;
    txn.commit().await?;
    Ok(true)
}

/// Raises the user's session epoch (every token issued before is refused
/// from now on), optionally with a new password hash. NOT_FOUND for an
/// unknown user.
async fn end_sessions(
    txn: &sea_orm::DatabaseTransaction,
    user_id: Uuid,
    password_hash: Option<String>,
) -> DomainResult<user::Model> {
    let mut update = user::Entity::update_many()
        .col_expr(user::Column::SessionEpoch, Expr::col(user::Column::SessionEpoch).add(1))
        .col_expr(user::Column::UpdatedAt, Expr::value(clock::now()))
        .filter(user::Column::Id.eq(user_id));
    if let Some(hash) = password_hash {
        update = update.col_expr(user::Column::PasswordHash, Expr::value(hash));
    }
    if update.exec(txn).await?.rows_affected == 0 {
        return Err(DomainError::NotFound("user"));
    }
    user::Entity::find_by_id(user_id).one(txn).await?.ok_or(DomainError::NotFound("user"))
}

fn session_for(tokens: &TokenService, user: user::Model) -> DomainResult<Session> {
    let (token, expires_at) = tokens.issue(user.id, user.role, user.session_epoch).map_err(DomainError::internal)?;
    Ok(Session { token, expires_at, user })
}

pub async fn me(db: &impl ConnectionTrait, actor: &Actor) -> DomainResult<user::Model> {
    user::Entity::find_by_id(actor.user_id).one(db).await?.ok_or(DomainError::Unauthenticated)
}

pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: PageRequest,
    role: Option<Role>,
) -> DomainResult<Page<user::Model>> {
    actor.require(Permission::ManageUsers)?;
    let mut select = user::Entity::find();
    if let Some(role) = role {
        select = select.filter(user::Column::Role.eq(role));
    }
    page::fetch(db, select, user::Column::CreatedAt, user::Column::Id, request, |u| Cursor {
        at: u.created_at,
        id: u.id,
    })
    .await
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    changes: UserChanges,
) -> DomainResult<user::Model> {
    actor.require(Permission::ManageUsers)?;
    let name = changes.name.as_deref().map(|n| validate::required_text("name", n, validate::NAME_MAX)).transpose()?;
    if let Some(password) = &changes.password {
        validate::password("password", password)?;
    }
    if id == actor.user_id {
        // An admin cannot lock itself out; another admin must do it.
        if changes.active == Some(false) {
            return Err(DomainError::bad_input("active", "you cannot deactivate your own account"));
        }
        if changes.role.is_some_and(|r| r != Role::Admin) {
            return Err(DomainError::bad_input("role", "you cannot demote your own account"));
        }
    }
    let password_hash = match changes.password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    let txn = db.begin().await?;
    let existing = user::Entity::find_by_id(id).one(&txn).await?.ok_or(DomainError::NotFound("user"))?;
    let mut model: user::ActiveModel = existing.clone().into();
    if let Some(name) = name {
        model.name = Set(name);
    }
    if let Some(role) = changes.role {
        model.role = Set(role);
    }
    if let Some(active) = changes.active {
        model.active = Set(active);
    }
    model.updated_at = Set(clock::now());
    let mut updated = model.update(&txn).await?;
    if let Some(hash) = password_hash {
        updated = end_sessions(&txn, id, Some(hash)).await?;
        journal::append(&txn, LogRow::by(actor, "user.password_changed", "user", id, json!({ "by": "admin" }))).await?;
    }
    journal::append(
        &txn,
        LogRow {
            event: "user.updated",
            entity_type: "user",
            entity_id: updated.id,
            actor_id: Some(actor.user_id),
            data: json!({
                "name": updated.name,
                "role": updated.role.as_str(),
                "active": updated.active,
                "previous": { "name": existing.name, "role": existing.role.as_str(), "active": existing.active },
            }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
