//! The database guards its own rules: rows inserted straight through SeaORM,
//! bypassing the domain, are refused on both backends.

use crate::common::{Backend, TestDatabase};
use chrono::{DateTime, Duration, TimeZone, Utc};
use fieldforge::domain::error::{Violation, violation};
use fieldforge::entities::enums::{JobPriority, JobStatus, Role};
use fieldforge::entities::{customer, job, job_assignment, technician, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, DbErr};
use uuid::Uuid;

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 7, hour, 0, 0).unwrap()
}

async fn migrated(backend: Backend) -> (TestDatabase, DatabaseConnection) {
    let database = TestDatabase::create(backend).await;
    let db = database.connect().await;
    fieldforge::db::migrate(&database.url, &db).await.expect("migrations apply");
    (database, db)
}

fn technician_row(skill: i32, rate_cents: i64) -> technician::ActiveModel {
    technician::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(None),
        name: Set("Tess".into()),
        email: Set(None),
        phone: Set(None),
        skill_level: Set(skill),
        hourly_rate_cents: Set(rate_cents),
        active: Set(true),
        base_latitude: Set(None),
        base_longitude: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
    }
}

async fn job_row(db: &DatabaseConnection) -> Uuid {
    let customer = customer::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set("Carla".into()),
        email: Set(None),
        phone: Set(None),
        address: Set(None),
        latitude: Set(None),
        longitude: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .unwrap();
    job::ActiveModel {
        id: Set(Uuid::new_v4()),
        customer_id: Set(customer.id),
        title: Set("Fix boiler".into()),
        description: Set(None),
        status: Set(JobStatus::Scheduled),
        priority: Set(JobPriority::Normal),
        required_skill_level: Set(1),
        notes: Set(None),
        started_at: Set(None),
        completed_at: Set(None),
        cancelled_at: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

async fn assign(
    db: &DatabaseConnection,
    technician_id: Uuid,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
) -> Result<job_assignment::Model, DbErr> {
    assign_row(db, technician_id, starts, ends, true).await
}

async fn assign_row(
    db: &DatabaseConnection,
    technician_id: Uuid,
    starts: DateTime<Utc>,
    ends: DateTime<Utc>,
    live: bool,
) -> Result<job_assignment::Model, DbErr> {
    let job_id = job_row(db).await;
    job_assignment::ActiveModel {
        id: Set(Uuid::new_v4()),
        job_id: Set(job_id),
        technician_id: Set(technician_id),
        starts_at: Set(starts),
        ends_at: Set(ends),
        live: Set(live),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
}

each_backend! {
    #[tokio::test]
    async fn overlapping_assignments_are_refused_by_the_database(backend) {
        let (_database, db) = migrated(backend).await;
        let tech = technician_row(3, 5000).insert(&db).await.unwrap();
        let other = technician_row(3, 5000).insert(&db).await.unwrap();

        assign(&db, tech.id, at(9), at(11)).await.expect("first assignment");
        for (starts, ends) in [(at(10), at(12)), (at(8), at(10)), (at(9), at(11)), (at(8), at(12))] {
            let err = assign(&db, tech.id, starts, ends).await.expect_err("overlap must be refused");
            assert_eq!(violation(&err), Some(Violation::AssignmentOverlap), "{backend:?}: {err}");
        }
        // Half-open windows: back to back is fine, as is another technician.
        assign(&db, tech.id, at(11), at(12)).await.expect("back-to-back after");
        assign(&db, tech.id, at(7), at(9)).await.expect("back-to-back before");
        assign(&db, other.id, at(9), at(11)).await.expect("other technician");

        // Finished work keeps its row but no longer blocks the window…
        assign_row(&db, tech.id, at(9), at(11), false).await.expect("a non-live row may overlap");
        // …until it would become live again.
        let done = assign_row(&db, other.id, at(9), at(11), false).await.unwrap();
        let mut revive: job_assignment::ActiveModel = done.into();
        revive.live = Set(true);
        let err = revive.update(&db).await.expect_err("reviving into an overlap");
        assert_eq!(violation(&err), Some(Violation::AssignmentOverlap), "{backend:?}: {err}");

        // Moving an existing assignment onto another is refused too.
        let moved = assign(&db, tech.id, at(13), at(14)).await.unwrap();
        let mut update: job_assignment::ActiveModel = moved.into();
        update.starts_at = Set(at(10));
        let err = update.update(&db).await.expect_err("update into an overlap");
        assert_eq!(violation(&err), Some(Violation::AssignmentOverlap), "{backend:?}: {err}");
    }
}

each_backend! {
    #[tokio::test]
    async fn checks_refuse_bad_rows(backend) {
        let (_database, db) = migrated(backend).await;
        for (skill, rate) in [(0, 100), (6, 100), (3, -1), (3, 1_000_001)] {
            let err = technician_row(skill, rate).insert(&db).await.expect_err("bad technician");
            assert_eq!(violation(&err), Some(Violation::Check), "{backend:?} skill {skill} rate {rate}: {err}");
        }
        let tech = technician_row(3, 100).insert(&db).await.unwrap();
        let err = assign(&db, tech.id, at(10), at(10)).await.expect_err("empty window");
        assert_eq!(violation(&err), Some(Violation::Check), "{backend:?}: {err}");
        let err = assign(&db, Uuid::new_v4(), at(10), at(11)).await.expect_err("unknown technician");
        assert_eq!(violation(&err), Some(Violation::ForeignKey), "{backend:?}: {err}");
    }
}

each_backend! {
    #[tokio::test]
    async fn emails_are_unique_regardless_of_case(backend) {
        let (_database, db) = migrated(backend).await;
        let row = |email: &str| user::ActiveModel {
            id: Set(Uuid::new_v4()),
            email: Set(email.to_owned()),
            name: Set("U".into()),
            password_hash: Set("x".into()),
            role: Set(Role::Admin),
            active: Set(true),
            session_epoch: Set(0),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now() + Duration::zero()),
        };
        row("ann@example.com").insert(&db).await.unwrap();
        let err = row("ann@example.com").insert(&db).await.expect_err("duplicate");
        assert_eq!(violation(&err), Some(Violation::Unique), "{backend:?}: {err}");
        let err = row("Ann@Example.com").insert(&db).await.expect_err("not lower-cased");
        assert_eq!(violation(&err), Some(Violation::Check), "{backend:?}: {err}");
    }
}

each_backend! {
    #[tokio::test]
    async fn locations_are_in_range_and_come_in_pairs(backend) {
        let (_database, db) = migrated(backend).await;
        let base = |latitude: Option<f64>, longitude: Option<f64>| {
            let mut row = technician_row(1, 0);
            row.base_latitude = Set(latitude);
            row.base_longitude = Set(longitude);
            row
        };
        for (latitude, longitude) in [(Some(91.0), Some(0.0)), (Some(0.0), Some(180.5)), (Some(1.0), None), (None, Some(1.0))] {
            let err = base(latitude, longitude).insert(&db).await.expect_err("refused");
            assert_eq!(violation(&err), Some(Violation::Check), "{backend:?} {latitude:?} {longitude:?}: {err}");
        }
        base(Some(-90.0), Some(180.0)).insert(&db).await.expect("the edges are in range");
        base(None, None).insert(&db).await.expect("neither is fine");
        let customer = |latitude: Option<f64>, longitude: Option<f64>| customer::ActiveModel {
            id: Set(Uuid::new_v4()),
            name: Set("Carla".into()),
            email: Set(None),
            phone: Set(None),
            address: Set(None),
            latitude: Set(latitude),
            longitude: Set(longitude),
            created_at: Set(Utc::now()),
            updated_at: Set(Utc::now()),
        };
        let err = customer(Some(10.0), None).insert(&db).await.expect_err("half a pair");
        assert_eq!(violation(&err), Some(Violation::Check), "{backend:?}: {err}");
        let err = customer(Some(-90.5), Some(0.0)).insert(&db).await.expect_err("out of range");
        assert_eq!(violation(&err), Some(Violation::Check), "{backend:?}: {err}");
        customer(Some(51.45), Some(-2.59)).insert(&db).await.expect("a point");
    }
}
