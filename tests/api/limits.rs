//! Limits and bad input: caps checked before anything runs, body size,
//! content types, GET never mutating, `first` bounds, and errors that leak
//! nothing.

use crate::common::{TestApp, error_code};
use serde_json::json;

each_backend! {
    #[tokio::test]
    async fn graphiql_introspection_passes_the_caps(backend) {
        let app = TestApp::spawn(backend).await;
        let query = include_str!("common/introspection.graphql");
        let body = app.gql(None, query, json!({})).await;
        assert!(body["errors"].is_null(), "{backend:?}: {body}");
        assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn a_repeated_query_is_answered_like_the_first_time(backend) {
        // Parsed documents are kept by text: a kept parse answers the same,
        // an unparsable text is refused every time.
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        for _ in 0..3 {
            let body = app.gql(Some(&admin), "{ me { email } }", json!({})).await;
            assert_eq!(body["data"]["me"]["email"], "admin@example.com", "{backend:?}: {body}");
            let broken = app.gql(Some(&admin), "{ me { email ", json!({})).await;
            assert!(broken["data"].is_null(), "{backend:?}: {broken}");
            assert_eq!(error_code(&broken), "BAD_USER_INPUT");
        }
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn depth_cost_and_aliases_are_capped(backend) {
        let app = TestApp::spawn_with(backend, |s| {
            s.limits.max_depth = 5;
            s.limits.max_cost = 50;
            s.limits.max_aliases = 3;
        })
        .await;
        let admin = app.bootstrap_admin().await;
        let deep = "{ me { technician { user { technician { user { technician { id } } } } } } }";
        let body = app.gql(Some(&admin), deep, json!({})).await;
        assert!(body["data"].is_null() && body["errors"][0]["message"].as_str().unwrap().contains("deep"), "{body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT");

        let wide: String = (0..60).map(|n| format!("u{n}: me {{ id }} ")).collect();
        let body = app.gql(Some(&admin), &format!("{{ {wide} }}"), json!({})).await;
        assert!(body["data"].is_null(), "{backend:?}: over caps must not run: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT");

        let four = "{ a: me { id } b: me { id } c: me { id } d: me { id } }";
        let body = app.gql(Some(&admin), four, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: aliases");
        let three = "{ a: me { id } b: me { id } c: me { id } }";
        assert!(app.gql(Some(&admin), three, json!({})).await["errors"].is_null());

        // A mutation over the alias cap runs none of its fields.
        let logins: String = (0..4)
            .map(|n| format!("l{n}: login(email: \"admin@example.com\", password: \"x\") {{ token }} "))
            .collect();
        let body = app.gql(None, &format!("mutation {{ {logins} }}"), json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let db = app.db.connect().await;
        use fieldforge::entities::journal_entry as log;
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let failed = log::Entity::find().filter(log::Column::Event.eq("auth.login_failed")).count(&db).await.unwrap();
        assert_eq!(failed, 0, "{backend:?}: refused before running");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn batches_are_capped(backend) {
        let app = TestApp::spawn_with(backend, |s| s.limits.max_batch = 3).await;
        let one = json!({ "query": "{ __typename }" });
        let ok = app.http.post(app.url("/graphql")).json(&json!([one, one, one])).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        let body: serde_json::Value = ok.json().await.unwrap();
        assert_eq!(body.as_array().map(Vec::len), Some(3), "{body}");
        let over = app.http.post(app.url("/graphql")).json(&json!([one, one, one, one])).send().await.unwrap();
        assert_eq!(over.status(), 400, "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn transport_rules(backend) {
        let app = TestApp::spawn(backend).await;
        // Over 1 MiB: refused before parsing.
        let padding = "x".repeat(1024 * 1024 + 10);
        let big = app
            .http
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(format!("{{\"query\":\"{{ __typename }}\",\"x\":\"{padding}\"}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(big.status(), 413, "{backend:?}");

        // Cross-site forms cannot post GraphQL.
        for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            let response = app
                .http
                .post(app.url("/graphql"))
                .header("content-type", content_type)
                .body(r#"{"query":"mutation { login(email: \"a@b.c\", password: \"x\") { token } }"}"#)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 415, "{backend:?}: {content_type}");
        }

        // GET runs queries, never mutations.
        let query = app.http.get(app.url("/graphql")).query(&[("query", "{ __typename }")]).send().await.unwrap();
        assert_eq!(query.status(), 200);
        assert_eq!(query.json::<serde_json::Value>().await.unwrap()["data"]["__typename"], "Query");
        let mutation = app
            .http
            .get(app.url("/graphql"))
            .query(&[("query", "mutation { register(input: {email: \"a@b.c\", password: \"correct horse battery\", name: \"A\", role: ADMIN}) { token } }")])
            .send()
            .await
            .unwrap();
        assert_eq!(mutation.status(), 405, "{backend:?}");
        let db = app.db.connect().await;
        use sea_orm::{EntityTrait, PaginatorTrait};
        assert_eq!(fieldforge::entities::user::Entity::find().count(&db).await.unwrap(), 0, "GET mutation ran");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn first_is_bounded_and_errors_leak_nothing(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        for first in [0, -1, 101] {
            let body = app
                .gql(Some(&admin), "query($f: Int) { users(first: $f) { totalCount } }", json!({ "f": first }))
                .await;
            assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: first {first}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "first");
        }
        let body = app.gql(Some(&admin), "{ users(first: 100) { totalCount } }", json!({})).await;
        assert_eq!(body["data"]["users"]["totalCount"], 1);

        // Malformed input of every kind: messages carry no SQL, paths or traces.
        let bodies = [
            app.gql(Some(&admin), "{ users(first: \"x\") { totalCount } }", json!({})).await,
            app.gql(Some(&admin), "{ nope }", json!({})).await,
            app.gql(Some(&admin), "mutation { updateUser(id: \"not-a-uuid\", input: {}) { id } }", json!({})).await,
            app.gql(None, "{ me { id }", json!({})).await,
        ];
        // A value of the wrong type names its argument.
        assert_eq!(bodies[0]["errors"][0]["extensions"]["field"], "first", "{}", bodies[0]);
        let wrong_type = app
            .gql(
                Some(&admin),
                "mutation { createTechnician(input: { name: \"T\", skillLevel: \"high\" }) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(wrong_type["errors"][0]["extensions"], json!({ "code": "BAD_USER_INPUT", "field": "skillLevel" }));
        for body in &bodies {
            assert!(body["errors"][0]["extensions"]["code"].is_string(), "every error has a code: {body}");
            let text = body["errors"].to_string().to_lowercase();
            assert!(body["errors"].is_array(), "{body}");
            for leak in ["select ", "insert ", "sqlx", ".rs:", "/src/", "panicked", "stack"] {
                assert!(!text.contains(leak), "{backend:?}: error leaks `{leak}`: {text}");
            }
        }
        app.stop().await;
    }
}

each_backend! {
    /// A scalar inside an input object that cannot be read (money that is not
    /// a number, a time without an offset) is BAD_USER_INPUT naming its field,
    /// written inline or sent as a variable, and nothing is stored.
    #[tokio::test]
    async fn unreadable_scalars_in_inputs_name_their_field(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let field_of = |body: &serde_json::Value| {
            assert_eq!(error_code(body), "BAD_USER_INPUT", "{backend:?}: {body}");
            assert!(body["data"].is_null(), "{body}");
            body["errors"][0]["extensions"]["field"].as_str().unwrap_or_default().to_owned()
        };
        let inline = [
            ("mutation { recordPayment(input: { invoiceId: \"x\", amount: \"abc\", method: CASH }) { id } }", "amount"),
            (
                "mutation { createTechnician(input: { name: \"T\", skillLevel: 2, hourlyRate: \"lots\" }) { id } }",
                "hourlyRate",
            ),
            (
                "mutation { assignJob(input: { jobId: \"x\", technicianId: \"y\", startsAt: \"2026-11-24T09:00:00Z\", endsAt: \"2026-11-24T10:00:00\" }) { id } }",
                "endsAt",
            ),
            (
                "mutation { completeJob(jobId: \"x\", input: { materials: [{ description: \"Pipe\", quantity: \"1\", unitPrice: \"a\" }] }) { id } }",
                "unitPrice",
            ),
            ("{ jobs(filter: { scheduledFrom: \"monday\" }) { totalCount } }", "scheduledFrom"),
        ];
        for (query, field) in inline {
            assert_eq!(field_of(&app.gql(Some(&admin), query, json!({})).await), field, "{query}");
        }
        let as_variable = app
            .gql(
                Some(&admin),
                "mutation($input: CreateScheduleEntryInput!) { createScheduleEntry(input: $input) { id } }",
                json!({ "input": { "technicianId": "x", "kind": "UNAVAILABLE", "startsAt": "tomorrow", "endsAt": "2026-11-24T10:00:00Z" } }),
            )
            .await;
        assert_eq!(field_of(&as_variable), "startsAt");
        let labour = app
            .gql(
                Some(&admin),
                "mutation($input: CompleteJobInput) { completeJob(jobId: \"x\", input: $input) { id } }",
                json!({ "input": { "laborHours": "two" } }),
            )
            .await;
        assert_eq!(field_of(&labour), "laborHours");
        // Arguments of fields too, where async-graphql names nothing either.
        let window = "query($from: DateTime!, $to: DateTime!) { schedule(technicianId: \"x\", from: $from, to: $to) { id } \
                      availableTechnicians(startsAt: $from, endsAt: $to) { id } }";
        let no_offset =
            app.gql(Some(&admin), window, json!({ "from": "2026-11-24T09:00:00Z", "to": "2026-11-24T10:00:00" })).await;
        assert_eq!(field_of(&no_offset), "to");
        // Readable values still pass through to the domain's own checks.
        let too_precise = app
            .gql(
                Some(&admin),
                "mutation { createTechnician(input: { name: \"T\", skillLevel: 2, hourlyRate: \"10.001\" }) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(field_of(&too_precise), "hourlyRate");
        let stored = app.gql(Some(&admin), "{ technicians { totalCount } }", json!({})).await;
        assert_eq!(stored["data"]["technicians"]["totalCount"], 0, "{stored}");
        let created = app
            .gql(
                Some(&admin),
                "mutation { createTechnician(input: { name: \"T\", skillLevel: 2, hourlyRate: \"10\" }) { id } }",
                json!({}),
            )
            .await;
        assert!(created["errors"].is_null(), "{created}");
        let nested = app
            .gql(
                Some(&admin),
                "{ technicians { nodes { schedule(from: \"2026-11-24T09:00:00Z\", to: \"later\") { id } } } }",
                json!({}),
            )
            .await;
        // A nested field's error leaves the rest of the answer standing.
        assert_eq!(nested["errors"][0]["extensions"], json!({ "code": "BAD_USER_INPUT", "field": "to" }), "{nested}");
        app.stop().await;
    }
}

const AMPLIFIER: &str = "{ jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { id title } } } } } } } } } } } }";

each_backend! {
    #[tokio::test]
    async fn cost_is_counted_before_anything_runs_and_reported_on_every_answer(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;

        let before = app.statements.get();
        let body = app.gql(Some(&admin), AMPLIFIER, json!({})).await;
        assert!(body["data"].is_null(), "{backend:?}: {body}");
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let requested = body["extensions"]["cost"]["requested"].as_u64().unwrap();
        assert!(requested > 100_000_000, "{backend:?}: {body}");
        assert_eq!(body["extensions"]["cost"]["maximum"], 25_000);
        // Only the caller's account was read: no resolver ran.
        assert_eq!(app.statements.get() - before, 1, "{backend:?}");

        // `first` from a variable multiplies too.
        let paged = "query($n: Int) { jobs(first: $n) { totalCount nodes { id customer { name } } } }";
        let body = app.gql(Some(&admin), paged, json!({ "n": 100 })).await;
        assert_eq!(body["extensions"]["cost"]["requested"], 1 + 100 * (1 + 1 + 2) + 1, "{backend:?}: {body}");
        assert!(body["errors"].is_null());

        // Fragments count as written out.
        let spread = "query { jobs(first: 100) { nodes { ...J } } } fragment J on Job { customer { jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { id } } } } } } }";
        let body = app.gql(Some(&admin), spread, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: {body}");

        // A mutation and a refused request carry the report as well.
        let body =
            app.gql(Some(&admin), "mutation { createCustomer(input: { name: \"Cost Co\" }) { id } }", json!({})).await;
        assert_eq!(body["extensions"]["cost"]["requested"], 2, "{backend:?}: {body}");
        let body = app.gql(Some(&admin), "{ me { id ", json!({})).await;
        assert_eq!(body["extensions"]["cost"]["maximum"], 25_000, "{backend:?}: {body}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn plain_lists_are_bounded(backend) {
        use crate::common::fixtures::*;
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let schedule =
            "query($t: ID!, $f: DateTime!, $to: DateTime!) { schedule(technicianId: $t, from: $f, to: $to) { id } }";
        let window = |days: i64| json!({ "t": office.tech_id, "f": at(0, 0), "to": at(days, 0) });
        let body = app.gql(Some(&office.dispatcher), schedule, window(92)).await;
        assert!(body["errors"].is_null(), "{backend:?}: 92 days is fine: {body}");
        let body = app.gql(Some(&office.dispatcher), schedule, window(93)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "to");

        let nested =
            "query($f: DateTime!, $to: DateTime!) { technicians { nodes { schedule(from: $f, to: $to) { id } } } }";
        let body = app.gql(Some(&office.dispatcher), nested, json!({ "f": at(0, 0), "to": at(93, 0) })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "to", "{backend:?}: {body}");

        let available = "query($s: DateTime!, $e: DateTime!) { availableTechnicians(startsAt: $s, endsAt: $e) { id } }";
        let body = app.gql(Some(&office.dispatcher), available, json!({ "s": at(1, 0), "e": at(2, 0) })).await;
        assert!(body["errors"].is_null(), "{backend:?}: 24 h is fine: {body}");
        let body = app.gql(Some(&office.dispatcher), available, json!({ "s": at(1, 0), "e": at(2, 1) })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "endsAt");

        // 101 upcoming jobs: the next 100 are listed, at the top level and nested.
        for day in 1..=101 {
            let job = create_job(&app, &office.dispatcher, &office.customer_id, &format!("Visit {day}"), 1).await;
            assign_ok(&app, &office.dispatcher, &job, &office.tech_id, &at(day, 9), &at(day, 10)).await;
        }
        let body = app
            .gql(
                Some(&office.dispatcher),
                "query($t: ID) { upcomingJobs(technicianId: $t) { startsAt } }",
                json!({ "t": office.tech_id }),
            )
            .await;
        let rows = body["data"]["upcomingJobs"].as_array().unwrap_or_else(|| panic!("{body}"));
        assert_eq!(rows.len(), 100, "{backend:?}");
        assert_eq!(rows[0]["startsAt"].as_str().unwrap()[..10], at(1, 9)[..10], "{backend:?}: soonest first");
        let body = app.gql(Some(&office.dispatcher), "{ upcomingJobs { startsAt } }", json!({})).await;
        assert_eq!(body["data"]["upcomingJobs"].as_array().unwrap().len(), 100, "{backend:?}: everyone's");
        let body = app.gql(Some(&office.tech), "{ upcomingJobs { startsAt } }", json!({})).await;
        assert_eq!(body["data"]["upcomingJobs"].as_array().unwrap().len(), 100, "{backend:?}: the technician's own");
        let body = app
            .gql(Some(&office.dispatcher), "{ technicians { nodes { name upcomingJobs { startsAt } } } }", json!({}))
            .await;
        let tess = body["data"]["technicians"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "Tess")
            .unwrap_or_else(|| panic!("{body}"))
            .clone();
        assert_eq!(tess["upcomingJobs"].as_array().unwrap().len(), 100, "{backend:?}: nested");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn a_request_past_its_deadline_is_answered_and_rolled_back(backend) {
        use crate::common::fixtures::*;
        use sea_orm::{ConnectionTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait};
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        // A second server on the same database, whose requests may take 1 s.
        let hasty = TestApp::spawn_on(app.db.clone(), |s| s.request_timeout = std::time::Duration::from_secs(1)).await;
        // Someone else holds the customers table: the insert has to wait.
        let db = app.db.connect().await;
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let holder = db.begin_with_options(options).await.unwrap();
        if backend == crate::common::Backend::Postgres {
            holder.execute_unprepared("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE").await.unwrap();
        }
        let started = std::time::Instant::now();
        let body = hasty
            .gql(
                Some(&office.dispatcher),
                "mutation { createCustomer(input: { name: \"Never Stored\" }) { id } }",
                json!({}),
            )
            .await;
        assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{backend:?}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("had not committed was rolled back"), "{body}");
        assert!(started.elapsed() < std::time::Duration::from_secs(4), "{backend:?}: answered at the deadline");
        holder.rollback().await.unwrap();
        // The cancelled insert, once it gets the lock, is rolled back with its transaction.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let search = "{ customers(search: \"Never Stored\") { totalCount } }";
        let body = app.gql(Some(&office.dispatcher), search, json!({})).await;
        assert_eq!(body["data"]["customers"]["totalCount"], 0, "{backend:?}: nothing was kept: {body}");
        assert_eq!(app.journal_count("customer.created").await, 1, "{backend:?}: only Office's customer");
        // Both servers go on serving.
        for server in [&app, &hasty] {
            let body = server.gql(Some(&office.dispatcher), "{ me { email } }", json!({})).await;
            assert_eq!(body["data"]["me"]["email"], "dispatch@example.com", "{backend:?}: {body}");
        }
        hasty.stop().await;
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn an_answer_over_the_size_cap_is_refused(backend) {
        use crate::common::fixtures::*;
        let app = TestApp::spawn_with(backend, |s| s.limits.max_response_bytes = 3_000).await;
        let office = Office::open(&app).await;
        for n in 0..40 {
            create_customer(&app, &office.dispatcher, &format!("Customer with a long enough name {n:03}")).await;
        }
        let body =
            app.gql(Some(&office.dispatcher), "{ customers(first: 100) { nodes { id name } } }", json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("larger than 3000 bytes"), "{body}");
        let body = app.gql(Some(&office.dispatcher), "{ customers(first: 5) { nodes { id name } } }", json!({})).await;
        assert!(body["errors"].is_null(), "{backend:?}: a small page passes: {body}");
        app.stop().await;
    }
}

#[tokio::test]
async fn postgres_connections_carry_a_statement_timeout() {
    if !crate::common::postgres_configured() {
        return;
    }
    let backend = crate::common::Backend::Postgres;
    let database = crate::common::TestDatabase::create(backend).await;
    let (db, _) = fieldforge::db::connect_counted(&database.url, 1, std::time::Duration::from_millis(200))
        .await
        .expect("connects");
    use sea_orm::ConnectionTrait;
    let started = std::time::Instant::now();
    let err = db.execute_unprepared("SELECT pg_sleep(5)").await.expect_err("cancelled by the server");
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{err}");
    assert!(err.to_string().contains("statement timeout"), "{err}");
    db.execute_unprepared("SELECT 1").await.expect("the connection is still usable");
}
