//! The HTTP response cache: a repeated query costs one statement (the account
//! and the data version), and every kind of change, made through this server
//! or another one on the same database, is seen by the very next query.

use crate::common::fixtures::*;
use crate::common::{Backend, TestApp};
use serde_json::{Value, json};

/// The response and the SQL statements it cost.
async fn measured(app: &TestApp, token: &str, query: &str, variables: Value) -> (Value, u64) {
    let before = app.statements.get();
    let body = app.gql(Some(token), query, variables).await;
    (body, app.statements.get() - before)
}

const CUSTOMERS: &str = "{ customers(first: 50) { nodes { id name } } }";
const TECHNICIANS: &str = "{ technicians(first: 50) { nodes { id name skillLevel } } }";
const SCHEDULE: &str =
    "query($t: ID!, $from: DateTime!, $to: DateTime!) { schedule(technicianId: $t, from: $from, to: $to) { id kind } }";
const BOARD: &str = "{ jobs(first: 20) { nodes { id title technician { id } } } }";

fn names(body: &Value, list: &str) -> Vec<String> {
    let nodes = body["data"][list]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
    nodes.iter().map(|n| n["name"].as_str().unwrap_or_default().to_owned()).collect()
}

each_backend! {
    #[tokio::test]
    async fn a_repeated_query_is_served_from_the_cache_until_anything_changes(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let token = office.dispatcher.as_str();

        let (first, cost) = measured(&app, token, CUSTOMERS, json!({})).await;
        assert!(cost > 1, "{backend:?}: the first answer is computed ({cost} statements)");
        let (again, cost) = measured(&app, token, CUSTOMERS, json!({})).await;
        assert_eq!(cost, 1, "{backend:?}: a repeat costs only the account and version lookup");
        assert_eq!(first, again);

        // Customers: update.
        let body = app
            .gql(
                Some(token),
                "mutation($id: ID!) { updateCustomer(id: $id, input: { name: \"Carla Renamed\" }) { id } }",
                json!({ "id": office.customer_id }),
            )
            .await;
        data(&body, "updateCustomer");
        let (after, cost) = measured(&app, token, CUSTOMERS, json!({})).await;
        assert!(cost > 1, "{backend:?}: recomputed after a change");
        assert_eq!(names(&after, "customers"), vec!["Carla Renamed"], "{backend:?}");

        // Technicians: update and create.
        let (before, _) = measured(&app, token, TECHNICIANS, json!({})).await;
        assert_eq!(names(&before, "technicians").len(), 2);
        measured(&app, token, TECHNICIANS, json!({})).await;
        let body = app
            .gql(
                Some(token),
                "mutation($id: ID!) { updateTechnician(id: $id, input: { skillLevel: 1 }) { id } }",
                json!({ "id": office.tech_id }),
            )
            .await;
        data(&body, "updateTechnician");
        let (after, _) = measured(&app, token, TECHNICIANS, json!({})).await;
        let tess = after["data"]["technicians"]["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|t| t["id"] == office.tech_id.as_str()).cloned())
            .unwrap_or_else(|| panic!("{after}"));
        assert_eq!(tess["skillLevel"], 1, "{backend:?}: {after}");
        create_technician(&app, token, "Nina", 2, "30.00", None).await;
        let (after, _) = measured(&app, token, TECHNICIANS, json!({})).await;
        assert_eq!(names(&after, "technicians").len(), 3, "{backend:?}: {after}");

        // Calendar entries: create and delete.
        let window = json!({ "t": office.tech_id, "from": at(1, 0), "to": at(2, 0) });
        let (empty, _) = measured(&app, token, SCHEDULE, window.clone()).await;
        assert_eq!(empty["data"]["schedule"], json!([]), "{empty}");
        let body = app
            .gql(
                Some(token),
                "mutation($i: CreateScheduleEntryInput!) { createScheduleEntry(input: $i) { id } }",
                json!({ "i": { "technicianId": office.tech_id, "kind": "UNAVAILABLE", "startsAt": at(1, 9), "endsAt": at(1, 12) } }),
            )
            .await;
        let entry = data(&body, "createScheduleEntry")["id"].clone();
        let (one, _) = measured(&app, token, SCHEDULE, window.clone()).await;
        assert_eq!(one["data"]["schedule"], json!([{ "id": entry, "kind": "UNAVAILABLE" }]), "{backend:?}");
        let body =
            app.gql(Some(token), "mutation($id: ID!) { deleteScheduleEntry(id: $id) }", json!({ "id": entry })).await;
        assert_eq!(data(&body, "deleteScheduleEntry"), true);
        let (none, _) = measured(&app, token, SCHEDULE, window).await;
        assert_eq!(none["data"]["schedule"], json!([]), "{backend:?}: {none}");

        // A change made through another server on the same database.
        let other = TestApp::spawn_on(app.db.clone(), |_| {}).await;
        measured(&app, token, CUSTOMERS, json!({})).await;
        let body = other
            .gql(
                Some(token),
                "mutation($id: ID!) { updateCustomer(id: $id, input: { name: \"Carla Elsewhere\" }) { id } }",
                json!({ "id": office.customer_id }),
            )
            .await;
        data(&body, "updateCustomer");
        let (after, _) = measured(&app, token, CUSTOMERS, json!({})).await;
        assert_eq!(names(&after, "customers"), vec!["Carla Elsewhere"], "{backend:?}");
        other.stop().await;
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn cached_answers_stay_per_caller_and_accounts_are_still_checked_each_time(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = create_job(&app, &office.dispatcher, &office.customer_id, "Boiler", 1).await;
        assign_ok(&app, &office.dispatcher, &job, &office.other_tech_id, &at(1, 8), &at(1, 10)).await;

        // The same text from a dispatcher and from a technician who is not on the job.
        for _ in 0..2 {
            let (staff, _) = measured(&app, &office.dispatcher, BOARD, json!({})).await;
            assert_eq!(staff["data"]["jobs"]["nodes"].as_array().map(Vec::len), Some(1), "{staff}");
            let (tech, _) = measured(&app, &office.tech, BOARD, json!({})).await;
            assert_eq!(tech["data"]["jobs"]["nodes"], json!([]), "{backend:?}: {tech}");
        }

        // Deactivation applies to the very next request, cached or not.
        let (_, cost) = measured(&app, &office.dispatcher, BOARD, json!({})).await;
        assert_eq!(cost, 1);
        let me = app.gql(Some(&office.dispatcher), "{ me { id } }", json!({})).await;
        let dispatcher_id = data(&me, "me")["id"].clone();
        let body = app
            .gql(
                Some(&office.admin),
                "mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { id } }",
                json!({ "id": dispatcher_id }),
            )
            .await;
        data(&body, "updateUser");
        let refused = app.gql(Some(&office.dispatcher), BOARD, json!({})).await;
        expect_code(&refused, "UNAUTHENTICATED");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn what_the_cache_leaves_alone(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let token = office.dispatcher.as_str();

        // Asked for a fresh answer.
        measured(&app, token, CUSTOMERS, json!({})).await;
        let before = app.statements.get();
        let body = app.gql_fresh(token, CUSTOMERS, json!({})).await;
        data(&body, "customers");
        // Computed: the account and the list. On PostgreSQL the list's
        // statement checks the account itself (the caller is known by now).
        let computed = if matches!(backend, Backend::Postgres) { 1 } else { 2 };
        assert_eq!(app.statements.get() - before, computed, "{backend:?}: no-cache is computed");

        // Answers that depend on the clock, and errors.
        let upcoming = "query($t: ID) { upcomingJobs(technicianId: $t) { startsAt } }";
        for _ in 0..2 {
            let (body, cost) = measured(&app, token, upcoming, json!({ "t": office.tech_id })).await;
            data(&body, "upcomingJobs");
            assert!(cost > 1, "{backend:?}: upcomingJobs is computed every time");
        }
        let bad = "{ customers(first: 500) { nodes { id } } }";
        for _ in 0..2 {
            let (body, cost) = measured(&app, token, bad, json!({})).await;
            expect_code(&body, "BAD_USER_INPUT");
            assert_eq!(cost, 1, "{backend:?}: refused after the account lookup");
        }
        let metrics = app.http.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
        assert!(metrics.contains("fieldforge_response_cache_hits_total 0"), "{metrics}");
        app.stop().await;
    }
}
