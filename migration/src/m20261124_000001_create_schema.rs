use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_sql(
            manager,
            include_str!("../sql/postgres/001_schema.sql"),
            include_str!("../sql/sqlite/001_schema.sql"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = "DROP TABLE IF EXISTS logs; DROP TABLE IF EXISTS payments; \
                    DROP TABLE IF EXISTS invoice_lines; DROP TABLE IF EXISTS invoices; \
                    DROP TABLE IF EXISTS counters; DROP TABLE IF EXISTS schedules; \
                    DROP TABLE IF EXISTS job_assignments; DROP TABLE IF EXISTS jobs; \
                    DROP TABLE IF EXISTS customers; DROP TABLE IF EXISTS technicians; \
                    DROP TABLE IF EXISTS bootstrap; DROP TABLE IF EXISTS users;";
        crate::run_sql(manager, drop, drop).await
    }
}
