//! Webhooks, end to end: the real server delivers to a real receiver on
//! 127.0.0.1 (so the tests allow private targets, except where they check
//! the refusals), and the receiver checks body, headers and signature.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::fixtures::*;
use crate::common::receiver::{Received, Receiver, Reply};
use crate::common::{Backend, PASSWORD, ServerProcess, TestApp, TestDatabase};

const CREATE: &str = "mutation($i: CreateWebhookInput!) {
  createWebhook(input: $i) { secret webhook { id url events active description createdAt updatedAt } }
}";
const UPDATE: &str = "mutation($id: ID!, $i: UpdateWebhookInput!) { updateWebhook(id: $id, input: $i) { id url events active description } }";
const DELIVERIES: &str = "query($id: ID!, $status: WebhookDeliveryStatus) {
  webhook(id: $id) { deliveries(first: 100, status: $status) { totalCount nodes {
    id event cursor status attempts lastStatusCode lastError nextAttemptAt deliveredAt createdAt webhook { id }
  } } }
}";

const WITHIN: Duration = Duration::from_secs(15);

/// A server that may deliver to 127.0.0.1, retrying quickly.
async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| {
        s.webhooks.allow_private = true;
        s.webhooks.retry_base = Duration::from_millis(50);
    })
    .await
}

async fn create_webhook(app: &TestApp, admin: &str, url: &str, events: &[&str]) -> (String, String) {
    let body = app.gql(Some(admin), CREATE, json!({ "i": { "url": url, "events": events } })).await;
    let created = data(&body, "createWebhook");
    (created["webhook"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
}

async fn deliveries(app: &TestApp, admin: &str, webhook: &str) -> Vec<Value> {
    let body = app.gql(Some(admin), DELIVERIES, json!({ "id": webhook })).await;
    let nodes = &body["data"]["webhook"]["deliveries"]["nodes"];
    nodes.as_array().unwrap_or_else(|| panic!("{body}")).clone()
}

/// Polls the deliveries (newest first) until `done` holds.
async fn wait_deliveries(app: &TestApp, admin: &str, webhook: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let list = deliveries(app, admin, webhook).await;
        if done(&list) {
            return list;
        }
        assert!(tokio::time::Instant::now() < deadline, "deliveries never got there: {list:#?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn events_of(received: &[Received]) -> Vec<String> {
    received.iter().map(|r| r.header("x-fieldforge-event").to_owned()).collect()
}

each_backend! {
    #[tokio::test]
    async fn admins_manage_webhooks_with_checked_input(backend) {
        let app = spawn(backend).await;
        let office = Office::open(&app).await;
        let input = json!({ "i": { "url": "https://hooks.example.com/in", "events": ["job.*", "invoice.paid", "job.*"], "description": "CRM" } });
        let body = app.gql(Some(&office.admin), CREATE, input.clone()).await;
        let created = data(&body, "createWebhook");
        let secret = created["secret"].as_str().unwrap();
        assert!(secret.len() >= 32 + 6, "{body}");
        assert_eq!(created["webhook"]["events"], json!(["job.*", "invoice.paid"]), "duplicates dropped, order kept");
        assert_eq!(created["webhook"]["active"], true);
        let id = created["webhook"]["id"].as_str().unwrap();

        // Other roles: FORBIDDEN, for reading and writing alike.
        for token in [&office.dispatcher, &office.tech] {
            expect_code(&app.gql(Some(token), CREATE, input.clone()).await, "FORBIDDEN");
            expect_code(&app.gql(Some(token), "{ webhooks { totalCount } }", json!({})).await, "FORBIDDEN");
            let ping = app.gql(Some(token), "mutation($id: ID!) { pingWebhook(id: $id) { id } }", json!({ "id": id })).await;
            expect_code(&ping, "FORBIDDEN");
        }

        // Validation names the field.
        for (url, events, field) in [
            ("ftp://hooks.example.com/", json!(["*"]), "url"),
            ("not a url", json!(["*"]), "url"),
            ("https://hooks.example.com/", json!([]), "events"),
            ("https://hooks.example.com/", json!(["job.finished"]), "events"),
            ("https://hooks.example.com/", json!(["jobs.*"]), "events"),
        ] {
            let body = app.gql(Some(&office.admin), CREATE, json!({ "i": { "url": url, "events": events } })).await;
            expect_code(&body, "BAD_USER_INPUT");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(2000));
        let body = app.gql(Some(&office.admin), CREATE, json!({ "i": { "url": long, "events": ["*"] } })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "url", "{body}");

        // Listed and read back without the secret; updated; deleted.
        let list = app.gql(Some(&office.admin), "{ webhooks { totalCount nodes { id url } } }", json!({})).await;
        assert_eq!(list["data"]["webhooks"]["totalCount"], 1, "{list}");
        let update = json!({ "id": id, "i": { "active": false, "events": ["*"], "description": "" } });
        let body = app.gql(Some(&office.admin), UPDATE, update).await;
        assert_eq!(data(&body, "updateWebhook")["active"], false);
        assert_eq!(body["data"]["updateWebhook"]["events"], json!(["*"]));
        assert!(body["data"]["updateWebhook"]["description"].is_null(), "{body}");
        let bad = app.gql(Some(&office.admin), UPDATE, json!({ "id": id, "i": { "events": [] } })).await;
        assert_eq!(bad["errors"][0]["extensions"]["field"], "events", "{bad}");
        let rotated = app.gql(Some(&office.admin), "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret webhook { id } } }", json!({ "id": id })).await;
        let new_secret = data(&rotated, "rotateWebhookSecret")["secret"].as_str().unwrap();
        assert_ne!(new_secret, secret);

        let delete = "mutation($id: ID!) { deleteWebhook(id: $id) }";
        let deleted = app.gql(Some(&office.admin), delete, json!({ "id": id })).await;
        assert_eq!(deleted["data"]["deleteWebhook"], true, "{deleted}");
        expect_code(&app.gql(Some(&office.admin), delete, json!({ "id": id })).await, "NOT_FOUND");
        expect_code(&app.gql(Some(&office.admin), UPDATE, json!({ "id": "nope", "i": {} })).await, "NOT_FOUND");
        let gone = app.gql(Some(&office.admin), "query($id: ID!) { webhook(id: $id) { id } }", json!({ "id": id })).await;
        assert!(gone["data"]["webhook"].is_null() && gone["errors"].is_null(), "{gone}");

        // Journalled, never with a secret.
        let journal = app.gql(Some(&office.admin), "{ changes(first: 100, entityTypes: [\"webhook\"]) { nodes { event data } } }", json!({})).await;
        let rows = journal["data"]["changes"]["nodes"].as_array().unwrap().clone();
        let names: Vec<&str> = rows.iter().map(|r| r["event"].as_str().unwrap()).collect();
        assert_eq!(names, ["webhook.created", "webhook.updated", "webhook.updated", "webhook.deleted"], "{journal}");
        let text = journal.to_string();
        assert!(!text.contains(secret) && !text.contains(new_secret), "no secret in the journal");
    }
}

each_backend! {
    #[tokio::test]
    async fn private_targets_are_refused_unless_allowed(backend) {
        let app = TestApp::spawn(backend).await; // the default: private targets refused
        let admin = app.bootstrap_admin().await;
        for url in [
            "http://127.0.0.1:9/hook",
            "http://localhost:9/hook",
            "http://10.0.0.8/",
            "http://172.20.1.1/",
            "http://192.168.0.10/",
            "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fd12:3456::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:10.0.0.1]/",
            "http://2130706433/",
            "http://224.0.0.251/",
        ] {
            let body = app.gql(Some(&admin), CREATE, json!({ "i": { "url": url, "events": ["*"] } })).await;
            expect_code(&body, "BAD_USER_INPUT");
            assert_eq!(body["errors"][0]["extensions"]["field"], "url", "{url}: {body}");
        }
        let ok = app.gql(Some(&admin), CREATE, json!({ "i": { "url": "https://93.184.215.14/hook", "events": ["*"] } })).await;
        assert!(ok["errors"].is_null(), "{ok}");
    }
}

each_backend! {
    #[tokio::test]
    async fn a_delivery_is_a_signed_post_of_the_journal_row(backend) {
        let app = spawn(backend).await;
        let receiver = Receiver::start().await;
        let office = Office::open(&app).await;
        let (webhook, secret) = create_webhook(&app, &office.admin, &receiver.url("/hooks/ff"), &["job.*"]).await;
        let job = create_job(&app, &office.dispatcher, &office.customer_id, "Boiler service", 2).await;
        create_customer(&app, &office.dispatcher, "Not a job event").await;

        let received = receiver.wait_for(1, WITHIN).await;
        let request = &received[0];
        assert!(request.signed_with(&secret), "signature: {:?}", request.headers);
        assert!(!request.signed_with("whsec_wrong"));
        assert_eq!(request.header("content-type"), "application/json");
        assert_eq!(request.header("x-fieldforge-event"), "job.created");
        let timestamp: i64 = request.header("x-fieldforge-timestamp").parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);

        let body = request.json();
        let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 8, "{body}");
        assert_eq!(body["id"], request.delivery_id());
        assert_eq!(body["event"], "job.created");
        assert_eq!(body["entityType"], "job");
        assert_eq!(body["entityId"], job.as_str());
        assert_eq!(body["data"]["title"], "Boiler service");
        assert!(body["actorId"].is_string() && body["createdAt"].is_string(), "{body}");

        // The cursor is the change feed's (and the subscriptions') cursor.
        let feed = app.gql(Some(&office.admin), "{ changes(first: 100, entityTypes: [\"job\"]) { edges { cursor node { event } } } }", json!({})).await;
        assert_eq!(body["cursor"], feed["data"]["changes"]["edges"][0]["cursor"], "{feed}");

        let list = wait_deliveries(&app, &office.admin, &webhook, |d| d.len() == 1 && d[0]["status"] == "SUCCEEDED").await;
        let delivery = &list[0];
        assert_eq!(delivery["id"], body["id"]);
        assert_eq!(delivery["attempts"], 1);
        assert_eq!(delivery["lastStatusCode"], 200);
        assert_eq!(delivery["cursor"], body["cursor"]);
        assert!(delivery["deliveredAt"].is_string() && delivery["nextAttemptAt"].is_null(), "{delivery}");
        assert_eq!(delivery["webhook"]["id"], webhook.as_str());

        // Only the matching event went out, and the webhook's own creation did not.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(events_of(&receiver.received()), ["job.created"]);
        app.wait_for_metric("fieldforge_webhook_deliveries_total{outcome=\"succeeded\"}", |v| v >= 1.0, WITHIN).await;
    }
}

each_backend! {
    #[tokio::test]
    async fn failures_retry_with_backoff_under_the_same_id_then_die(backend) {
        let app = spawn(backend).await;
        let receiver = Receiver::start().await;
        let office = Office::open(&app).await;
        receiver.answer(|r| if r.header("x-fieldforge-event") == "customer.created" { Reply::Status(500) } else { Reply::Status(204) });
        let (webhook, _) = create_webhook(&app, &office.admin, &receiver.url("/in"), &["customer.*"]).await;
        create_customer(&app, &office.dispatcher, "Refused forever").await;

        // 8 attempts of one delivery, then DEAD (backoff 50 ms doubling: ~6 s).
        let list = wait_deliveries(&app, &office.admin, &webhook, |d| d.first().is_some_and(|d| d["status"] == "DEAD")).await;
        let dead = &list[0];
        assert_eq!(dead["attempts"], 8);
        assert_eq!(dead["lastStatusCode"], 500);
        assert_eq!(dead["lastError"], "HTTP 500");
        assert!(dead["nextAttemptAt"].is_null(), "{dead}");
        let received = receiver.received();
        assert_eq!(received.len(), 8);
        assert!(received.iter().all(|r| r.delivery_id() == dead["id"].as_str().unwrap()), "one delivery id throughout");
        // The waits doubled: from 50 ms after the first attempt to about 3.2 s before the last.
        let gaps: Vec<Duration> = received.windows(2).map(|w| w[1].at - w[0].at).collect();
        assert!(gaps[6] > gaps[0] * 8 && gaps[6] >= Duration::from_millis(2800), "gaps {gaps:?}");
        app.wait_for_metric("fieldforge_webhook_deliveries_total{outcome=\"dead\"}", |v| v == 1.0, WITHIN).await;
        app.wait_for_metric("fieldforge_webhook_deliveries_total{outcome=\"failed\"}", |v| v == 7.0, WITHIN).await;

        // Redelivered: the same id again, attempts go on counting.
        receiver.answer(|_| Reply::Status(204));
        let redeliver = "mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { id status attempts } }";
        let body = app.gql(Some(&office.admin), redeliver, json!({ "id": dead["id"] })).await;
        assert_eq!(data(&body, "redeliverWebhookDelivery")["status"], "PENDING");
        let list = wait_deliveries(&app, &office.admin, &webhook, |d| d[0]["status"] == "SUCCEEDED").await;
        assert_eq!(list[0]["attempts"], 9);
        assert_eq!(list[0]["id"], dead["id"]);
        assert_eq!(receiver.received().len(), 9);
    }
}

each_backend! {
    #[tokio::test]
    async fn one_failing_entity_holds_back_only_its_own_later_deliveries(backend) {
        let app = spawn(backend).await;
        let receiver = Receiver::start().await;
        let office = Office::open(&app).await;
        let blocked = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let refuse = blocked.clone();
        receiver.answer(move |r| {
            let refused = refuse.lock().unwrap().clone();
            if r.json()["entityId"] == refused.as_str() { Reply::Status(503) } else { Reply::Status(200) }
        });
        let (webhook, _) = create_webhook(&app, &office.admin, &receiver.url("/in"), &["job.*"]).await;
        let stuck = create_job(&app, &office.dispatcher, &office.customer_id, "Stuck", 1).await;
        *blocked.lock().unwrap() = stuck.clone();
        let flowing = create_job(&app, &office.dispatcher, &office.customer_id, "Flowing", 1).await;
        assign_ok(&app, &office.dispatcher, &stuck, &office.tech_id, &at(1, 9), &at(1, 10)).await;
        assign_ok(&app, &office.dispatcher, &flowing, &office.tech_id, &at(1, 11), &at(1, 12)).await;
        job_move(&app, &office.dispatcher, "startJob", &flowing).await;

        // The other job's three events go through in order...
        let of = |received: &[Received], job: &str| -> Vec<String> {
            received.iter().filter(|r| r.json()["entityId"] == job).map(|r| r.header("x-fieldforge-event").to_owned()).collect()
        };
        let received = receiver.wait_until(WITHIN, |r| of(r, &flowing).len() >= 3).await;
        assert_eq!(of(&received, &flowing), ["job.created", "job.assigned", "job.started"]);
        // ...while the stuck job's first event is retried and its second waits.
        let received = receiver.wait_until(WITHIN, |r| of(r, &stuck).len() >= 3).await;
        assert!(of(&received, &stuck).iter().all(|e| e == "job.created"), "{:?}", of(&received, &stuck));

        *blocked.lock().unwrap() = String::new();
        let received = receiver.wait_until(WITHIN, |r| of(r, &stuck).contains(&"job.assigned".to_owned())).await;
        let stuck_events = of(&received, &stuck);
        let first_assigned = stuck_events.iter().position(|e| e == "job.assigned").unwrap();
        assert!(stuck_events[..first_assigned].iter().all(|e| e == "job.created"), "in cursor order: {stuck_events:?}");
        let list = wait_deliveries(&app, &office.admin, &webhook, |d| d.len() == 5 && d.iter().all(|d| d["status"] == "SUCCEEDED")).await;
        assert_eq!(list.len(), 5);
    }
}

each_backend! {
    #[tokio::test]
    async fn pause_resume_rotate_ping_redeliver_and_delete(backend) {
        let app = spawn(backend).await;
        let receiver = Receiver::start().await;
        let office = Office::open(&app).await;
        let (webhook, secret) = create_webhook(&app, &office.admin, &receiver.url("/in"), &["customer.created"]).await;

        // Paused: deliveries wait as PENDING, and go when resumed.
        let body = app.gql(Some(&office.admin), UPDATE, json!({ "id": webhook, "i": { "active": false } })).await;
        assert_eq!(data(&body, "updateWebhook")["active"], false);
        create_customer(&app, &office.dispatcher, "While paused").await;
        let list = wait_deliveries(&app, &office.admin, &webhook, |d| d.len() == 1).await;
        assert_eq!(list[0]["status"], "PENDING");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(receiver.received().is_empty(), "nothing goes out while paused");
        app.gql(Some(&office.admin), UPDATE, json!({ "id": webhook, "i": { "active": true } })).await;
        let received = receiver.wait_for(1, WITHIN).await;
        assert!(received[0].signed_with(&secret));

        // Rotated: later attempts are signed with the new secret only.
        let rotated = app.gql(Some(&office.admin), "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }", json!({ "id": webhook })).await;
        let new_secret = data(&rotated, "rotateWebhookSecret")["secret"].as_str().unwrap().to_owned();
        create_customer(&app, &office.dispatcher, "After rotation").await;
        let received = receiver.wait_for(2, WITHIN).await;
        assert!(received[1].signed_with(&new_secret) && !received[1].signed_with(&secret));

        // Ping: a webhook.ping delivery, now.
        let ping = app.gql(Some(&office.admin), "mutation($id: ID!) { pingWebhook(id: $id) { id event cursor status webhook { id } } }", json!({ "id": webhook })).await;
        let ping = data(&ping, "pingWebhook").clone();
        assert_eq!(ping["event"], "webhook.ping");
        assert!(ping["cursor"].is_null());
        let received = receiver.wait_for(3, WITHIN).await;
        let body = received[2].json();
        assert_eq!(received[2].header("x-fieldforge-event"), "webhook.ping");
        assert_eq!(body["id"], ping["id"]);
        assert!(body["cursor"].is_null());
        assert_eq!(body["entityType"], "webhook");
        assert_eq!(body["entityId"], webhook.as_str());

        // Redelivered: the same delivery id again.
        let first = received[0].delivery_id();
        wait_deliveries(&app, &office.admin, &webhook, |d| d.iter().all(|d| d["status"] == "SUCCEEDED")).await;
        let redeliver = "mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { id status } }";
        app.gql(Some(&office.admin), redeliver, json!({ "id": first })).await;
        let received = receiver.wait_for(4, WITHIN).await;
        assert_eq!(received[3].delivery_id(), first);
        expect_code(&app.gql(Some(&office.admin), redeliver, json!({ "id": uuid::Uuid::new_v4().to_string() })).await, "NOT_FOUND");

        // Deleted: its deliveries go with it, and nothing more is sent.
        let ready = wait_deliveries(&app, &office.admin, &webhook, |d| d.iter().all(|d| d["status"] == "SUCCEEDED")).await;
        assert_eq!(ready.len(), 3);
        app.gql(Some(&office.admin), "mutation($id: ID!) { deleteWebhook(id: $id) }", json!({ "id": webhook })).await;
        create_customer(&app, &office.dispatcher, "After deletion").await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(receiver.received().len(), 4);
        expect_code(&app.gql(Some(&office.admin), redeliver, json!({ "id": first })).await, "NOT_FOUND");
    }
}

each_backend! {
    #[tokio::test]
    async fn a_target_that_resolves_inside_fails_at_delivery_time(backend) {
        // Created while private targets were allowed, delivered by a server
        // that refuses them: the name is checked after resolution.
        let app = spawn(backend).await;
        let office = Office::open(&app).await;
        let receiver = Receiver::start().await;
        let by_name = format!("http://localhost:{}/in", receiver.addr.port());
        let (named, _) = create_webhook(&app, &office.admin, &by_name, &["customer.created"]).await;
        let (literal, _) = create_webhook(&app, &office.admin, &receiver.url("/in"), &["customer.created"]).await;
        let db = app.db.clone();
        app.stop().await;
        let app = TestApp::spawn_on(db, |s| s.webhooks.retry_base = Duration::from_secs(60)).await;
        create_customer(&app, &office.dispatcher, "Must not reach 127.0.0.1").await;
        for webhook in [&named, &literal] {
            let list = wait_deliveries(&app, &office.admin, webhook, |d| d.first().is_some_and(|d| d["status"] == "FAILED")).await;
            assert!(list[0]["lastError"].as_str().unwrap().starts_with("refused"), "{:?}", list[0]);
            assert!(list[0]["lastStatusCode"].is_null());
        }
        assert!(receiver.received().is_empty());
    }
}

each_backend! {
    #[tokio::test]
    async fn deliveries_in_a_list_of_webhooks_cost_the_same_statements_for_2_and_5(backend) {
        let app = spawn(backend).await;
        let office = Office::open(&app).await;
        let receiver = Receiver::start().await;
        let query = "{ webhooks(first: 10) { nodes { id deliveries(first: 3) { totalCount nodes { id status } } } } }";
        let mut cost = Vec::new();
        for count in [2, 5] {
            while webhook_count(&app, &office.admin).await < count {
                create_webhook(&app, &office.admin, &receiver.url("/in"), &["customer.created"]).await;
            }
            create_customer(&app, &office.dispatcher, "One more event").await;
            // Once every webhook has its delivery, count one request's statements.
            let deadline = tokio::time::Instant::now() + WITHIN;
            loop {
                let body = app.gql(Some(&office.admin), query, json!({})).await;
                let nodes = body["data"]["webhooks"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}")).clone();
                assert_eq!(nodes.len(), count);
                if nodes.iter().all(|n| n["deliveries"]["totalCount"].as_u64().unwrap() >= 1) {
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "{body}");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            let before = app.statements.get();
            app.gql(Some(&office.admin), query, json!({})).await;
            cost.push(app.statements.get() - before);
        }
        assert_eq!(cost[0], cost[1], "statements for 2 and for 5 webhooks");
    }
}

async fn webhook_count(app: &TestApp, admin: &str) -> usize {
    let body = app.gql(Some(admin), "{ webhooks { totalCount } }", json!({})).await;
    body["data"]["webhooks"]["totalCount"].as_u64().unwrap() as usize
}

each_backend! {
    #[tokio::test]
    async fn a_slow_receiver_does_not_hold_up_other_webhooks(backend) {
        let app = spawn(backend).await;
        let office = Office::open(&app).await;
        let slow = Receiver::start().await;
        slow.answer(|_| Reply::Slow(Duration::from_secs(2), 200));
        let fast = Receiver::start().await;
        create_webhook(&app, &office.admin, &slow.url("/slow"), &["customer.created"]).await;
        create_webhook(&app, &office.admin, &fast.url("/fast"), &["customer.created"]).await;
        for n in 0..30 {
            create_customer(&app, &office.dispatcher, &format!("Customer {n}")).await;
        }
        // The fast receiver gets all 30 while the slow one has had only a
        // few (one webhook takes at most a quarter of the attempt slots).
        fast.wait_for(30, WITHIN).await;
        assert!(slow.received().len() <= 12, "the slow webhook had {} attempts", slow.received().len());
    }
}

#[tokio::test]
async fn a_receiver_that_times_out_is_retried_with_the_same_id() {
    let app = spawn(Backend::Sqlite).await;
    let receiver = Receiver::start().await;
    let office = Office::open(&app).await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = calls.clone();
    receiver.answer(move |_| match count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
        0 => Reply::Status(500),
        1 => Reply::Slow(Duration::from_secs(12), 200),
        _ => Reply::Status(200),
    });
    let (webhook, _) = create_webhook(&app, &office.admin, &receiver.url("/in"), &["customer.created"]).await;
    create_customer(&app, &office.dispatcher, "Slow to answer").await;
    let received = receiver.wait_for(3, Duration::from_secs(30)).await;
    assert!(received.iter().all(|r| r.delivery_id() == received[0].delivery_id()));
    let list = wait_deliveries(&app, &office.admin, &webhook, |d| d[0]["status"] == "SUCCEEDED").await;
    assert_eq!(list[0]["attempts"], 3);
}

/// A `fieldforge serve` process that may deliver to 127.0.0.1.
async fn start_process(database_url: &str) -> ServerProcess {
    ServerProcess::start_with(database_url, |command| {
        command
            .env("RUST_LOG", "warn")
            .env("FIELDFORGE_WEBHOOK_ALLOW_PRIVATE", "1")
            .env("FIELDFORGE_WEBHOOK_RETRY_BASE", "100ms");
    })
    .await
}

/// An admin token and a customer, through `server`.
async fn open_office(server: &ServerProcess) -> (String, String) {
    let register = "mutation($i: RegisterInput!) { register(input: $i) { token } }";
    let input = json!({ "i": { "email": "admin@example.com", "password": PASSWORD, "name": "Ada", "role": "ADMIN" } });
    let body = server.gql(None, register, input).await;
    let admin = body["data"]["register"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    let customer = "mutation { createCustomer(input: { name: \"Carla\" }) { id } }";
    let body = server.gql(Some(&admin), customer, json!({})).await;
    (admin, body["data"]["createCustomer"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned())
}

async fn create_jobs(server: &ServerProcess, admin: &str, customer: &str, count: usize) -> Vec<String> {
    let mut jobs = Vec::new();
    for n in 0..count {
        let body = server
            .gql(
                Some(admin),
                "mutation($i: CreateJobInput!) { createJob(input: $i) { id } }",
                json!({ "i": { "customerId": customer, "title": format!("Job {n}"), "requiredSkillLevel": 1 } }),
            )
            .await;
        jobs.push(body["data"]["createJob"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned());
    }
    jobs
}

fn entities(received: &[Received]) -> std::collections::BTreeSet<String> {
    received.iter().map(|r| r.json()["entityId"].as_str().unwrap().to_owned()).collect()
}

each_backend! {
    #[tokio::test]
    async fn a_crash_mid_stream_loses_no_delivery(backend) {
        let database = TestDatabase::create(backend).await;
        let receiver = Receiver::start().await;
        receiver.answer(|_| Reply::Slow(Duration::from_millis(150), 200));
        let mut first = start_process(&database.url).await;
        let (admin, customer) = open_office(&first).await;
        let body = first.gql(Some(&admin), CREATE, json!({ "i": { "url": receiver.url("/in"), "events": ["job.created"] } })).await;
        let webhook = data(&body, "createWebhook")["webhook"]["id"].as_str().unwrap().to_owned();
        let jobs = create_jobs(&first, &admin, &customer, 40).await;

        // kill -9 while deliveries are going out (some of them in flight).
        receiver.wait_for(5, WITHIN).await;
        first.kill();
        let before = entities(&receiver.received()).len();
        assert!(before < jobs.len(), "the crash came mid-stream ({before} delivered)");

        // A new process picks up everything, also what the dead one had leased.
        let second = start_process(&database.url).await;
        let received = receiver.wait_until(Duration::from_secs(60), |r| entities(r).len() == jobs.len()).await;
        assert_eq!(entities(&received), jobs.iter().cloned().collect());
        // A delivery that was in flight at the crash may have reached the
        // receiver unrecorded: it is made again once its lease (15 s) ends.
        let query = "query($id: ID!) { webhook(id: $id) { deliveries(first: 100, status: SUCCEEDED) { totalCount } } }";
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let body = second.gql(Some(&admin), query, json!({ "id": webhook })).await;
            if body["data"]["webhook"]["deliveries"]["totalCount"] == 40 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn two_processes_deliver_each_event_once() {
    if !crate::common::postgres_configured() {
        return;
    }
    let database = TestDatabase::create(Backend::Postgres).await;
    let receiver = Receiver::start().await;
    receiver.answer(|_| Reply::Slow(Duration::from_millis(10), 200));
    let one = start_process(&database.url).await;
    let two = start_process(&database.url).await;
    let (admin, customer) = open_office(&one).await;
    let body =
        two.gql(Some(&admin), CREATE, json!({ "i": { "url": receiver.url("/in"), "events": ["job.created"] } })).await;
    data(&body, "createWebhook");
    let (a, b) = tokio::join!(create_jobs(&one, &admin, &customer, 50), create_jobs(&two, &admin, &customer, 50));
    let jobs: std::collections::BTreeSet<String> = a.into_iter().chain(b).collect();

    let received = receiver.wait_until(Duration::from_secs(60), |r| entities(r).len() == 100).await;
    assert_eq!(entities(&received), jobs);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = receiver.received();
    let ids: std::collections::BTreeSet<String> = received.iter().map(Received::delivery_id).collect();
    assert_eq!(ids.len(), 100, "one delivery per event");
    assert_eq!(received.len(), 100, "each delivery attempted once, by one process");
    assert!(receiver.overlaps().is_empty(), "never by both at once");
    let succeeded = |addr| async move {
        let text = reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap();
        crate::common::metric_in(&text, "fieldforge_webhook_deliveries_total{outcome=\"succeeded\"}")
    };
    assert_eq!(succeeded(one.addr).await + succeeded(two.addr).await, 100.0);
}
