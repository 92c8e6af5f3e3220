//! Accounts: registration (with the first-admin bootstrap), login, the
//! current user, and account administration.

use std::net::IpAddr;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Statement, Value,
};

use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{DomainError, DomainResult, Violation, violation};
use super::page::{self, Cursor, Page, PageRequest};
use super::{clock, validate};
use crate::auth::{password, rate_limit::LoginLimiter, token::TokenService};
use crate::entities::connection::RequestConnection;
use crate::entities::enums::Role;
use crate::entities::template::Template;
use crate::entities::{bootstrap, technician, user};
use crate::journal::change::{
    ChangedBy, LoginFailed, LoginFailure, PasswordChanged, SessionsRevoked, UserRegistered, UserState, UserUpdated,
};
use crate::journal::{Change, Journaled};

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
#[tracing::instrument(level = "debug", skip_all)]
pub async fn load_actor(db: &impl ConnectionTrait, user_id: Uuid, session_epoch: i64) -> DomainResult<Actor> {
    Ok(load_actor_at(db, user_id, session_epoch).await?.0)
}

/// As `load_actor`, with the journal's newest id read in the same statement.
/// Every change writes a journal row in its own transaction, so this id is a
/// version of all the data: while it stays the same, nothing has changed
/// (the HTTP response cache relies on it).
#[tracing::instrument(level = "debug", skip_all)]
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

/// A condition that holds while `actor`'s account is still what `actor`
/// says: active, of the same role, technician profile and session epoch.
/// One row of one boolean column, or none (false). The HTTP transport
/// guards a known caller's reads with it (`entities/guard.rs`), so that the
/// account is checked inside the request's first read instead of in a
/// round trip of its own; it means what `load_actor` answering `actor`
/// means.
pub fn caller_unchanged(backend: DatabaseBackend, actor: &Actor) -> Statement {
    let mut values: Vec<Value> =
        vec![true.into(), actor.user_id.into(), true.into(), actor.session_epoch.into(), actor.role.as_str().into()];
    let shape = match (actor.role, actor.technician_id) {
        (Role::Technician, Some(technician)) => {
            values.push(technician.into());
            1
        }
        (Role::Technician, None) => 2,
        _ => 0,
    };
    CALLER_UNCHANGED[shape].statement(backend, values, || build_caller_unchanged(backend, actor))
}

/// `caller_unchanged`'s text by shape: anyone but a technician, a
/// technician with its profile, one without (the profile's join and test).
static CALLER_UNCHANGED: [Template; 3] = [const { Template::new() }; 3];

fn build_caller_unchanged(backend: DatabaseBackend, actor: &Actor) -> Statement {
    let mut select = user::Entity::find_by_id(actor.user_id)
        .select_only()
        .expr(Expr::val(true))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::SessionEpoch.eq(actor.session_epoch))
        .filter(user::Column::Role.eq(actor.role));
    if actor.role == Role::Technician {
        select = select.left_join(technician::Entity).filter(match actor.technician_id {
            Some(id) => technician::Column::Id.eq(id),
            None => technician::Column::Id.is_null(),
        });
    }
    select.build(backend)
}

/// Guards `connection`'s reads with `caller_unchanged(actor)` (nothing on
/// SQLite, where reads cannot carry a guard).
pub fn guard_reads(connection: &RequestConnection, actor: &Actor) {
    connection.guard(caller_unchanged(connection.get_database_backend(), actor));
}

/// `register`: anonymous only for the first account (which must be ADMIN);
/// afterwards admins register any role and dispatchers technicians only.
#[tracing::instrument(level = "debug", skip_all)]
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
    let id = Uuid::new_v4();
    let new_user = user::ActiveModel {
        id: Set(id),
        email: Set(email),
        name: Set(name),
        password_hash: Set(password_hash),
        role: Set(input.role),
        active: Set(true),
        session_epoch: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    };

    // The first admin registers itself: it is its own actor.
    let txn = Journaled::begin(db, Some(actor.map_or(id, |a| a.user_id))).await?;
    let created = new_user.insert(&*txn).await.map_err(|err| match violation(&err) {
        Some(Violation::Unique) => DomainError::conflict("a user with this email already exists"),
        _ => err.into(),
    })?;
    if actor.is_none() {
        // Two racing bootstraps: the loser hits the singleton's primary key.
        let row = bootstrap::ActiveModel { singleton: Set(1), user_id: Set(created.id), created_at: Set(now) };
        if let Err(err) = bootstrap::Entity::insert(row).exec_without_returning(&*txn).await {
            return Err(match violation(&err) {
                Some(Violation::Unique) => DomainError::Unauthenticated,
                _ => err.into(),
            });
        }
    }
    let change = UserRegistered { email: created.email.clone(), name: created.name.clone(), role: created.role };
    txn.commit(created.id, Change::UserRegistered(change)).await?;
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
                None => LoginFailure::UnknownEmail,
                Some(u) if !u.active => LoginFailure::Inactive,
                Some(_) => LoginFailure::WrongPassword,
            };
            // Unknown emails get a stable id of their own, so failures group.
            let entity_id =
                found.as_ref().map_or_else(|| Uuid::new_v5(&Uuid::NAMESPACE_OID, email.as_bytes()), |u| u.id);
            let failure = LoginFailed { email, reason, operation: None, client: client.to_string() };
            journal_failed_login(db, entity_id, failure).await?;
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

/// A failed password check has no actor: nobody proved who they are.
async fn journal_failed_login(db: &DatabaseConnection, user_id: Uuid, failure: LoginFailed) -> DomainResult<()> {
    let txn = Journaled::begin(db, None).await?;
    txn.commit(user_id, Change::LoginFailed(failure)).await?;
    Ok(())
}

/// `changePassword`: the current password is checked like a login (a wrong
/// one counts toward the login limit); the new one ends every earlier
/// session of the caller, and the answer carries a fresh token.
#[tracing::instrument(level = "debug", skip_all)]
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
        let failure = LoginFailed {
            email: account.email,
            reason: LoginFailure::WrongPassword,
            operation: Some("changePassword".into()),
            client: client.to_string(),
        };
        journal_failed_login(db, account.id, failure).await?;
        return Err(DomainError::BadCredentials);
    }
    attempt.succeeded();
    let password_hash = password::hash(new_password).await?;
    let txn = super::write(db, actor).await?;
    let updated = end_sessions(&txn, account.id, Some(password_hash)).await?;
    txn.commit(account.id, Change::PasswordChanged(PasswordChanged { by: ChangedBy::Owner })).await?;
    session_for(tokens, updated)
}

/// `revokeSessions`: ends every session of a user (the caller's own when no
/// user is named; another user's needs account administration).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_sessions(db: &DatabaseConnection, actor: &Actor, user_id: Option<Uuid>) -> DomainResult<bool> {
    let target = user_id.unwrap_or(actor.user_id);
    if target != actor.user_id {
        actor.require(Permission::ManageUsers)?;
    }
    let txn = super::write(db, actor).await?;
    end_sessions(&txn, target, None).await?;
    txn.commit(target, Change::SessionsRevoked(SessionsRevoked {})).await?;
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

#[tracing::instrument(level = "debug", skip_all)]
pub async fn me(db: &impl ConnectionTrait, actor: &Actor) -> DomainResult<user::Model> {
    user::Entity::find_by_id(actor.user_id).one(db).await?.ok_or(DomainError::Unauthenticated)
}

#[tracing::instrument(level = "debug", skip_all)]
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
    page::fetch(db, select, user::Column::CreatedAt, user::Column::Id, request, |u| Cursor::row(u.created_at, u.id))
        .await
}

#[tracing::instrument(level = "debug", skip_all)]
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
    let txn = super::write(db, actor).await?;
    let existing = user::Entity::find_by_id(id).one(&*txn).await?.ok_or(DomainError::NotFound("user"))?;
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
    let mut updated = model.update(&*txn).await?;
    if let Some(hash) = password_hash {
        updated = end_sessions(&txn, id, Some(hash)).await?;
        txn.record(id, Change::PasswordChanged(PasswordChanged { by: ChangedBy::Admin })).await?;
    }
    let change = UserUpdated {
        name: updated.name.clone(),
        role: updated.role,
        active: updated.active,
        previous: UserState { name: existing.name, role: existing.role, active: existing.active },
    };
    txn.commit(updated.id, Change::UserUpdated(change)).await?;
    Ok(updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actors() -> [(Actor, Actor); 3] {
        let actor = |n: u128, role, technician_id| Actor {
            user_id: Uuid::from_u128(n),
            role,
            technician_id,
            session_epoch: n as i64,
        };
        [
            (actor(1, Role::Admin, None), actor(2, Role::Dispatcher, None)),
            (
                actor(3, Role::Technician, Some(Uuid::from_u128(30))),
                actor(4, Role::Technician, Some(Uuid::from_u128(40))),
            ),
            (actor(5, Role::Technician, None), actor(6, Role::Technician, None)),
        ]
    }

    /// Each shape's text is built once and reused, and the reused
    /// statement is the one a fresh build gives.
    #[test]
    fn the_callers_guard_is_built_once_per_shape() {
        for backend in [DatabaseBackend::Postgres, DatabaseBackend::Sqlite] {
            for (shape, (first, second)) in actors().iter().enumerate() {
                assert_eq!(caller_unchanged(backend, first), build_caller_unchanged(backend, first));
                assert!(CALLER_UNCHANGED[shape].kept(backend), "shape {shape} is reused on {backend:?}");
                assert_eq!(caller_unchanged(backend, second), build_caller_unchanged(backend, second));
            }
        }
    }
}
