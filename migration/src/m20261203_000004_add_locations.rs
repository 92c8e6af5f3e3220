use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_sql(
            manager,
            include_str!("../sql/postgres/004_locations.sql"),
            include_str!("../sql/sqlite/004_locations.sql"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = "DROP INDEX job_assignments_live_starts_idx; DROP INDEX schedules_unavailable_idx; \
                        ALTER TABLE job_assignments DROP CONSTRAINT job_assignments_at_most_a_day; \
                        ALTER TABLE customers DROP COLUMN latitude, DROP COLUMN longitude; \
                        ALTER TABLE technicians DROP COLUMN base_latitude, DROP COLUMN base_longitude;";
        let sqlite = "DROP INDEX job_assignments_live_starts_idx; DROP INDEX schedules_unavailable_idx; \
                      ALTER TABLE customers DROP COLUMN longitude; ALTER TABLE customers DROP COLUMN latitude; \
                      ALTER TABLE technicians DROP COLUMN base_longitude; ALTER TABLE technicians DROP COLUMN base_latitude;";
        crate::run_sql(manager, postgres, sqlite).await
    }
}
