//! Live subscriptions over real websockets: event order and kinds, per-event
//! authorization, resume without loss (also under concurrent writers and
//! across a restart), fan-out between server processes, a cut listener,
//! and the connection's own rules.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::common::fixtures::*;
use crate::common::ws::{Received, WsClient};
use crate::common::{Backend, ServerProcess, TestApp, backends};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

const JOB_CHANGED: &str = "subscription($job: ID, $after: String) { jobChanged(jobId: $job, after: $after) { cursor kind at job { id status } actor { email } } }";
const INVOICE_CHANGED: &str = "subscription($after: String) { invoiceChanged(after: $after) { cursor kind invoice { number status amountPaid } payment { amount } } }";

fn kind(data: &Value) -> String {
    data["jobChanged"]["kind"].as_str().unwrap_or_else(|| panic!("{data}")).to_owned()
}

async fn run_job_to_invoice(app: &TestApp, office: &Office, day: i64) -> (String, String) {
    let job = create_job(app, &office.dispatcher, &office.customer_id, "Live job", 1).await;
    assign_ok(app, &office.dispatcher, &job, &office.tech_id, &at(day, 9), &at(day, 10)).await;
    job_move(app, &office.tech, "startJob", &job).await;
    let body = app
        .gql(
            Some(&office.dispatcher),
            "mutation($id: ID!) { completeJob(jobId: $id) { invoice { id } } }",
            json!({ "id": job }),
        )
        .await;
    let invoice = body["data"]["completeJob"]["invoice"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    (job, invoice)
}

each_backend! {
    #[tokio::test]
    async fn a_full_job_streams_in_order_on_both_protocols(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let mut board = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        board.subscribe("jobs", JOB_CHANGED, json!({})).await;
        let mut books = WsClient::ready(&app.ws_url(), &office.admin).await;
        books.subscribe("invoices", INVOICE_CHANGED, json!({})).await;
        let mut legacy = WsClient::connect(&app.ws_url(), "graphql-ws").await;
        legacy.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {}", office.admin) } })).await;
        assert_eq!(legacy.recv_json().await["type"], "connection_ack");
        legacy.send(json!({ "id": "l1", "type": "start", "payload": { "query": JOB_CHANGED } })).await;
        app.wait_for_operations(3).await;

        let (job, invoice) = run_job_to_invoice(&app, &office, 1).await;
        let mut kinds = Vec::new();
        let mut cursors = Vec::new();
        for _ in 0..5 {
            let data = board.next_data().await;
            assert_eq!(data["jobChanged"]["job"]["id"], job.as_str());
            assert!(data["jobChanged"]["actor"]["email"].is_string());
            kinds.push(kind(&data));
            cursors.push(data["jobChanged"]["cursor"].as_str().unwrap().to_owned());
        }
        assert_eq!(kinds, ["CREATED", "ASSIGNED", "STARTED", "COMPLETED", "INVOICED"], "{backend:?}");
        let mut legacy_kinds = Vec::new();
        for _ in 0..5 {
            let message = legacy.recv_json().await;
            assert_eq!(message["type"], "data", "{message}");
            legacy_kinds.push(message["payload"]["data"]["jobChanged"]["kind"].as_str().unwrap().to_owned());
        }
        assert_eq!(legacy_kinds, kinds, "{backend:?}: legacy protocol");

        let body = app
            .gql(
                Some(&office.dispatcher),
                "mutation($i: ID!) { recordPayment(input: { invoiceId: $i, amount: \"4\", method: CASH }) { id } }",
                json!({ "i": invoice }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        app.gql(
            Some(&office.dispatcher),
            "mutation($i: ID!) { recordPayment(input: { invoiceId: $i, amount: \"6\", method: CASH }) { id } }",
            json!({ "i": invoice }),
        )
        .await;
        let mut invoice_kinds = Vec::new();
        for _ in 0..4 {
            let data = books.next_data().await;
            let event = &data["invoiceChanged"];
            invoice_kinds.push(event["kind"].as_str().unwrap().to_owned());
            if event["kind"] == "CREATED" {
                assert!(event["payment"].is_null());
            } else {
                assert!(event["payment"]["amount"].is_string(), "{event}");
            }
        }
        assert_eq!(invoice_kinds, ["CREATED", "PAYMENT_RECORDED", "PAYMENT_RECORDED", "PAID"], "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn unassign_and_cancel_stream_and_filters_hold(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let first = create_job(&app, &office.dispatcher, &office.customer_id, "First", 1).await;
        let second = create_job(&app, &office.dispatcher, &office.customer_id, "Second", 1).await;
        let mut one_job = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        one_job.subscribe("j", JOB_CHANGED, json!({ "job": first })).await;
        app.wait_for_operations(1).await;

        assign_ok(&app, &office.dispatcher, &second, &office.tech_id, &at(1, 9), &at(1, 10)).await;
        assign_ok(&app, &office.dispatcher, &first, &office.tech_id, &at(1, 11), &at(1, 12)).await;
        job_move(&app, &office.dispatcher, "unassignJob", &first).await;
        job_move(&app, &office.dispatcher, "cancelJob", &first).await;
        let kinds =
            [kind(&one_job.next_data().await), kind(&one_job.next_data().await), kind(&one_job.next_data().await)];
        assert_eq!(kinds, ["ASSIGNED", "UNASSIGNED", "CANCELLED"], "{backend:?}: only the job asked for");

        // invoiceChanged for one invoice ignores the others.
        let (_, invoice_a) = run_job_to_invoice(&app, &office, 2).await;
        let mut books = WsClient::ready(&app.ws_url(), &office.admin).await;
        let one_invoice = "subscription($i: ID) { invoiceChanged(invoiceId: $i) { kind invoice { id } } }";
        books.subscribe("i", one_invoice, json!({ "i": invoice_a })).await;
        app.wait_for_operations(2).await;
        run_job_to_invoice(&app, &office, 3).await;
        let pay = "mutation($i: ID!) { recordPayment(input: { invoiceId: $i, amount: \"1\", method: CASH }) { id } }";
        app.gql(Some(&office.dispatcher), pay, json!({ "i": invoice_a })).await;
        let data = books.next_data().await;
        assert_eq!(
            data["invoiceChanged"],
            json!({ "kind": "PAYMENT_RECORDED", "invoice": { "id": invoice_a } }),
            "{backend:?}"
        );
        assert!(books.quiet_for(Duration::from_millis(500)).await);
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn technicians_get_only_their_jobs_and_no_invoices(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let mine = create_job(&app, &office.dispatcher, &office.customer_id, "Mine", 1).await;
        let mut tech = WsClient::ready(&app.ws_url(), &office.tech).await;
        tech.subscribe("1", JOB_CHANGED, json!({})).await;
        tech.subscribe("2", INVOICE_CHANGED, json!({})).await;
        let refused = tech.recv_json().await;
        assert_eq!(refused["type"], "error", "{backend:?}: {refused}");
        assert_eq!(refused["id"], "2");
        assert_eq!(refused["payload"][0]["extensions"]["code"], "FORBIDDEN");
        tech.send(json!({ "type": "ping" })).await;
        assert_eq!(tech.recv_json().await["type"], "pong", "the connection stays up");

        let theirs = create_job(&app, &office.dispatcher, &office.customer_id, "Theirs", 1).await;
        assign_ok(&app, &office.dispatcher, &theirs, &office.other_tech_id, &at(1, 9), &at(1, 10)).await;
        assign_ok(&app, &office.dispatcher, &mine, &office.tech_id, &at(1, 9), &at(1, 10)).await;
        let data = tech.next_data().await;
        assert_eq!(
            (kind(&data), data["jobChanged"]["job"]["id"].as_str().unwrap()),
            ("ASSIGNED".to_owned(), mine.as_str()),
            "{backend:?}"
        );

        // Reassigned away: the job stops flowing at once.
        assign_ok(&app, &office.dispatcher, &mine, &office.other_tech_id, &at(2, 9), &at(2, 10)).await;
        job_move(&app, &office.other_tech, "startJob", &mine).await;
        assert!(tech.quiet_for(Duration::from_millis(1500)).await, "{backend:?}: nothing after reassignment");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn resume_by_cursor_replays_exactly_what_was_missed(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let mut first = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        first.subscribe("1", JOB_CHANGED, json!({})).await;
        app.wait_for_operations(1).await;
        let a = create_job(&app, &office.dispatcher, &office.customer_id, "A", 1).await;
        let seen = first.next_data().await;
        let cursor = seen["jobChanged"]["cursor"].as_str().unwrap().to_owned();
        first.close().await;

        let b = create_job(&app, &office.dispatcher, &office.customer_id, "B", 1).await;
        assign_ok(&app, &office.dispatcher, &a, &office.tech_id, &at(1, 9), &at(1, 10)).await;

        let mut again = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        again.subscribe("1", JOB_CHANGED, json!({ "after": cursor })).await;
        let replayed = [again.next_data().await, again.next_data().await];
        assert_eq!(replayed[0]["jobChanged"]["job"]["id"], b.as_str(), "{backend:?}");
        assert_eq!(kind(&replayed[1]), "ASSIGNED");
        let c = create_job(&app, &office.dispatcher, &office.customer_id, "C", 1).await;
        let live = again.next_data().await;
        assert_eq!(live["jobChanged"]["job"]["id"], c.as_str(), "then live");
        assert!(again.quiet_for(Duration::from_millis(500)).await, "no duplicates");

        // Filtered to one job, resumed from the start of the journal.
        let mut one = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        one.subscribe(
            "1",
            JOB_CHANGED,
            json!({ "job": a, "after": fieldforge::domain::cursor::Cursor::Journal(0).encode() }),
        )
        .await;
        assert_eq!(kind(&one.next_data().await), "CREATED");
        assert_eq!(kind(&one.next_data().await), "ASSIGNED");

        // An unknown cursor is BAD_USER_INPUT.
        for bogus in ["garbage", &fieldforge::domain::cursor::Cursor::Journal(999_999).encode()] {
            one.subscribe("bad", JOB_CHANGED, json!({ "after": bogus })).await;
            let error = one.recv_json().await;
            assert_eq!(error["type"], "error", "{error}");
            assert_eq!(error["payload"][0]["extensions"]["code"], "BAD_USER_INPUT");
        }
        app.stop().await;
    }
}

each_backend! {
    /// Writers commit concurrently while a subscriber keeps dropping and resuming:
    /// it must see every event exactly once, in cursor order.
    #[tokio::test]
    async fn resume_loses_nothing_under_concurrent_writers(backend) {
        let app = Arc::new(TestApp::spawn(backend).await);
        let office = Office::open(&app).await;
        let writers = 6;
        let per_writer = 10;
        let mut tasks = Vec::new();
        let mut subscriber = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        subscriber.subscribe("s", JOB_CHANGED, json!({})).await;
        app.wait_for_operations(1).await;
        for w in 0..writers {
            let app = app.clone();
            let token = office.dispatcher.clone();
            let customer = office.customer_id.clone();
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..per_writer {
                    ids.push(create_job(&app, &token, &customer, &format!("W{w}-{n}"), 1).await);
                }
                ids
            }));
        }
        let mut received: Vec<(i64, String)> = Vec::new();
        let mut cursor: Option<String> = None;
        while received.len() < writers * per_writer {
            if cursor.is_some() {
                subscriber = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
                subscriber.subscribe("s", JOB_CHANGED, json!({ "after": cursor })).await;
            }
            for _ in 0..7 {
                if received.len() == writers * per_writer {
                    break;
                }
                let data = subscriber.next_data().await;
                let text = data["jobChanged"]["cursor"].as_str().unwrap().to_owned();
                let position = fieldforge::domain::cursor::Cursor::decode(&text).and_then(|c| c.as_journal()).unwrap();
                received.push((position, data["jobChanged"]["job"]["id"].as_str().unwrap().to_owned()));
                cursor = Some(text);
            }
            std::mem::replace(&mut subscriber, WsClient::ready(&app.ws_url(), &office.dispatcher).await).close().await;
        }
        let mut written = BTreeSet::new();
        for task in tasks {
            written.extend(task.await.unwrap());
        }
        let positions: Vec<i64> = received.iter().map(|(p, _)| *p).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{backend:?}: strictly increasing: {positions:?}");
        let delivered: BTreeSet<String> = received.into_iter().map(|(_, id)| id).collect();
        assert_eq!(delivered.len(), writers * per_writer, "{backend:?}: no duplicates");
        assert_eq!(delivered, written, "{backend:?}: no gaps");
    }
}

each_backend! {
    #[tokio::test]
    async fn resume_works_across_a_restart(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let mut client = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        client.subscribe("1", JOB_CHANGED, json!({})).await;
        app.wait_for_operations(1).await;
        create_job(&app, &office.dispatcher, &office.customer_id, "Before", 1).await;
        let cursor = client.next_data().await["jobChanged"]["cursor"].clone();
        let missed = create_job(&app, &office.dispatcher, &office.customer_id, "Missed", 1).await;
        let database = app.db.clone();
        app.stop().await;
        assert!(matches!(client.recv(Duration::from_secs(5)).await, Received::Json(_) | Received::Closed(_)));

        let restarted = TestApp::spawn_on(database, |_| {}).await;
        let mut client = WsClient::ready(&restarted.ws_url(), &office.dispatcher).await;
        client.subscribe("1", JOB_CHANGED, json!({ "after": cursor })).await;
        let data = client.next_data().await;
        assert_eq!(data["jobChanged"]["job"]["id"], missed.as_str(), "{backend:?}");
        restarted.stop().await;
    }
}

#[tokio::test]
async fn two_server_processes_share_events_and_survive_a_listener_cut() {
    let Some(backend) = backends().into_iter().find(|b| *b == Backend::Postgres) else {
        return; // PostgreSQL only; CI requires it (FIELDFORGE_REQUIRE_POSTGRES=1).
    };
    let app = TestApp::spawn(backend).await;
    let office = Office::open(&app).await;
    let other = ServerProcess::start(&app.db.url).await;

    // Subscribed on the other process; changes made through this one.
    let mut remote = WsClient::ready(&other.ws_url(), &office.dispatcher).await;
    remote.subscribe("1", JOB_CHANGED, json!({})).await;
    crate::common::wait_for_operations(other.addr, 1).await;
    let job = create_job(&app, &office.dispatcher, &office.customer_id, "Across", 1).await;
    let data = remote.next_data().await;
    assert_eq!(data["jobChanged"]["job"]["id"], job.as_str());

    // Cut every LISTEN connection of the test database; events keep coming.
    let admin = app.db.connect().await;
    let name = app.db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    let cut = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()"
    );
    let terminated =
        admin.query_all_raw(sea_orm::Statement::from_string(sea_orm::DatabaseBackend::Postgres, cut)).await.unwrap();
    assert!(!terminated.is_empty(), "found listeners to cut");
    let mut expected = Vec::new();
    for n in 0..5 {
        expected.push(create_job(&app, &office.dispatcher, &office.customer_id, &format!("After cut {n}"), 1).await);
    }
    for id in &expected {
        let data = remote.next_data().await;
        assert_eq!(data["jobChanged"]["job"]["id"], id.as_str());
    }
    app.stop().await;
}

#[tokio::test]
async fn connection_rules_for_live_subscriptions() {
    let backend = backends()[0];
    let app = TestApp::spawn_with(backend, |s| s.token_ttl = Duration::from_secs(3)).await;
    let office = Office::open(&app).await;

    // A reused operation id: 4409.
    let mut client = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
    client.subscribe("same", JOB_CHANGED, json!({})).await;
    client.subscribe("same", JOB_CHANGED, json!({})).await;
    assert_eq!(client.expect_close(Duration::from_secs(5)).await, Some(4409));

    // The token expires: 4401.
    let mut expiring = WsClient::ready(&app.ws_url(), &office.tech).await;
    expiring.subscribe("1", JOB_CHANGED, json!({})).await;
    assert_eq!(expiring.expect_close(Duration::from_secs(10)).await, Some(4401));
    app.stop().await;

    // Deactivated while connected: 4401.
    let app = TestApp::spawn(backend).await;
    let office = Office::open(&app).await;
    let mut watched = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
    watched.subscribe("1", JOB_CHANGED, json!({})).await;
    let me = app.gql(Some(&office.dispatcher), "{ me { id } }", json!({})).await;
    app.gql(
        Some(&office.admin),
        "mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { id } }",
        json!({ "id": me["data"]["me"]["id"] }),
    )
    .await;
    assert_eq!(watched.expect_close(Duration::from_secs(10)).await, Some(4401));

    // A role change while connected: 4401 as well.
    let (second, second_id) = app.register(&office.admin, "second@example.com", "DISPATCHER").await;
    let mut promoted = WsClient::ready(&app.ws_url(), &second).await;
    promoted.subscribe("1", JOB_CHANGED, json!({})).await;
    let body = app
        .gql(
            Some(&office.admin),
            "mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { role } }",
            json!({ "id": second_id }),
        )
        .await;
    assert_eq!(body["data"]["updateUser"]["role"], "ADMIN", "{body}");
    assert_eq!(promoted.expect_close(Duration::from_secs(10)).await, Some(4401));

    // Sessions revoked while connected: 4401 within 10 s; others stay.
    let mut revoked = WsClient::ready(&app.ws_url(), &office.tech).await;
    revoked.subscribe("1", JOB_CHANGED, json!({})).await;
    let mut bystander = WsClient::ready(&app.ws_url(), &office.admin).await;
    bystander.subscribe("1", JOB_CHANGED, json!({})).await;
    let body = app.gql(Some(&office.tech), "mutation { revokeSessions }", json!({})).await;
    assert_eq!(body["data"]["revokeSessions"], true, "{body}");
    assert_eq!(revoked.expect_close(Duration::from_secs(10)).await, Some(4401));
    assert_eq!(bystander.recv(Duration::from_secs(1)).await, Received::Timeout, "the admin's socket stays open");
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected() {
    let app = TestApp::spawn(backends()[0]).await;
    let office = Office::open(&app).await;
    let job = create_job(&app, &office.dispatcher, &office.customer_id, "Chatty", 1).await;
    let description = "d".repeat(10_000);
    let db = app.db.connect().await;
    db.execute_unprepared(&format!("UPDATE jobs SET description = '{description}'")).await.unwrap();

    let mut lazy = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
    lazy.subscribe("1", "subscription { jobChanged { cursor job { description } } }", json!({})).await;
    app.wait_for_operations(1).await;
    // Eight thousand events of 10 KB each: far more than socket buffers hold.
    let job_id = uuid::Uuid::parse_str(&job).unwrap();
    let blob = job_id.as_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>();
    db.execute_unprepared(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8000) \
         INSERT INTO logs (event, entity_type, entity_id, actor_id, data, created_at) \
         SELECT 'job.unassigned', 'job', X'{blob}', NULL, '{{\"technicianId\": null}}', '2026-01-01T00:00:00+00:00' FROM n"
    ))
    .await
    .unwrap();
    // Not reading until the server has given up on us (its socket count drops
    // to 0), then draining.
    app.wait_for_metric("fieldforge_websocket_connections", |n| n == 0.0, Duration::from_secs(60)).await;
    let mut drained = 0;
    let close = loop {
        match lazy.recv(Duration::from_secs(10)).await {
            Received::Json(_) => drained += 1,
            Received::Closed(code) => break code,
            Received::Timeout => panic!("still streaming after {drained} messages"),
        }
    };
    // The close frame (1008) is sent ahead of the backlog but waits at most
    // 5 s for the reader; a reader gone longer finds the socket simply closed.
    assert!(matches!(close, Some(1008) | None), "closed with {close:?} after {drained} messages");
    assert!(drained < 8000, "disconnected before everything was sent");
    app.stop().await;
}

each_backend! {
    /// The same selection without `after`: one execution per visibility (see
    /// `transport::shared_subscriptions`), every member still gets every event of
    /// its own, in its own envelope.
    #[tokio::test]
    async fn identical_subscriptions_share_one_execution_per_visibility(backend) {
        const SHARED: &str = "subscription { jobChanged { kind job { id status } } }";
        async fn next(client: &mut WsClient, id: &str) -> String {
            let message = client.recv_json().await;
            assert_eq!((message["type"].as_str(), message["id"].as_str()), (Some("next"), Some(id)), "{message}");
            kind(&message["payload"]["data"])
        }
        async fn groups(app: &TestApp) -> String {
            let metrics = app.http.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
            metrics.lines().find(|l| l.starts_with("fieldforge_shared_subscriptions ")).unwrap_or_default().to_owned()
        }
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let mut first = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        first.subscribe("a", SHARED, json!({})).await;
        let mut second = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        second.subscribe("b", SHARED, json!({})).await;
        let mut tess = WsClient::ready(&app.ws_url(), &office.tech).await;
        tess.subscribe("t", SHARED, json!({})).await;
        let mut otto = WsClient::ready(&app.ws_url(), &office.other_tech).await;
        otto.subscribe("o", SHARED, json!({})).await;
        app.wait_for_operations(4).await;
        assert_eq!(groups(&app).await, "fieldforge_shared_subscriptions 3", "{backend:?}: staff, Tess, Otto");

        let job = create_job(&app, &office.dispatcher, &office.customer_id, "Shared", 1).await;
        assign_ok(&app, &office.dispatcher, &job, &office.tech_id, &at(1, 9), &at(1, 10)).await;
        for (client, id) in [(&mut first, "a"), (&mut second, "b")] {
            assert_eq!([next(client, id).await, next(client, id).await], ["CREATED", "ASSIGNED"], "{backend:?}");
        }
        // Visibility is decided when an event is delivered: CREATED reaches
        // Tess only if the job is hers by then.
        let mut seen = next(&mut tess, "t").await;
        if seen == "CREATED" {
            seen = next(&mut tess, "t").await;
        }
        assert_eq!(seen, "ASSIGNED", "{backend:?}");
        assert!(otto.quiet_for(Duration::from_millis(300)).await, "{backend:?}: not Otto's job");

        // A member leaves; the others go on. A late joiner gets what follows.
        second.close().await;
        app.wait_for_metric("fieldforge_websocket_operations", |n| n == 3.0, Duration::from_secs(10)).await;
        job_move(&app, &office.tech, "startJob", &job).await;
        assert_eq!(next(&mut first, "a").await, "STARTED");
        assert_eq!(next(&mut tess, "t").await, "STARTED");
        let mut late = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        late.subscribe("c", SHARED, json!({})).await;
        app.wait_for_operations(4).await;
        create_job(&app, &office.dispatcher, &office.customer_id, "Later", 1).await;
        assert_eq!(next(&mut first, "a").await, "CREATED");
        assert_eq!(next(&mut late, "c").await, "CREATED", "{backend:?}: the late joiner starts here");

        // A refused subscription is refused for every member of its group.
        let refused = "subscription { invoiceChanged { kind } }";
        tess.subscribe("i1", refused, json!({})).await;
        let mut tess_again = WsClient::ready(&app.ws_url(), &office.tech).await;
        tess_again.subscribe("i2", refused, json!({})).await;
        for (client, id) in [(&mut tess, "i1"), (&mut tess_again, "i2")] {
            let message = client.recv_json().await;
            assert_eq!((message["type"].as_str(), message["id"].as_str()), (Some("error"), Some(id)), "{message}");
            assert_eq!(message["payload"][0]["extensions"]["code"], "FORBIDDEN", "{message}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn operations_per_socket_are_capped_and_finished_ones_leave() {
    let app = TestApp::spawn(backends()[0]).await;
    let office = Office::open(&app).await;
    let mut client = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
    // Finished operations (queries that complete, and subscriptions the
    // client stops) do not count toward the cap.
    for n in 0..150 {
        client.subscribe(&format!("q{n}"), "{ me { email } }", json!({})).await;
        assert_eq!(client.recv_json().await["type"], "next");
        assert_eq!(client.recv_json().await["type"], "complete");
    }
    for n in 0..120 {
        client.subscribe(&format!("done{n}"), JOB_CHANGED, json!({})).await;
        client.send(json!({ "id": format!("done{n}"), "type": "complete" })).await;
    }
    for n in 0..100 {
        client.subscribe(&format!("s{n}"), JOB_CHANGED, json!({})).await;
    }
    assert!(client.quiet_for(Duration::from_millis(500)).await, "100 running operations are fine");
    client.subscribe("one-too-many", JOB_CHANGED, json!({})).await;
    let refused = client.recv_json().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "one-too-many");
    // The connection stays; stopping one makes room for another.
    client.send(json!({ "id": "s0", "type": "complete" })).await;
    client.subscribe("room-again", JOB_CHANGED, json!({})).await;
    assert!(client.quiet_for(Duration::from_millis(500)).await, "accepted once there is room");
    create_job(&app, &office.dispatcher, &office.customer_id, "Seen by all", 1).await;
    let mut seen = BTreeSet::new();
    while seen.len() < 100 {
        let message = client.recv_json().await;
        assert_eq!(message["type"], "next", "{message}");
        seen.insert(message["id"].as_str().unwrap().to_owned());
    }
    assert!(seen.contains("room-again") && !seen.contains("s0"), "{seen:?}");

    // An operation id over 128 characters: 4400.
    client.subscribe(&"x".repeat(129), JOB_CHANGED, json!({})).await;
    assert_eq!(client.expect_close(Duration::from_secs(5)).await, Some(4400));
    let mut other = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
    other.subscribe(&"y".repeat(128), "{ me { email } }", json!({})).await;
    assert_eq!(other.recv_json().await["type"], "next", "128 characters are fine");
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_never_reads_its_pongs_is_closed_without_holding_up_others() {
    let app = TestApp::spawn(backends()[0]).await;
    let office = Office::open(&app).await;
    let mut watcher = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
    watcher.subscribe("1", JOB_CHANGED, json!({})).await;

    let mut flooder = WsClient::ready(&app.ws_url(), &office.admin).await;
    // Pings whose pongs are never read: far more than the socket buffers hold.
    let ping = tokio_tungstenite::tungstenite::Message::Text(json!({ "type": "ping" }).to_string().into());
    let flood = async {
        for _ in 0..400_000 {
            flooder.send_raw(ping.clone()).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), flood).await.expect("the server keeps reading");

    // Meanwhile everyone else is served.
    let job = create_job(&app, &office.dispatcher, &office.customer_id, "Still live", 1).await;
    let data = watcher.next_data().await;
    assert_eq!(data["jobChanged"]["job"]["id"], job.as_str());
    // The flooder was closed (1008, or dropped when it would not take the frame).
    let mut drained = 0u64;
    let close = loop {
        match flooder.recv(Duration::from_secs(20)).await {
            Received::Json(_) => drained += 1,
            Received::Closed(code) => break code,
            Received::Timeout => panic!("still open after {drained} pongs"),
        }
    };
    assert!(matches!(close, Some(1008) | None), "closed with {close:?}");
    assert!(drained < 400_000, "the server gave up on the flooder");
    app.stop().await;
}
