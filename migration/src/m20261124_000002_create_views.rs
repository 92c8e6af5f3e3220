use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_sql(
            manager,
            include_str!("../sql/postgres/002_views.sql"),
            include_str!("../sql/sqlite/002_views.sql"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = "DROP VIEW IF EXISTS job_financials; DROP VIEW IF EXISTS technician_upcoming_jobs;";
        crate::run_sql(manager, drop, drop).await
    }
}
