//! The `fieldforge` binary: its commands and settings.

mod common;

use std::process::Command;

use common::{TestDatabase, backends};
use fieldforge::entities::{enums::JobStatus, job, user};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn fieldforge() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fieldforge"));
    command.env_remove("JWT_SECRET").env("RUST_LOG", "warn");
    command
}

#[test]
fn print_schema_prints_the_schema_file() {
    let output = fieldforge().arg("print-schema").output().unwrap();
    assert!(output.status.success());
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), on_disk);
}

#[test]
fn a_short_jwt_secret_is_refused() {
    let output = fieldforge()
        .args(["serve", "--database-url", "sqlite::memory:", "--listen", "127.0.0.1:0"])
        .env("JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 32 bytes"));
}

#[tokio::test]
async fn migrate_then_seed_demo_once() {
    for backend in backends() {
        let database = TestDatabase::create(backend).await;
        let migrate = fieldforge().arg("migrate").env("DATABASE_URL", &database.url).output().unwrap();
        assert!(migrate.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&migrate.stderr));

        let seed = fieldforge().arg("seed-demo").env("DATABASE_URL", &database.url).output().unwrap();
        let printed = String::from_utf8_lossy(&seed.stdout);
        assert!(seed.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&seed.stderr));
        assert!(printed.contains("admin@fieldforge.demo") && printed.contains("fieldforge-demo"), "{printed}");

        let db = database.connect().await;
        assert_eq!(
            user::Entity::find().count(&db).await.unwrap(),
            11,
            "{backend:?}: admin, 2 dispatchers, 8 technicians"
        );
        for status in
            [JobStatus::Pending, JobStatus::Scheduled, JobStatus::InProgress, JobStatus::Invoiced, JobStatus::Cancelled]
        {
            let count = job::Entity::find().filter(job::Column::Status.eq(status)).count(&db).await.unwrap();
            assert!(count > 0, "{backend:?}: no {status:?} jobs");
        }

        let again = fieldforge().arg("seed-demo").env("DATABASE_URL", &database.url).output().unwrap();
        assert!(!again.status.success(), "{backend:?}: a second seed must be refused");
        assert!(String::from_utf8_lossy(&again.stderr).contains("already has data"));
        assert_eq!(user::Entity::find().count(&db).await.unwrap(), 11);
    }
}
