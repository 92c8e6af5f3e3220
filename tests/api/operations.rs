//! Customers, technicians, jobs and their lifecycle, assignments, schedules,
//! availability; the role table for these operations; the journal.

use crate::common::TestApp;
use crate::common::fixtures::*;
use fieldforge::entities::journal_entry as log;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

each_backend! {
    #[tokio::test]
    async fn customers_crud_search_and_roles(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        create_customer(&app, &office.admin, "Zed Zimmer").await;
        create_customer(&app, &office.dispatcher, "Anna 100% Sure").await;

        let search = "query($s: String) { customers(search: $s) { totalCount nodes { name } } }";
        let body = app.gql(Some(&office.dispatcher), search, json!({ "s": "zIMM" })).await;
        assert_eq!(body["data"]["customers"]["totalCount"], 1, "{backend:?}: {body}");
        assert_eq!(body["data"]["customers"]["nodes"][0]["name"], "Zed Zimmer");
        let body = app.gql(Some(&office.dispatcher), search, json!({ "s": "100%" })).await;
        assert_eq!(body["data"]["customers"]["totalCount"], 1, "{backend:?}: % is literal: {body}");
        let body = app.gql(Some(&office.dispatcher), search, json!({ "s": "555 0100" })).await;
        assert_eq!(body["data"]["customers"]["totalCount"], 3, "{backend:?}: phone search");
        let body = app.gql(Some(&office.dispatcher), search, json!({})).await;
        assert_eq!(body["data"]["customers"]["nodes"][0]["name"], "Anna 100% Sure", "newest first");

        let update =
            "mutation($id: ID!, $i: UpdateCustomerInput!) { updateCustomer(id: $id, input: $i) { name email phone } }";
        let body = app
            .gql(
                Some(&office.dispatcher),
                update,
                json!({ "id": office.customer_id, "i": { "name": "Carla C", "phone": "" } }),
            )
            .await;
        assert_eq!(
            body["data"]["updateCustomer"],
            json!({ "name": "Carla C", "email": "carla.customer@example.com", "phone": null })
        );
        let body = app
            .gql(Some(&office.dispatcher), update, json!({ "id": office.customer_id, "i": { "email": "nope" } }))
            .await;
        expect_code(&body, "BAD_USER_INPUT");
        let body = app
            .gql(Some(&office.dispatcher), update, json!({ "id": uuid::Uuid::new_v4(), "i": { "name": "X" } }))
            .await;
        expect_code(&body, "NOT_FOUND");

        // Technicians: no customer operations at all.
        expect_code(&app.gql(Some(&office.tech), search, json!({})).await, "FORBIDDEN");
        let one = "query($id: ID!) { customer(id: $id) { name } }";
        expect_code(&app.gql(Some(&office.tech), one, json!({ "id": office.customer_id })).await, "FORBIDDEN");
        let create = "mutation { createCustomer(input: { name: \"X\" }) { id } }";
        expect_code(&app.gql(Some(&office.tech), create, json!({})).await, "FORBIDDEN");
        expect_code(
            &app.gql(Some(&office.tech), update, json!({ "id": office.customer_id, "i": { "name": "X" } })).await,
            "FORBIDDEN",
        );
        // Staff: a missing customer is null, not an error.
        let body = app.gql(Some(&office.admin), one, json!({ "id": uuid::Uuid::new_v4() })).await;
        assert!(body["data"]["customer"].is_null() && body["errors"].is_null(), "{body}");
        let long = format!("mutation {{ createCustomer(input: {{ name: \"{}\" }}) {{ id }} }}", "n".repeat(201));
        expect_code(&app.gql(Some(&office.admin), &long, json!({})).await, "BAD_USER_INPUT");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn technicians_crud_links_and_roles(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let one = "query($id: ID!) { technician(id: $id) { id name hourlyRate skillLevel user { email } } }";
        let body = app.gql(Some(&office.dispatcher), one, json!({ "id": office.other_tech_id })).await;
        assert_eq!(body["data"]["technician"]["hourlyRate"], "55.50", "{backend:?}: exact money: {body}");
        assert_eq!(body["data"]["technician"]["user"]["email"], "otto@example.com");

        // A technician sees itself, and nobody else (null, as if missing).
        let me = app.gql(Some(&office.tech), one, json!({ "id": office.tech_id })).await;
        assert_eq!(me["data"]["technician"]["name"], "Tess");
        let other = app.gql(Some(&office.tech), one, json!({ "id": office.other_tech_id })).await;
        assert!(other["data"]["technician"].is_null() && other["errors"].is_null(), "{other}");
        let linked = app.gql(Some(&office.tech), "{ me { technician { id } } }", json!({})).await;
        assert_eq!(linked["data"]["me"]["technician"]["id"], office.tech_id.as_str());
        expect_code(&app.gql(Some(&office.tech), "{ technicians { totalCount } }", json!({})).await, "FORBIDDEN");

        let create = "mutation($i: CreateTechnicianInput!) { createTechnician(input: $i) { id active } }";
        for (label, input) in [
            ("skill 0", json!({ "name": "X", "skillLevel": 0, "hourlyRate": "10" })),
            ("skill 6", json!({ "name": "X", "skillLevel": 6, "hourlyRate": "10" })),
            ("negative rate", json!({ "name": "X", "skillLevel": 1, "hourlyRate": "-1" })),
            ("rate too high", json!({ "name": "X", "skillLevel": 1, "hourlyRate": "10000.01" })),
            ("three decimals", json!({ "name": "X", "skillLevel": 1, "hourlyRate": "10.001" })),
        ] {
            let body = app.gql(Some(&office.admin), create, json!({ "i": input })).await;
            expect_code(&body, "BAD_USER_INPUT");
            let _ = label;
        }
        // A login links to at most one technician, and only a TECHNICIAN login.
        let me = app.gql(Some(&office.tech), "{ me { id } }", json!({})).await;
        let tech_user = me["data"]["me"]["id"].as_str().unwrap();
        let body = app
            .gql(
                Some(&office.admin),
                create,
                json!({ "i": { "name": "Dup", "skillLevel": 1, "hourlyRate": "1", "userId": tech_user } }),
            )
            .await;
        expect_code(&body, "CONFLICT");
        let admin_me = app.gql(Some(&office.admin), "{ me { id } }", json!({})).await;
        let admin_user = admin_me["data"]["me"]["id"].as_str().unwrap();
        let body = app
            .gql(
                Some(&office.admin),
                create,
                json!({ "i": { "name": "Adm", "skillLevel": 1, "hourlyRate": "1", "userId": admin_user } }),
            )
            .await;
        expect_code(&body, "BAD_USER_INPUT");
        expect_code(
            &app.gql(Some(&office.tech), create, json!({ "i": { "name": "T", "skillLevel": 1, "hourlyRate": "1" } }))
                .await,
            "FORBIDDEN",
        );

        let body = app
            .gql(
                Some(&office.admin),
                create,
                json!({ "i": { "name": "Idle", "skillLevel": 2, "hourlyRate": "20", "active": false } }),
            )
            .await;
        assert_eq!(body["data"]["createTechnician"]["active"], false);
        let body = app.gql(Some(&office.admin), "{ technicians(active: true) { totalCount } }", json!({})).await;
        assert_eq!(body["data"]["technicians"]["totalCount"], 2);
        let update = "mutation($id: ID!) { updateTechnician(id: $id, input: { skillLevel: 4, hourlyRate: \"42.25\" }) { skillLevel hourlyRate } }";
        let body = app.gql(Some(&office.dispatcher), update, json!({ "id": office.tech_id })).await;
        assert_eq!(body["data"]["updateTechnician"], json!({ "skillLevel": 4, "hourlyRate": "42.25" }));
        expect_code(&app.gql(Some(&office.tech), update, json!({ "id": office.tech_id })).await, "FORBIDDEN");
        app.stop().await;
    }
}

const JOB_CALENDAR: &str = "query($t: ID!, $f: DateTime!, $to: DateTime!) { schedule(technicianId: $t, from: $f, to: $to) { kind job { id } } }";

/// The calendar of day 1 of a technician, as the dispatcher sees it.
async fn day_one_of(app: &TestApp, office: &Office, technician: &str) -> Value {
    let body = app
        .gql(Some(&office.dispatcher), JOB_CALENDAR, json!({ "t": technician, "f": at(1, 0), "to": at(2, 0) }))
        .await;
    body["data"]["schedule"].clone()
}

each_backend! {
    #[tokio::test]
    async fn a_pending_job_can_be_neither_started_nor_unassigned(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let job = create_job(&app, d, &office.customer_id, "Boiler service", 2).await;
        let body = job_move(&app, d, "startJob", &job).await;
        expect_code(&body, "INVALID_TRANSITION");
        assert_eq!(body["errors"][0]["extensions"]["from"], "PENDING", "{backend:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["to"], "IN_PROGRESS");
        expect_code(&job_move(&app, d, "unassignJob", &job).await, "INVALID_TRANSITION");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn reassigning_moves_the_window_and_unassigning_frees_it(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let job = create_job(&app, d, &office.customer_id, "Boiler service", 2).await;
        assign_ok(&app, d, &job, &office.tech_id, &at(1, 9), &at(1, 11)).await;
        let body = assign(&app, d, &job, &office.other_tech_id, &at(1, 13), &at(1, 15)).await;
        assert_eq!(body["data"]["assignJob"]["assignment"]["technician"]["id"], office.other_tech_id.as_str(), "{body}");
        assert_eq!(day_one_of(&app, &office, &office.tech_id).await, json!([]), "{backend:?}: old window freed");
        assert_eq!(day_one_of(&app, &office, &office.other_tech_id).await, json!([{ "kind": "JOB", "job": { "id": job } }]));
        let body = job_move(&app, d, "unassignJob", &job).await;
        assert_eq!(body["data"]["unassignJob"]["status"], "PENDING");
        assert_eq!(day_one_of(&app, &office, &office.other_tech_id).await, json!([]), "unassign removes the JOB entry");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn a_started_job_can_no_longer_be_cancelled_unassigned_or_reassigned(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let job = create_job(&app, d, &office.customer_id, "Boiler service", 2).await;
        assign_ok(&app, d, &job, &office.tech_id, &at(1, 9), &at(1, 11)).await;
        let body = job_move(&app, &office.tech, "startJob", &job).await;
        assert_eq!(body["data"]["startJob"]["status"], "IN_PROGRESS", "{backend:?}: {body}");
        assert!(body["data"]["startJob"]["startedAt"].is_string());
        for mutation in ["cancelJob", "unassignJob", "startJob"] {
            let body = job_move(&app, d, mutation, &job).await;
            expect_code(&body, "INVALID_TRANSITION");
            assert_eq!(body["errors"][0]["extensions"]["from"], "IN_PROGRESS", "{mutation}");
        }
        expect_code(&assign(&app, d, &job, &office.tech_id, &at(1, 9), &at(1, 11)).await, "INVALID_TRANSITION");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn cancelling_from_pending_or_scheduled_frees_the_window(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let pending = create_job(&app, d, &office.customer_id, "Quote", 1).await;
        let body = job_move(&app, d, "cancelJob", &pending).await;
        assert_eq!(body["data"]["cancelJob"]["status"], "CANCELLED", "{backend:?}: {body}");
        assert!(body["data"]["cancelJob"]["cancelledAt"].is_string());
        expect_code(&job_move(&app, d, "cancelJob", &pending).await, "INVALID_TRANSITION");
        let scheduled = create_job(&app, d, &office.customer_id, "Leak", 1).await;
        assign_ok(&app, d, &scheduled, &office.other_tech_id, &at(2, 9), &at(2, 10)).await;
        let body = job_move(&app, d, "cancelJob", &scheduled).await;
        assert_eq!(body["data"]["cancelJob"]["status"], "CANCELLED", "{body}");
        let again = create_job(&app, d, &office.customer_id, "Leak again", 1).await;
        assign_ok(&app, d, &again, &office.other_tech_id, &at(2, 9), &at(2, 10)).await;
        let db = app.db.connect().await;
        let cancelled = log::Entity::find().filter(log::Column::Event.eq("job.cancelled")).all(&db).await.unwrap();
        assert_eq!(cancelled.len(), 2, "one journal row per cancellation");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn a_missing_customer_or_job_is_not_found(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let body = app
            .gql(
                Some(d),
                "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }",
                json!({ "i": { "customerId": uuid::Uuid::new_v4(), "title": "x" } }),
            )
            .await;
        expect_code(&body, "NOT_FOUND");
        expect_code(&job_move(&app, d, "startJob", &uuid::Uuid::new_v4().to_string()).await, "NOT_FOUND");
        expect_code(&job_move(&app, d, "startJob", "not-a-uuid").await, "NOT_FOUND");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn every_move_of_a_job_journals_one_row_with_its_actor(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let job = create_job(&app, d, &office.customer_id, "Boiler service", 2).await;
        assign_ok(&app, d, &job, &office.tech_id, &at(1, 9), &at(1, 11)).await;
        assign_ok(&app, d, &job, &office.other_tech_id, &at(1, 13), &at(1, 15)).await;
        job_move(&app, d, "unassignJob", &job).await;
        assign_ok(&app, d, &job, &office.tech_id, &at(1, 9), &at(1, 11)).await;
        job_move(&app, &office.tech, "startJob", &job).await;
        // Refused moves journal nothing.
        job_move(&app, d, "cancelJob", &job).await;
        let db = app.db.connect().await;
        let rows = log::Entity::find()
            .filter(log::Column::EntityType.eq("job"))
            .filter(log::Column::EntityId.eq(uuid::Uuid::parse_str(&job).unwrap()))
            .order_by_asc(log::Column::Id)
            .all(&db)
            .await
            .unwrap();
        let events: Vec<&str> = rows.iter().map(|r| r.event.as_str()).collect();
        assert_eq!(
            events,
            ["job.created", "job.assigned", "job.assigned", "job.unassigned", "job.assigned", "job.started"],
            "{backend:?}"
        );
        assert!(rows.iter().all(|r| r.actor_id.is_some()));
        assert_eq!(rows[2].data.as_ref().unwrap()["technicianId"], office.other_tech_id.as_str());
        assert_eq!(rows[2].data.as_ref().unwrap()["previous"]["technicianId"], office.tech_id.as_str());
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn assignment_rules(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let first = create_job(&app, d, &office.customer_id, "First", 1).await;
        let second = create_job(&app, d, &office.customer_id, "Second", 1).await;
        let expert = create_job(&app, d, &office.customer_id, "Expert work", 4).await;

        let body = assign(&app, d, &first, &office.tech_id, &at(1, 11), &at(1, 9)).await;
        expect_code(&body, "BAD_USER_INPUT");
        let body = assign(&app, d, &first, &office.tech_id, &at(1, 9), &at(1, 9)).await;
        expect_code(&body, "BAD_USER_INPUT");
        let body = assign(&app, d, &first, &office.tech_id, &at(1, 8), &at(2, 9)).await;
        expect_code(&body, "BAD_USER_INPUT");
        let body = assign(&app, d, &expert, &office.tech_id, &at(1, 9), &at(1, 10)).await;
        expect_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "technicianId");
        let idle = create_technician(&app, &office.admin, "Idle", 5, "10", None).await;
        app.gql(
            Some(&office.admin),
            "mutation($id: ID!) { updateTechnician(id: $id, input: { active: false }) { id } }",
            json!({ "id": idle }),
        )
        .await;
        let body = assign(&app, d, &first, &idle, &at(1, 9), &at(1, 10)).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "technicianId", "{backend:?}: inactive: {body}");
        expect_code(
            &assign(&app, d, &first, &uuid::Uuid::new_v4().to_string(), &at(1, 9), &at(1, 10)).await,
            "NOT_FOUND",
        );
        expect_code(&assign(&app, &office.tech, &first, &office.tech_id, &at(1, 9), &at(1, 10)).await, "FORBIDDEN");
        let avail = "query($s: DateTime!, $e: DateTime!) { availableTechnicians(startsAt: $s, endsAt: $e) { id } }";
        let body = app.gql(Some(d), avail, json!({ "s": at(1, 9), "e": at(1, 10) })).await;
        assert!(
            !body["data"]["availableTechnicians"].to_string().contains(&idle),
            "{backend:?}: inactive never available"
        );

        // Text limits: descriptions up to 10,000 characters, skill 1..5.
        let create = "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }";
        let long =
            |n: usize| json!({ "i": { "customerId": office.customer_id, "title": "T", "description": "d".repeat(n) } });
        assert!(app.gql(Some(d), create, long(10_000)).await["errors"].is_null());
        expect_code(&app.gql(Some(d), create, long(10_001)).await, "BAD_USER_INPUT");
        let skill = json!({ "i": { "customerId": office.customer_id, "title": "T", "requiredSkillLevel": 6 } });
        expect_code(&app.gql(Some(d), create, skill).await, "BAD_USER_INPUT");

        // Exactly 24 h is allowed; overlap is CONFLICT naming the job; back to back is fine.
        assign_ok(&app, d, &first, &office.tech_id, &at(1, 9), &at(1, 11)).await;
        let body = assign(&app, d, &second, &office.tech_id, &at(1, 10), &at(1, 12)).await;
        expect_code(&body, "CONFLICT");
        assert_eq!(body["errors"][0]["extensions"]["conflictingJobId"], first.as_str());
        assign_ok(&app, d, &second, &office.tech_id, &at(1, 11), &at(1, 12)).await;
        let long = create_job(&app, d, &office.customer_id, "Long", 1).await;
        assign_ok(&app, d, &long, &office.other_tech_id, &at(3, 0), &at(4, 0)).await;

        // UNAVAILABLE entries block assignments, naming the entry.
        let create = "mutation($i: CreateScheduleEntryInput!) { createScheduleEntry(input: $i) { id kind } }";
        let body = app
            .gql(Some(&office.tech), create, json!({ "i": { "technicianId": office.tech_id, "kind": "UNAVAILABLE", "startsAt": at(1, 14), "endsAt": at(1, 18), "note": "dentist" } }))
            .await;
        let entry = body["data"]["createScheduleEntry"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
        let third = create_job(&app, d, &office.customer_id, "Third", 1).await;
        let body = assign(&app, d, &third, &office.tech_id, &at(1, 17), &at(1, 19)).await;
        expect_code(&body, "CONFLICT");
        assert_eq!(body["errors"][0]["extensions"]["conflictingScheduleEntryId"], entry.as_str());
        // An UNAVAILABLE entry cannot be laid over booked work either.
        let body = app
            .gql(Some(d), create, json!({ "i": { "technicianId": office.tech_id, "kind": "UNAVAILABLE", "startsAt": at(1, 10), "endsAt": at(1, 10) } }))
            .await;
        expect_code(&body, "BAD_USER_INPUT");
        let body = app
            .gql(Some(d), create, json!({ "i": { "technicianId": office.tech_id, "kind": "UNAVAILABLE", "startsAt": at(1, 10), "endsAt": at(1, 13) } }))
            .await;
        expect_code(&body, "CONFLICT");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn concurrent_conflicting_assignments_end_with_one_winner(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let mut jobs = Vec::new();
        for n in 0..12 {
            jobs.push(create_job(&app, &office.dispatcher, &office.customer_id, &format!("Race {n}"), 1).await);
        }
        let (starts, ends) = (at(5, 9), at(5, 12));
        let calls = jobs.iter().map(|job| assign(&app, &office.dispatcher, job, &office.tech_id, &starts, &ends));
        let results = futures_util::future::join_all(calls).await;
        let won: Vec<_> = results.iter().filter(|b| b["data"]["assignJob"]["status"] == "SCHEDULED").collect();
        let conflicts = results.iter().filter(|b| b["errors"][0]["extensions"]["code"] == "CONFLICT").count();
        assert_eq!(won.len(), 1, "{backend:?}: {results:?}");
        assert_eq!(conflicts, 11, "{backend:?}: {results:?}");
        let winner = won[0]["data"]["assignJob"]["id"].as_str().unwrap();
        for loser in results.iter().filter(|b| b["errors"].is_array()) {
            assert_eq!(loser["errors"][0]["extensions"]["conflictingJobId"], winner, "{backend:?}");
        }
        app.stop().await;
    }
}

const CREATE_ENTRY: &str =
    "mutation($i: CreateScheduleEntryInput!) { createScheduleEntry(input: $i) { id kind note technician { id } } }";
const SCHEDULE: &str = "query($t: ID!, $f: DateTime!, $to: DateTime!) { schedule(technicianId: $t, from: $f, to: $to) { id kind startsAt job { id } } }";

fn entry_input(technician: &str, kind: &str, from: String, to: String) -> Value {
    json!({ "i": { "technicianId": technician, "kind": kind, "startsAt": from, "endsAt": to } })
}

/// Day 1: Tess AVAILABLE 7–17 (by herself) with a job booked 9–10; Otto
/// UNAVAILABLE 8–12. Returns the job's id and Tess's AVAILABLE entry's id.
async fn a_booked_day(app: &TestApp, office: &Office) -> (String, String) {
    let available =
        app.gql(Some(&office.tech), CREATE_ENTRY, entry_input(&office.tech_id, "AVAILABLE", at(1, 7), at(1, 17))).await;
    let available_id =
        available["data"]["createScheduleEntry"]["id"].as_str().unwrap_or_else(|| panic!("{available}")).to_owned();
    let unavailable = entry_input(&office.other_tech_id, "UNAVAILABLE", at(1, 8), at(1, 12));
    let body = app.gql(Some(&office.dispatcher), CREATE_ENTRY, unavailable).await;
    assert!(body["errors"].is_null(), "{body}");
    let job = create_job(app, &office.dispatcher, &office.customer_id, "Tap", 1).await;
    assign_ok(app, &office.dispatcher, &job, &office.tech_id, &at(1, 9), &at(1, 10)).await;
    (job, available_id)
}

each_backend! {
    #[tokio::test]
    async fn technicians_write_only_their_own_calendar_and_never_job_entries(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let (_, available_id) = a_booked_day(&app, &office).await;
        expect_code(
            &app.gql(Some(&office.tech), CREATE_ENTRY, entry_input(&office.other_tech_id, "AVAILABLE", at(1, 7), at(1, 8))).await,
            "FORBIDDEN",
        );
        for token in [&office.tech, d] {
            expect_code(
                &app.gql(Some(token), CREATE_ENTRY, entry_input(&office.tech_id, "JOB", at(1, 7), at(1, 8))).await,
                "BAD_USER_INPUT",
            );
        }
        // JOB entries cannot be deleted by hand; others can, by their owner or staff.
        let job_entry = app.gql(Some(d), SCHEDULE, json!({ "t": office.tech_id, "f": at(1, 9), "to": at(1, 10) })).await;
        let job_entry_id =
            job_entry["data"]["schedule"].as_array().unwrap().iter().find(|e| e["kind"] == "JOB").unwrap()["id"].clone();
        let delete = "mutation($id: ID!) { deleteScheduleEntry(id: $id) }";
        expect_code(&app.gql(Some(d), delete, json!({ "id": job_entry_id })).await, "BAD_USER_INPUT");
        expect_code(&app.gql(Some(&office.other_tech), delete, json!({ "id": available_id })).await, "NOT_FOUND");
        let body = app.gql(Some(&office.tech), delete, json!({ "id": available_id })).await;
        assert_eq!(body["data"]["deleteScheduleEntry"], true, "{backend:?}: {body}");
        expect_code(&app.gql(Some(d), delete, json!({ "id": available_id })).await, "NOT_FOUND");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn calendars_list_half_open_windows_in_order_to_those_who_may_see_them(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let (job, _) = a_booked_day(&app, &office).await;
        let body =
            app.gql(Some(&office.tech), SCHEDULE, json!({ "t": office.tech_id, "f": at(1, 0), "to": at(2, 0) })).await;
        let kinds: Vec<&str> =
            body["data"]["schedule"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["AVAILABLE", "JOB"], "{backend:?}: ordered by start: {body}");
        // Half-open: a window ending where the entry starts does not include it.
        let body =
            app.gql(Some(&office.dispatcher), SCHEDULE, json!({ "t": office.tech_id, "f": at(1, 0), "to": at(1, 7) })).await;
        assert_eq!(body["data"]["schedule"], json!([]));
        expect_code(
            &app.gql(Some(&office.tech), SCHEDULE, json!({ "t": office.other_tech_id, "f": at(1, 0), "to": at(2, 0) }))
                .await,
            "FORBIDDEN",
        );
        let nested = "query($id: ID!, $f: DateTime!, $to: DateTime!) { technician(id: $id) { schedule(from: $f, to: $to) { kind } upcomingJobs { job { id } startsAt } } }";
        let body =
            app.gql(Some(&office.tech), nested, json!({ "id": office.tech_id, "f": at(1, 0), "to": at(2, 0) })).await;
        assert_eq!(body["data"]["technician"]["schedule"].as_array().unwrap().len(), 2, "{body}");
        assert_eq!(body["data"]["technician"]["upcomingJobs"][0]["job"]["id"], job.as_str());
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn available_technicians_have_the_skill_and_nothing_booked_or_blocked(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        a_booked_day(&app, &office).await;
        let avail = "query($s: DateTime!, $e: DateTime!, $k: Int) { availableTechnicians(startsAt: $s, endsAt: $e, minSkillLevel: $k) { id } }";
        let ids = |body: &serde_json::Value| -> Vec<String> {
            body["data"]["availableTechnicians"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let body = app.gql(Some(d), avail, json!({ "s": at(1, 9), "e": at(1, 10) })).await;
        assert_eq!(ids(&body), Vec::<String>::new(), "{backend:?}: Tess booked, Otto unavailable");
        let body = app.gql(Some(d), avail, json!({ "s": at(1, 12), "e": at(1, 13) })).await;
        assert_eq!(
            ids(&body),
            vec![office.other_tech_id.clone(), office.tech_id.clone()],
            "back to back is free (by name)"
        );
        let body = app.gql(Some(d), avail, json!({ "s": at(1, 12), "e": at(1, 13), "k": 4 })).await;
        assert_eq!(ids(&body), vec![office.other_tech_id.clone()]);
        expect_code(&app.gql(Some(&office.tech), avail, json!({ "s": at(1, 12), "e": at(1, 13) })).await, "FORBIDDEN");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn upcoming_jobs_are_everyones_for_staff_and_their_own_for_technicians(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        a_booked_day(&app, &office).await;
        let upcoming = "query($t: ID) { upcomingJobs(technicianId: $t) { job { id } technician { id } } }";
        let body = app.gql(Some(&office.dispatcher), upcoming, json!({})).await;
        assert_eq!(body["data"]["upcomingJobs"].as_array().unwrap().len(), 1, "{backend:?}: {body}");
        let body = app.gql(Some(&office.tech), upcoming, json!({})).await;
        assert_eq!(body["data"]["upcomingJobs"][0]["technician"]["id"], office.tech_id.as_str());
        let body = app.gql(Some(&office.other_tech), upcoming, json!({})).await;
        assert_eq!(body["data"]["upcomingJobs"], json!([]));
        expect_code(&app.gql(Some(&office.other_tech), upcoming, json!({ "t": office.tech_id })).await, "FORBIDDEN");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn technicians_see_only_their_own_work(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let mine = create_job(&app, d, &office.customer_id, "Mine", 1).await;
        let theirs = create_job(&app, d, &office.customer_id, "Theirs", 1).await;
        let unassigned = create_job(&app, d, &office.customer_id, "Nobody's", 1).await;
        assign_ok(&app, d, &mine, &office.tech_id, &at(1, 9), &at(1, 10)).await;
        assign_ok(&app, d, &theirs, &office.other_tech_id, &at(1, 9), &at(1, 10)).await;

        let list = "{ jobs { totalCount nodes { id customer { name jobs { totalCount nodes { id } } } } } }";
        let body = app.gql(Some(&office.tech), list, json!({})).await;
        assert_eq!(body["data"]["jobs"]["totalCount"], 1, "{backend:?}: {body}");
        let node = &body["data"]["jobs"]["nodes"][0];
        assert_eq!(node["id"], mine.as_str());
        assert_eq!(node["customer"]["name"], "Carla Customer", "sees the customer of its own job");
        assert_eq!(node["customer"]["jobs"]["totalCount"], 1, "customer's other jobs stay hidden");
        let body = app.gql(Some(d), list, json!({})).await;
        assert_eq!(body["data"]["jobs"]["totalCount"], 3);

        let filtered = "query($t: ID!) { jobs(filter: { technicianId: $t }) { totalCount } }";
        let body = app.gql(Some(&office.tech), filtered, json!({ "t": office.other_tech_id })).await;
        assert_eq!(body["data"]["jobs"]["totalCount"], 0);

        let one = "query($id: ID!) { job(id: $id) { id } }";
        for job in [&theirs, &unassigned] {
            let body = app.gql(Some(&office.tech), one, json!({ "id": job })).await;
            assert!(body["data"]["job"].is_null() && body["errors"].is_null(), "{backend:?}: {body}");
            let missing = app.gql(Some(&office.tech), one, json!({ "id": uuid::Uuid::new_v4() })).await;
            assert_eq!(body, missing, "another's job looks exactly like a missing one");
            expect_code(&job_move(&app, &office.tech, "startJob", job).await, "NOT_FOUND");
        }
        for mutation in ["cancelJob", "unassignJob"] {
            expect_code(&job_move(&app, &office.tech, mutation, &mine).await, "FORBIDDEN");
        }
        let create = "mutation($c: ID!) { createJob(input: { customerId: $c, title: \"x\" }) { id } }";
        expect_code(&app.gql(Some(&office.tech), create, json!({ "c": office.customer_id })).await, "FORBIDDEN");

        // Reassigned away: gone from the technician's view at once.
        assign_ok(&app, d, &mine, &office.other_tech_id, &at(2, 9), &at(2, 10)).await;
        let body = app.gql(Some(&office.tech), one, json!({ "id": mine })).await;
        assert!(body["data"]["job"].is_null());
        let body = job_move(&app, &office.other_tech, "startJob", &mine).await;
        assert_eq!(body["data"]["startJob"]["status"], "IN_PROGRESS");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn job_filters_and_stable_cursors(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let other_customer = create_customer(&app, d, "Other Customer").await;
        let mut jobs = Vec::new();
        for n in 0..5 {
            jobs.push(create_job(&app, d, &office.customer_id, &format!("Job {n}"), 1).await);
        }
        let elsewhere = create_job(&app, d, &other_customer, "Elsewhere", 1).await;
        assign_ok(&app, d, &jobs[0], &office.tech_id, &at(1, 9), &at(1, 10)).await;
        assign_ok(&app, d, &jobs[1], &office.other_tech_id, &at(3, 9), &at(3, 10)).await;
        job_move(&app, d, "cancelJob", &jobs[2]).await;

        let query = "query($f: JobFilter, $first: Int, $after: String) { jobs(filter: $f, first: $first, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }";
        let ids = |body: &serde_json::Value| -> Vec<String> {
            body["data"]["jobs"]["edges"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"))
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let body = app.gql(Some(d), query, json!({ "f": { "status": ["SCHEDULED"] } })).await;
        assert_eq!(ids(&body), vec![jobs[1].clone(), jobs[0].clone()], "{backend:?}: newest first");
        let body = app.gql(Some(d), query, json!({ "f": { "status": ["PENDING", "CANCELLED"] } })).await;
        assert_eq!(body["data"]["jobs"]["totalCount"], 4);
        let body = app.gql(Some(d), query, json!({ "f": { "customerId": other_customer } })).await;
        assert_eq!(ids(&body), vec![elsewhere.clone()]);
        let body = app.gql(Some(d), query, json!({ "f": { "technicianId": office.tech_id } })).await;
        assert_eq!(ids(&body), vec![jobs[0].clone()]);
        let body =
            app.gql(Some(d), query, json!({ "f": { "scheduledFrom": at(2, 0), "scheduledTo": at(4, 0) } })).await;
        assert_eq!(ids(&body), vec![jobs[1].clone()]);
        let body =
            app.gql(Some(d), query, json!({ "f": { "scheduledFrom": at(1, 10), "scheduledTo": at(2, 0) } })).await;
        assert_eq!(ids(&body), Vec::<String>::new(), "half-open: ends at 10:00");

        // Paging while new jobs arrive: no duplicates, nothing skipped.
        let page = app.gql(Some(d), query, json!({ "first": 3 })).await;
        let mut seen = ids(&page);
        let mut after = page["data"]["jobs"]["pageInfo"]["endCursor"].clone();
        create_job(&app, d, &office.customer_id, "Newer", 1).await;
        loop {
            let page = app.gql(Some(d), query, json!({ "first": 3, "after": after })).await;
            seen.extend(ids(&page));
            if page["data"]["jobs"]["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["data"]["jobs"]["pageInfo"]["endCursor"].clone();
        }
        let mut expected: Vec<String> = jobs.iter().rev().cloned().collect();
        expected.insert(0, elsewhere.clone());
        assert_eq!(seen, expected, "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn the_board_costs_the_same_statements_for_5_and_50_jobs(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let board = "query($n: Int) { jobs(first: $n) { nodes { id customer { id name address } technician { id name } assignment { startsAt endsAt } } } }";
        let mut customers = Vec::new();
        for n in 0..5 {
            customers.push(create_customer(&app, &office.dispatcher, &format!("Customer {n}")).await);
        }
        for n in 0..50 {
            let job = create_job(&app, &office.dispatcher, &customers[n % 5], &format!("Job {n}"), 1).await;
            let tech = if n % 2 == 0 { &office.tech_id } else { &office.other_tech_id };
            assign_ok(&app, &office.dispatcher, &job, tech, &at(1 + n as i64, 8), &at(1 + n as i64, 9)).await;
        }
        let mut counts = Vec::new();
        for n in [5, 50] {
            let before = app.statements.get();
            let body = app.gql(Some(&office.dispatcher), board, json!({ "n": n })).await;
            counts.push(app.statements.get() - before);
            let nodes = body["data"]["jobs"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
            assert_eq!(nodes.len(), n);
            assert!(nodes.iter().all(|j| j["technician"]["name"].is_string() && j["customer"]["address"].is_string()));
        }
        eprintln!("board statements {backend:?}: {counts:?}");
        assert_eq!(counts[0], counts[1], "{backend:?}: statements for 5 and 50 jobs: {counts:?}");
        assert!(
            counts[1] <= 2,
            "{backend:?}: the account, then the page with assignments, customers, technicians: {counts:?}"
        );
        app.stop().await;
    }
}

/// What the board shows of a job: all on the cards it can read alone.
const ON_CARDS: &str = "id title status priority createdAt customer { id name email phone address } technician { id name email phone } assignment { startsAt endsAt }";
/// Fields of a job, its customer and technician beyond those cards.
const BEYOND_CARDS: &str = "id title description requiredSkillLevel startedAt updatedAt customer { name latitude longitude createdAt updatedAt } technician { name skillLevel hourlyRate active baseLatitude baseLongitude }";

/// `fields` of the job `id`, read alone (every column of every row).
async fn job_alone(app: &TestApp, token: &str, id: &Value, fields: &str) -> Value {
    let body =
        app.gql(Some(token), &format!("query($id: ID!) {{ job(id: $id) {{ {fields} }} }}"), json!({ "id": id })).await;
    body["data"]["job"].clone()
}

each_backend! {
    /// The board reads only its cards' columns when they answer every field
    /// asked, and whole rows when a field (through a fragment too) needs
    /// more: the answers equal a single job's read, at the same count of
    /// statements either way.
    #[tokio::test]
    async fn the_board_answers_on_cards_and_beyond_them_like_a_job_read_alone(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let assigned = create_job(&app, d, &office.customer_id, "Assigned", 3).await;
        assign_ok(&app, d, &assigned, &office.tech_id, &at(1, 8), &at(1, 9)).await;
        let described = app
            .gql(
                Some(d),
                "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }",
                json!({ "i": { "customerId": office.customer_id, "title": "Leak", "description": "Under the sink", "requiredSkillLevel": 2 } }),
            )
            .await;
        assert!(described["data"]["createJob"]["id"].is_string(), "{described}");

        let on_cards = format!("{{ jobs(first: 10) {{ nodes {{ {ON_CARDS} }} }} }}");
        let beyond = format!("{{ jobs(first: 10) {{ edges {{ node {{ ...Beyond }} }} }} }} fragment Beyond on Job {{ {BEYOND_CARDS} }}");
        for (query, fields, path) in [(&on_cards, ON_CARDS, "/data/jobs/nodes"), (&beyond, BEYOND_CARDS, "/data/jobs/edges")] {
            let before = app.statements.get();
            let body = app.gql(Some(d), query, json!({})).await;
            let statements = app.statements.get() - before;
            assert_eq!(statements, 2, "{backend:?}: the account, then the page with its parties: {body}");
            let rows = body.pointer(path).and_then(Value::as_array).unwrap_or_else(|| panic!("{body}"));
            assert_eq!(rows.len(), 2, "{body}");
            for row in rows {
                let job = row.get("node").unwrap_or(row);
                assert_eq!(job, &job_alone(&app, d, &job["id"], fields).await, "{backend:?}");
            }
        }
        let body = app.gql(Some(d), &beyond, json!({})).await;
        let leak = &body["data"]["jobs"]["edges"][0]["node"];
        assert_eq!((&leak["description"], &leak["requiredSkillLevel"]), (&json!("Under the sink"), &json!(2)), "{body}");
        let assigned_row = &body["data"]["jobs"]["edges"][1]["node"];
        assert_eq!(assigned_row["technician"]["skillLevel"], 3, "{body}");
        app.stop().await;
    }
}

each_backend! {
    /// The board leaves unread the contact fields of the customer's and
    /// technician's cards that it does not ask for. Asked, they are read;
    /// reached by another path to the same card (a customer's own jobs),
    /// they are loaded, never answered as null.
    #[tokio::test]
    async fn the_board_reads_contact_fields_only_when_asked_and_never_answers_an_unread_one(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let (d, admin) = (&office.dispatcher, &office.admin);
        let contact = json!({ "email": "tess@example.com", "phone": "+1 555 0199" });
        let updated = app
            .gql(
                Some(admin),
                "mutation($id: ID!, $i: UpdateTechnicianInput!) { updateTechnician(id: $id, input: $i) { email phone } }",
                json!({ "id": office.tech_id, "i": contact }),
            )
            .await;
        assert_eq!(updated["data"]["updateTechnician"], contact, "{updated}");
        let job = create_job(&app, d, &office.customer_id, "Boiler", 1).await;
        assign_ok(&app, d, &job, &office.tech_id, &at(1, 8), &at(1, 9)).await;
        let customer = job_alone(&app, d, &json!(job), "customer { email phone address }").await["customer"].clone();
        assert!(customer["email"].is_string() && customer["phone"].is_string(), "{customer}");

        let names = app.gql(Some(d), "{ jobs(first: 5) { nodes { customer { id name } technician { id name } } } }", json!({})).await;
        assert_eq!(names["data"]["jobs"]["nodes"][0]["technician"]["name"], "Tess", "{names}");
        let asked = app
            .gql(Some(d), "{ jobs(first: 5) { nodes { ...Contacts } } } fragment Contacts on Job { customer { email phone address } technician { email phone } }", json!({}))
            .await;
        let row = &asked["data"]["jobs"]["nodes"][0];
        assert_eq!((&row["customer"], &row["technician"]), (&customer, &contact), "{asked}");

        // The inner customer is the board's card, its contact fields unread.
        let nested = "{ jobs(first: 5) { nodes { customer { name jobs(first: 1) { nodes { customer { email phone address } } } } } } }";
        for token in [d, admin] {
            let body = app.gql(Some(token), nested, json!({})).await;
            let inner = &body["data"]["jobs"]["nodes"][0]["customer"]["jobs"]["nodes"][0]["customer"];
            assert_eq!(inner, &customer, "{backend:?}: {body}");
        }
        app.stop().await;
    }
}

each_backend! {
    /// A calendar reads its jobs as cards; a field beyond the card loads the
    /// entries' whole jobs in one more statement, however many there are.
    #[tokio::test]
    async fn a_calendar_answers_job_fields_beyond_the_card_in_one_more_statement(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let mut jobs = Vec::new();
        for hour in [8, 10, 12] {
            let job = create_job(&app, d, &office.customer_id, &format!("At {hour}"), 1).await;
            assign_ok(&app, d, &job, &office.tech_id, &at(1, hour), &at(1, hour + 1)).await;
            jobs.push(job);
        }
        let calendar = |fields: &str| {
            format!("query($t: ID!, $f: DateTime!, $to: DateTime!) {{ schedule(technicianId: $t, from: $f, to: $to) {{ job {{ {fields} }} }} }}")
        };
        let mut counts = Vec::new();
        for (fields, entries) in [("id title status", 2), ("id title status", 3), ("id title requiredSkillLevel updatedAt", 2), ("id title requiredSkillLevel updatedAt", 3)] {
            let to = at(1, 8 + 2 * entries);
            let before = app.statements.get();
            let body = app.gql(Some(d), &calendar(fields), json!({ "t": office.tech_id, "f": at(1, 0), "to": to })).await;
            counts.push(app.statements.get() - before);
            let entries_read = body["data"]["schedule"].as_array().unwrap_or_else(|| panic!("{body}"));
            assert_eq!(entries_read.len(), entries as usize, "{body}");
            for (entry, id) in entries_read.iter().zip(&jobs) {
                assert_eq!(entry["job"], job_alone(&app, d, &json!(id), fields).await, "{backend:?}");
            }
        }
        assert_eq!(counts, vec![2, 2, 3, 3], "{backend:?}: the account, the entries with their job cards, the whole jobs");
        // The technician sees its own calendar the same way.
        let body = app.gql(Some(&office.tech), &calendar("requiredSkillLevel"), json!({ "t": office.tech_id, "f": at(1, 0), "to": at(2, 0) })).await;
        assert_eq!(body["data"]["schedule"][0]["job"]["requiredSkillLevel"], 1, "{body}");
        app.stop().await;
    }
}

each_backend! {
    /// `job(id)` asking for its customer and technician reads them in the
    /// job's own statement; what it shows and to whom stays the same.
    #[tokio::test]
    async fn one_job_with_its_parties_is_one_statement(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let query = "query($id: ID!) { job(id: $id) { id customer { name } technician { id name } assignment { startsAt endsAt } } }";
        let assigned = create_job(&app, &office.dispatcher, &office.customer_id, "Assigned", 1).await;
        assign_ok(&app, &office.dispatcher, &assigned, &office.tech_id, &at(1, 8), &at(1, 9)).await;
        let waiting = create_job(&app, &office.dispatcher, &office.customer_id, "Waiting", 1).await;

        let before = app.statements.get();
        let body = app.gql(Some(&office.dispatcher), query, json!({ "id": assigned })).await;
        let statements = app.statements.get() - before;
        let job = &body["data"]["job"];
        assert_eq!(job["customer"]["name"], "Carla Customer", "{body}");
        assert_eq!(job["technician"], json!({ "id": office.tech_id, "name": "Tess" }), "{body}");
        assert!(job["assignment"]["endsAt"].as_str().is_some_and(|t| t.starts_with(&at(1, 9)[..19])), "{body}");
        assert_eq!(statements, 2, "{backend:?}: the account, then the job with its parties");

        let body = app.gql(Some(&office.dispatcher), query, json!({ "id": waiting })).await;
        assert!(body["data"]["job"]["technician"].is_null() && body["data"]["job"]["assignment"].is_null(), "{body}");
        assert_eq!(body["data"]["job"]["customer"]["name"], "Carla Customer");

        // A technician sees its own job whole, and another's not at all.
        let own = app.gql(Some(&office.tech), query, json!({ "id": assigned })).await;
        assert_eq!(own["data"]["job"]["technician"]["name"], "Tess", "{own}");
        let other = app.gql(Some(&office.other_tech), query, json!({ "id": assigned })).await;
        assert!(other["data"]["job"].is_null() && other["errors"].is_null(), "{other}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn technician_calendars_in_a_list_cost_the_same_statements_for_2_and_5(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let mut newest = String::new();
        for n in 0..3 {
            newest = create_technician(&app, &office.admin, &format!("Extra {n}"), 2, "30", None).await;
        }
        // The newest technician is on both pages and has work in the window.
        let job = create_job(&app, &office.dispatcher, &office.customer_id, "Booked", 1).await;
        assign_ok(&app, &office.dispatcher, &job, &newest, &at(1, 9), &at(1, 10)).await;
        let query = "query($n: Int, $f: DateTime!, $t: DateTime!) { technicians(first: $n) { nodes { id schedule(from: $f, to: $t) { kind job { id } } upcomingJobs { job { id } } } } }";
        let mut counts = Vec::new();
        for n in [2, 5] {
            let before = app.statements.get();
            let body = app.gql(Some(&office.dispatcher), query, json!({ "n": n, "f": at(1, 0), "t": at(2, 0) })).await;
            counts.push(app.statements.get() - before);
            let nodes = body["data"]["technicians"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
            assert_eq!(nodes.len(), n);
            if n == 5 {
                let booked = nodes.iter().find(|t| t["id"] == newest.as_str()).unwrap();
                assert_eq!(booked["schedule"], json!([{ "kind": "JOB", "job": { "id": job } }]), "{backend:?}");
                assert_eq!(booked["upcomingJobs"], json!([{ "job": { "id": job } }]));
                let others = nodes.iter().filter(|t| t["id"] != newest.as_str());
                assert!(others.into_iter().all(|t| t["schedule"] == json!([]) && t["upcomingJobs"] == json!([])));
            }
        }
        assert_eq!(counts[0], counts[1], "{backend:?}: statements for 2 and 5 technicians: {counts:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn customers_with_their_jobs_cost_the_same_statements_for_2_and_6(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job_counts = [2, 0, 3, 1, 3, 2];
        let mut customers = Vec::new();
        let mut jobs_of = std::collections::HashMap::<String, Vec<String>>::new();
        for (n, count) in job_counts.iter().enumerate() {
            let customer = create_customer(&app, &office.dispatcher, &format!("Customer {n}")).await;
            for k in 0..*count {
                let job = create_job(&app, &office.dispatcher, &customer, &format!("Job {n}.{k}"), 1).await;
                jobs_of.entry(customer.clone()).or_default().push(job);
            }
            customers.push(customer);
        }
        let booked_job = jobs_of[&customers[4]].last().unwrap();
        assign_ok(&app, &office.dispatcher, booked_job, &office.tech_id, &at(1, 9), &at(1, 10)).await;

        let query = "query($n: Int) { customers(first: $n) { nodes { id jobs(first: 2) { totalCount pageInfo { hasNextPage } nodes { id customer { id } technician { id } } } } } }";
        let mut counts = Vec::new();
        for n in [2, 6] {
            let before = app.statements.get();
            let body = app.gql(Some(&office.dispatcher), query, json!({ "n": n })).await;
            counts.push(app.statements.get() - before);
            let nodes = body["data"]["customers"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
            assert_eq!(nodes.len(), n);
            for customer in nodes {
                let id = customer["id"].as_str().unwrap();
                let all = jobs_of.get(id).cloned().unwrap_or_default();
                let newest: Vec<&String> = all.iter().rev().take(2).collect();
                let page = &customer["jobs"];
                let got: Vec<&str> =
                    page["nodes"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
                assert_eq!(got, newest, "{backend:?}: newest first, two per customer");
                assert_eq!(page["totalCount"], all.len(), "{backend:?}");
                assert_eq!(page["pageInfo"]["hasNextPage"], all.len() > 2, "{backend:?}");
                assert!(page["nodes"].as_array().unwrap().iter().all(|j| j["customer"]["id"] == id));
                for job in page["nodes"].as_array().unwrap() {
                    let technician =
                        if job["id"] == booked_job.as_str() { json!({ "id": office.tech_id }) } else { json!(null) };
                    assert_eq!(job["technician"], technician, "{backend:?}");
                }
            }
        }
        eprintln!("customers with jobs, statements {backend:?}: {counts:?}");
        assert_eq!(counts[0], counts[1], "{backend:?}: statements for 2 and 6 customers: {counts:?}");

        // A technician reaching the customer through its own job sees only its own jobs there.
        let body = app
            .gql(
                Some(&office.tech),
                "{ jobs(first: 10) { nodes { customer { jobs(first: 10) { totalCount nodes { id } } } } } }",
                json!({}),
            )
            .await;
        let nodes = body["data"]["jobs"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nodes.len(), 1, "{body}");
        assert_eq!(
            nodes[0]["customer"]["jobs"],
            json!({ "totalCount": 1, "nodes": [{ "id": booked_job }] }),
            "{backend:?}"
        );
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn address_book_and_calendar_changes_are_journaled(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let trail = |entity_type: &'static str, id: String| {
            let app = &app;
            let admin = office.admin.clone();
            async move {
                let body = app
                    .gql(
                        Some(&admin),
                        "query($t: String, $id: ID) { auditLog(first: 10, entityType: $t, entityId: $id) { nodes { event actor { email } } } }",
                        json!({ "t": entity_type, "id": id }),
                    )
                    .await;
                let nodes = body["data"]["auditLog"]["nodes"].as_array().cloned().unwrap_or_else(|| panic!("{body}"));
                assert!(nodes.iter().all(|n| n["actor"]["email"].is_string()), "{body}");
                nodes.iter().map(|n| n["event"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        let body = app
            .gql(
                Some(&office.dispatcher),
                "mutation($id: ID!) { updateCustomer(id: $id, input: { phone: \"+1 555 0199\" }) { id } }",
                json!({ "id": office.customer_id }),
            )
            .await;
        data(&body, "updateCustomer");
        assert_eq!(trail("customer", office.customer_id.clone()).await, ["customer.updated", "customer.created"]);

        let body = app
            .gql(
                Some(&office.admin),
                "mutation($id: ID!) { updateTechnician(id: $id, input: { skillLevel: 4 }) { id } }",
                json!({ "id": office.tech_id }),
            )
            .await;
        data(&body, "updateTechnician");
        assert_eq!(trail("technician", office.tech_id.clone()).await, ["technician.updated", "technician.created"]);

        let body = app
            .gql(
                Some(&office.tech),
                "mutation($i: CreateScheduleEntryInput!) { createScheduleEntry(input: $i) { id } }",
                json!({ "i": { "technicianId": office.tech_id, "kind": "UNAVAILABLE", "startsAt": at(2, 9), "endsAt": at(2, 12) } }),
            )
            .await;
        let entry = data(&body, "createScheduleEntry")["id"].as_str().unwrap().to_owned();
        let body = app
            .gql(Some(&office.tech), "mutation($id: ID!) { deleteScheduleEntry(id: $id) }", json!({ "id": entry }))
            .await;
        assert_eq!(data(&body, "deleteScheduleEntry"), true);
        assert_eq!(trail("schedule", entry).await, ["schedule.deleted", "schedule.created"], "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    /// An UNAVAILABLE entry and a booking of the same window, sent at once, many
    /// times over: never both stored.
    #[tokio::test]
    async fn unavailability_and_a_booking_racing_for_one_window_never_both_win(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let create = "mutation($i: CreateScheduleEntryInput!) { createScheduleEntry(input: $i) { id } }";
        for round in 0..15 {
            let job = create_job(&app, &office.dispatcher, &office.customer_id, &format!("Race {round}"), 1).await;
            let (starts, ends) = (at(round + 1, 9), at(round + 1, 12));
            let block = json!({ "i": { "technicianId": office.tech_id, "kind": "UNAVAILABLE", "startsAt": starts, "endsAt": ends } });
            let (booked, blocked) = tokio::join!(
                assign(&app, &office.dispatcher, &job, &office.tech_id, &starts, &ends),
                app.gql(Some(&office.dispatcher), create, block),
            );
            let booked_ok = booked["data"]["assignJob"]["status"] == "SCHEDULED";
            let blocked_ok = blocked["data"]["createScheduleEntry"]["id"].is_string();
            assert!(booked_ok != blocked_ok, "{backend:?} round {round}: exactly one wins: {booked} {blocked}");
            let loser = if booked_ok { &blocked } else { &booked };
            assert_eq!(loser["errors"][0]["extensions"]["code"], "CONFLICT", "{backend:?}: {loser}");
        }
        app.stop().await;
    }
}
