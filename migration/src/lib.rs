//! Schema migrations. Each migration is plain SQL in two dialects
//! (`sql/postgres`, `sql/sqlite`): constraints, the exclusion constraint, the
//! overlap triggers and the views are easier to read and review as SQL than
//! as builder calls.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_schema;
mod m20261124_000002_create_views;
mod m20261203_000003_add_session_epoch;
mod m20261203_000004_add_locations;
mod m20261203_000005_add_webhooks;
mod m20261205_000006_add_schedule_ends_index;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_schema::Migration),
            Box::new(m20261124_000002_create_views::Migration),
            Box::new(m20261203_000003_add_session_epoch::Migration),
            Box::new(m20261203_000004_add_locations::Migration),
            Box::new(m20261203_000005_add_webhooks::Migration),
            Box::new(m20261205_000006_add_schedule_ends_index::Migration),
        ]
    }
}

/// A migration whose `up` is `sql/postgres/<script>` or `sql/sqlite/<script>`
/// for the connected backend, and whose `down` is the given SQL (one text
/// for both dialects, or one each).
macro_rules! sql_migration {
    ($script:literal, down: $down:expr) => {
        $crate::sql_migration!($script, down: $down, $down);
    };
    ($script:literal, down: $postgres:expr, $sqlite:expr) => {
        use sea_orm_migration::prelude::*;

        #[derive(DeriveMigrationName)]
        pub struct Migration;

        #[async_trait::async_trait]
        impl MigrationTrait for Migration {
            async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                crate::run_sql(
                    manager,
                    include_str!(concat!("../sql/postgres/", $script)),
                    include_str!(concat!("../sql/sqlite/", $script)),
                )
                .await
            }

            async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
                crate::run_sql(manager, $postgres, $sqlite).await
            }
        }
    };
}
pub(crate) use sql_migration;

/// Runs the dialect's script for the connected backend.
pub(crate) async fn run_sql(manager: &SchemaManager<'_>, postgres: &str, sqlite: &str) -> Result<(), DbErr> {
    let sql = match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => postgres,
        sea_orm::DatabaseBackend::Sqlite => sqlite,
        other => {
            return Err(DbErr::Migration(format!("unsupported database backend {other:?}")));
        }
    };
    manager.get_connection().execute_unprepared(sql).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migration's name is its file's stem, recorded in every database
    /// it ran on: a changed name would run it again there.
    #[test]
    fn migration_names_are_their_file_names() {
        let names: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
        assert_eq!(
            names,
            [
                "m20261124_000001_create_schema",
                "m20261124_000002_create_views",
                "m20261203_000003_add_session_epoch",
                "m20261203_000004_add_locations",
                "m20261203_000005_add_webhooks",
                "m20261205_000006_add_schedule_ends_index",
            ]
        );
    }
}
