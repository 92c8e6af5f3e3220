use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_sql(
            manager,
            include_str!("../sql/postgres/005_webhooks.sql"),
            include_str!("../sql/sqlite/005_webhooks.sql"),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let drop = "DROP TABLE webhook_deliveries; DROP TABLE webhooks;";
        crate::run_sql(manager, drop, drop).await
    }
}
