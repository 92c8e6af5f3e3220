//! A caller this process has read before runs on a guess, its reads guarded
//! by "the account is still that caller" in their own statements
//! (`transport/callers.rs`, `entities/guard.rs`): one statement instead of
//! two on PostgreSQL, the same answers, and a deactivation, role change or
//! revocation still applies to the very next request, on any process.

use serde_json::{Value, json};

use crate::common::fixtures::*;
use crate::common::{Backend, TestApp};

/// A request that asks for a fresh answer (the response cache needs the
/// data version before it runs, so only these run on a guess): its body and
/// the statements it cost.
async fn fresh(app: &TestApp, token: &str, query: &str, variables: Value) -> (Value, u64) {
    let before = app.statements.get();
    let body = app.gql_fresh(token, query, variables).await;
    (body, app.statements.get() - before)
}

/// One statement where the account is checked inside the read, two where it
/// is read first.
fn known(backend: Backend) -> u64 {
    if matches!(backend, Backend::Postgres) { 1 } else { 2 }
}

const BOARD: &str = "{ jobs(first: 50) { nodes { id title customer { name } technician { name } } } }";
const CUSTOMERS: &str = "{ customers(first: 5) { nodes { id } } }";

async fn user_id(app: &TestApp, token: &str) -> String {
    let me = app.gql(Some(token), "{ me { id } }", json!({})).await;
    data(&me, "me")["id"].as_str().expect("id").to_owned()
}

async fn update_user(app: &TestApp, admin: &str, id: &str, input: Value) {
    let body = app
        .gql(
            Some(admin),
            "mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }",
            json!({ "id": id, "input": input }),
        )
        .await;
    data(&body, "updateUser");
}

each_backend! {
    #[tokio::test]
    async fn a_known_caller_gets_the_same_answers_in_one_statement(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        for n in 0..12 {
            let job = create_job(&app, &office.dispatcher, &office.customer_id, &format!("Job {n:02}"), 1).await;
            if n % 2 == 0 {
                assign_ok(&app, &office.dispatcher, &job, &office.other_tech_id, &at(1, n / 2 + 6), &at(1, n / 2 + 7)).await;
            }
        }
        // Known already: it made the jobs.
        let (first, cost) = fresh(&app, &office.dispatcher, BOARD, json!({})).await;
        assert_eq!(cost, known(backend), "{backend:?}: {first}");
        let (again, cost) = fresh(&app, &office.dispatcher, BOARD, json!({})).await;
        assert_eq!(cost, known(backend), "{backend:?}: known: {again}");
        assert_eq!(again, first, "{backend:?}: the same board, in the same order");
        assert_eq!(again["data"]["jobs"]["nodes"].as_array().map(Vec::len), Some(12), "{again}");
        // Through the response cache's path, which reads the account first.
        let before = app.statements.get();
        let checked_first = app.gql(Some(&office.dispatcher), BOARD, json!({})).await;
        assert_eq!(app.statements.get() - before, 2, "{backend:?}: the account, then the board");
        assert_eq!(checked_first, first, "{backend:?}: the same board either way");

        // A read that finds nothing proves nothing about the account, so it
        // is read after: the technician not on any job.
        fresh(&app, &office.tech, BOARD, json!({})).await;
        let (empty, cost) = fresh(&app, &office.tech, BOARD, json!({})).await;
        assert_eq!(empty["data"]["jobs"]["nodes"], json!([]), "{backend:?}: {empty}");
        assert_eq!(cost, 2, "{backend:?}");
        fresh(&app, &office.other_tech, BOARD, json!({})).await;
        let (own, cost) = fresh(&app, &office.other_tech, BOARD, json!({})).await;
        assert_eq!(own["data"]["jobs"]["nodes"].as_array().map(Vec::len), Some(6), "{backend:?}: only its own: {own}");
        assert_eq!(cost, known(backend), "{backend:?}");

        // A batch: every read is guarded until one answers rows.
        let batch = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(&office.dispatcher)
            .header("cache-control", "no-cache")
            .json(&json!([{ "query": BOARD }, { "query": CUSTOMERS }]))
            .send()
            .await
            .expect("sent")
            .json::<Value>()
            .await
            .expect("json");
        assert_eq!(batch[0], first, "{backend:?}");
        assert_eq!(batch[1]["data"]["customers"]["nodes"].as_array().map(Vec::len), Some(1), "{batch}");

        // A write from a known caller is not run on a guess, and is done once.
        let (made, _) = fresh(
            &app,
            &office.dispatcher,
            "mutation { createCustomer(input: { name: \"Walk-in\" }) { id } }",
            json!({}),
        )
        .await;
        data(&made, "createCustomer");
        assert_eq!(app.journal_count("customer.created").await, 2, "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn a_known_caller_is_still_checked_on_its_very_next_request(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let dispatcher = user_id(&app, &office.dispatcher).await;
        for _ in 0..2 {
            data(&fresh(&app, &office.dispatcher, CUSTOMERS, json!({})).await.0, "customers");
        }

        // Made a technician: the guess (a dispatcher) is thrown away.
        update_user(&app, &office.admin, &dispatcher, json!({ "role": "TECHNICIAN" })).await;
        let (refused, _) = fresh(&app, &office.dispatcher, CUSTOMERS, json!({})).await;
        expect_code(&refused, "FORBIDDEN");

        // Made a dispatcher again. The guess (a technician) is refused
        // before any read, so the account is read after, and the request
        // runs again as a dispatcher: over GET, read again from its query
        // string.
        update_user(&app, &office.admin, &dispatcher, json!({ "role": "DISPATCHER" })).await;
        let allowed: Value = app
            .http
            .get(app.url("/graphql"))
            .query(&[("query", CUSTOMERS)])
            .bearer_auth(&office.dispatcher)
            .header("cache-control", "no-cache")
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        data(&allowed, "customers");
        let (allowed, cost) = fresh(&app, &office.dispatcher, CUSTOMERS, json!({})).await;
        data(&allowed, "customers");
        assert_eq!(cost, known(backend), "{backend:?}: known again");

        // Sessions revoked.
        let body = app
            .gql(Some(&office.admin), "mutation($id: ID) { revokeSessions(userId: $id) }", json!({ "id": dispatcher }))
            .await;
        assert_eq!(data(&body, "revokeSessions"), true, "{body}");
        let (revoked, _) = fresh(&app, &office.dispatcher, CUSTOMERS, json!({})).await;
        expect_code(&revoked, "UNAUTHENTICATED");

        // Deactivated, while its reads find nothing (no jobs of its own).
        let tech = user_id(&app, &office.tech).await;
        for _ in 0..2 {
            fresh(&app, &office.tech, BOARD, json!({})).await;
        }
        update_user(&app, &office.admin, &tech, json!({ "active": false })).await;
        let (refused, _) = fresh(&app, &office.tech, BOARD, json!({})).await;
        expect_code(&refused, "UNAUTHENTICATED");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_deactivation_through_another_process_applies_to_the_very_next_request() {
    if !crate::common::postgres_configured() {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let office = Office::open(&app).await;
    create_job(&app, &office.dispatcher, &office.customer_id, "Boiler", 1).await;
    let other = TestApp::spawn_on(app.db.clone(), |_| {}).await;
    let dispatcher = user_id(&app, &office.dispatcher).await;
    for _ in 0..2 {
        data(&fresh(&app, &office.dispatcher, BOARD, json!({})).await.0, "jobs");
    }
    let (_, cost) = fresh(&app, &office.dispatcher, BOARD, json!({})).await;
    assert_eq!(cost, 1, "known to this process, and the board has a job");
    update_user(&other, &office.admin, &dispatcher, json!({ "active": false })).await;
    let (refused, _) = fresh(&app, &office.dispatcher, BOARD, json!({})).await;
    expect_code(&refused, "UNAUTHENTICATED");
    other.stop().await;
    app.stop().await;
}
