use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_sql(
            manager,
            include_str!("../sql/postgres/006_schedule_ends.sql"),
            include_str!("../sql/sqlite/006_schedule_ends.sql"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = "DROP INDEX schedules_technician_ends_idx;";
        crate::run_sql(manager, drop, drop).await
    }
}
