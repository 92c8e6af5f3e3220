crate::sql_migration!("005_webhooks.sql", down: "DROP TABLE webhook_deliveries; DROP TABLE webhooks;");
