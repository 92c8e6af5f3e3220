use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_sql(
            manager,
            include_str!("../sql/postgres/003_sessions.sql"),
            include_str!("../sql/sqlite/003_sessions.sql"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = "ALTER TABLE users DROP COLUMN session_epoch;";
        crate::run_sql(manager, drop, drop).await
    }
}
