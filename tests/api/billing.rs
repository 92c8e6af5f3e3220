//! Billing and audit: invoice on completion (all or nothing), payments with
//! every rule, the concurrent payment race, financial views, the audit trail,
//! and technicians shut out of billing.

use crate::common::fixtures::*;
use crate::common::{TestApp, error_code};
use fieldforge::entities::{enums::InvoiceStatus, invoice, journal_entry as log};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const COMPLETE: &str = "mutation($id: ID!, $i: CompleteJobInput) { completeJob(jobId: $id, input: $i) { id status completedAt invoice { id number status total amountPaid balanceDue lines { description quantity unitPrice amount } } } }";
const PAY: &str = "mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { id amount method reference invoice { status amountPaid balanceDue paidAt } recordedBy { email } } }";

/// A job assigned to Tess (rate 40.00) and started; returns its id.
pub(crate) async fn started_job(app: &TestApp, office: &Office, title: &str, day: i64) -> String {
    let job = create_job(app, &office.dispatcher, &office.customer_id, title, 1).await;
    assign_ok(app, &office.dispatcher, &job, &office.tech_id, &at(day, 9), &at(day, 11)).await;
    let body = job_move(app, &office.tech, "startJob", &job).await;
    assert_eq!(body["data"]["startJob"]["status"], "IN_PROGRESS", "{body}");
    job
}

pub(crate) async fn invoice_of(app: &TestApp, office: &Office, job: &str, materials: Value) -> Value {
    let body = app
        .gql(
            Some(&office.tech),
            COMPLETE,
            json!({ "id": job, "i": { "laborHours": "2.5", "materials": materials, "notes": "Replaced valve" } }),
        )
        .await;
    let invoice = body["data"]["completeJob"]["invoice"].clone();
    assert!(invoice.is_null(), "technicians never see invoices: {body}");
    assert_eq!(body["data"]["completeJob"]["status"], "INVOICED", "{body}");
    let query = "query($id: ID!) { job(id: $id) { invoice { id number status total amountPaid balanceDue lines { description quantity unitPrice amount } } } }";
    app.gql(Some(&office.dispatcher), query, json!({ "id": job })).await["data"]["job"]["invoice"].clone()
}

pub(crate) async fn pay(app: &TestApp, token: &str, invoice: &str, amount: &str, key: Option<&str>) -> Value {
    app.gql(Some(token), PAY, json!({ "i": { "invoiceId": invoice, "amount": amount, "method": "CARD", "reference": "ref-1", "idempotencyKey": key } }))
        .await
}

each_backend! {
    #[tokio::test]
    async fn a_job_from_creation_to_paid_with_exact_figures(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Valve swap", 1).await;
        let invoice = invoice_of(&app, &office, &job, json!([{ "description": "Valve", "quantity": "1.5", "unitPrice": "19.99" }, { "description": "Washer", "quantity": "4", "unitPrice": "0.25" }])).await;
        assert_eq!(invoice["number"], "INV-000001", "{backend:?}: {invoice}");
        assert_eq!(invoice["status"], "ISSUED");
        assert_eq!(invoice["lines"][0]["quantity"], "2.50");
        assert_eq!(invoice["lines"][0]["unitPrice"], "40.00");
        assert_eq!(invoice["lines"][0]["amount"], "100.00");
        assert_eq!(
            invoice["lines"][1],
            json!({ "description": "Valve", "quantity": "1.50", "unitPrice": "19.99", "amount": "29.99" })
        );
        assert_eq!(invoice["lines"][2]["amount"], "1.00");
        assert_eq!(invoice["total"], "130.99");
        assert_eq!(invoice["balanceDue"], "130.99");
        let id = invoice["id"].as_str().unwrap();

        let body = pay(&app, &office.dispatcher, id, "30.99", None).await;
        assert_eq!(body["data"]["recordPayment"]["invoice"]["status"], "PARTIALLY_PAID", "{body}");
        assert_eq!(body["data"]["recordPayment"]["invoice"]["balanceDue"], "100.00");
        assert!(body["data"]["recordPayment"]["invoice"]["paidAt"].is_null());
        assert_eq!(body["data"]["recordPayment"]["recordedBy"]["email"], "dispatch@example.com");
        let body = pay(&app, &office.admin, id, "100", None).await;
        let paid = &body["data"]["recordPayment"]["invoice"];
        assert_eq!(paid["status"], "PAID", "{body}");
        assert_eq!(paid["amountPaid"], "130.99");
        assert_eq!(paid["balanceDue"], "0.00");
        assert!(paid["paidAt"].is_string());
        expect_code(&pay(&app, &office.admin, id, "0.01", None).await, "BAD_USER_INPUT");

        let financials = "query($id: ID!) { jobFinancials(jobId: $id) { laborHours laborCost materialsCost invoiceTotal amountPaid balanceDue job { id } } job(id: $id) { financials { invoiceTotal } invoice { payments { amount } } } }";
        let body = app.gql(Some(&office.dispatcher), financials, json!({ "id": job })).await;
        assert_eq!(
            body["data"]["jobFinancials"],
            json!({ "laborHours": "2.50", "laborCost": "100.00", "materialsCost": "30.99", "invoiceTotal": "130.99", "amountPaid": "130.99", "balanceDue": "0.00", "job": { "id": job } }),
            "{backend:?}"
        );
        assert_eq!(body["data"]["job"]["financials"]["invoiceTotal"], "130.99");
        assert_eq!(body["data"]["job"]["invoice"]["payments"], json!([{ "amount": "30.99" }, { "amount": "100.00" }]));

        // Finished work keeps its technician but frees the window for new work.
        let who = app
            .gql(
                Some(&office.dispatcher),
                "query($id: ID!) { job(id: $id) { technician { id } assignment { startsAt } } }",
                json!({ "id": job }),
            )
            .await;
        assert_eq!(who["data"]["job"]["technician"]["id"], office.tech_id.as_str(), "{backend:?}: {who}");
        let next = create_job(&app, &office.dispatcher, &office.customer_id, "Same slot", 1).await;
        assign_ok(&app, &office.dispatcher, &next, &office.tech_id, &at(1, 9), &at(1, 11)).await;

        // A job without an invoice has zero figures and no total.
        let pending = create_job(&app, &office.dispatcher, &office.customer_id, "Quote", 1).await;
        let body = app.gql(Some(&office.dispatcher), financials, json!({ "id": pending })).await;
        assert_eq!(body["data"]["jobFinancials"]["invoiceTotal"], Value::Null);
        assert_eq!(body["data"]["jobFinancials"]["balanceDue"], "0.00");

        // Invoices list, filtered and newest first; numbers stay unique and gap-free.
        let second_job = started_job(&app, &office, "Second", 2).await;
        let second = invoice_of(&app, &office, &second_job, json!([])).await;
        assert_eq!(second["number"], "INV-000002");
        let list = "query($s: InvoiceStatus) { invoices(status: $s) { totalCount nodes { number } } }";
        let body = app.gql(Some(&office.dispatcher), list, json!({})).await;
        assert_eq!(body["data"]["invoices"]["nodes"], json!([{ "number": "INV-000002" }, { "number": "INV-000001" }]));
        let body = app.gql(Some(&office.dispatcher), list, json!({ "s": "PAID" })).await;
        assert_eq!(body["data"]["invoices"]["totalCount"], 1);
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn default_labour_is_worked_time_rounded_up(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Quick fix", 1).await;
        let body = app.gql(Some(&office.dispatcher), COMPLETE, json!({ "id": job })).await;
        let invoice = &body["data"]["completeJob"]["invoice"];
        assert_eq!(invoice["lines"][0]["quantity"], "0.25", "{backend:?}: at least a quarter hour: {body}");
        assert_eq!(invoice["total"], "10.00");
        assert!(body["data"]["completeJob"]["completedAt"].is_string());
        let again = app.gql(Some(&office.dispatcher), COMPLETE, json!({ "id": job })).await;
        expect_code(&again, "INVALID_TRANSITION");
        assert_eq!(again["errors"][0]["extensions"]["from"], "INVOICED");
        for (day, bad) in (3..).zip([
            json!({ "laborHours": "-1" }),
            json!({ "laborHours": "1.001" }),
            json!({ "materials": [{ "description": "x", "quantity": "0", "unitPrice": "1" }] }),
            json!({ "materials": [{ "description": "x", "quantity": "1", "unitPrice": "-1" }] }),
        ]) {
            let job = started_job(&app, &office, "Bad input", day).await;
            let body = app.gql(Some(&office.dispatcher), COMPLETE, json!({ "id": job, "i": bad })).await;
            expect_code(&body, "BAD_USER_INPUT");
            let state = app
                .gql(Some(&office.dispatcher), "query($id: ID!) { job(id: $id) { status } }", json!({ "id": job }))
                .await;
            assert_eq!(state["data"]["job"]["status"], "IN_PROGRESS");
        }
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn a_failed_invoicing_step_stores_nothing_of_the_completion(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Doomed", 1).await;
        // Take the next invoice number behind the domain's back: issuing it
        // now violates UNIQUE(number), after the job row was already updated.
        let squatter = create_job(&app, &office.dispatcher, &office.customer_id, "Squatter", 1).await;
        let db = app.db.connect().await;
        invoice::ActiveModel {
            id: Set(uuid::Uuid::new_v4()),
            number: Set("INV-000001".into()),
            job_id: Set(squatter.parse().unwrap()),
            customer_id: Set(office.customer_id.parse().unwrap()),
            status: Set(InvoiceStatus::Issued),
            total_cents: Set(0),
            amount_paid_cents: Set(0),
            issued_at: Set(chrono::Utc::now()),
            paid_at: Set(None),
        }
        .insert(&db)
        .await
        .unwrap();

        let body = app.gql(Some(&office.dispatcher), COMPLETE, json!({ "id": job })).await;
        expect_code(&body, "INTERNAL_SERVER_ERROR");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(!message.contains("INV-") && !message.to_lowercase().contains("unique"), "{message}");

        let state = app
            .gql(
                Some(&office.dispatcher),
                "query($id: ID!) { job(id: $id) { status completedAt invoice { id } } }",
                json!({ "id": job }),
            )
            .await;
        assert_eq!(
            state["data"]["job"],
            json!({ "status": "IN_PROGRESS", "completedAt": null, "invoice": null }),
            "{backend:?}"
        );
        let completed = log::Entity::find()
            .filter(log::Column::Event.is_in(["job.completed", "job.invoiced", "invoice.created"]))
            .count(&db)
            .await
            .unwrap();
        assert_eq!(completed, 0, "{backend:?}: no journal rows either");
        assert_eq!(invoice::Entity::find().count(&db).await.unwrap(), 1);
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn payment_rules_and_idempotency(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Pay me", 1).await;
        let invoice = invoice_of(&app, &office, &job, json!([])).await; // total 100.00
        let id = invoice["id"].as_str().unwrap();
        for amount in ["0", "-5", "0.001", "100.01", "1000000000.01", "abc"] {
            let body = pay(&app, &office.dispatcher, id, amount, None).await;
            expect_code(&body, "BAD_USER_INPUT");
            if amount != "abc" {
                assert_eq!(body["errors"][0]["extensions"]["field"], "amount", "{amount}");
            }
        }
        expect_code(&pay(&app, &office.dispatcher, &uuid::Uuid::new_v4().to_string(), "1", None).await, "NOT_FOUND");

        let first = pay(&app, &office.dispatcher, id, "10.50", Some("key-1")).await;
        let retry = pay(&app, &office.dispatcher, id, "10.5", Some("key-1")).await;
        assert_eq!(first["data"]["recordPayment"]["id"], retry["data"]["recordPayment"]["id"], "{backend:?}: {retry}");
        let other_data = pay(&app, &office.dispatcher, id, "11", Some("key-1")).await;
        expect_code(&other_data, "CONFLICT");
        let body = app
            .gql(
                Some(&office.dispatcher),
                "query($id: ID!) { invoice(id: $id) { amountPaid payments { id } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(body["data"]["invoice"]["amountPaid"], "10.50", "{backend:?}: the retry recorded nothing");
        assert_eq!(body["data"]["invoice"]["payments"].as_array().unwrap().len(), 1);

        let db = app.db.connect().await;
        let recorded = log::Entity::find().filter(log::Column::Event.eq("payment.recorded")).count(&db).await.unwrap();
        assert_eq!(recorded, 1, "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn twenty_concurrent_payments_of_a_tenth_leave_the_books_right(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Race", 1).await;
        let invoice =
            invoice_of(&app, &office, &job, json!([{ "description": "Part", "quantity": "1", "unitPrice": "23.50" }]))
                .await;
        assert_eq!(invoice["total"], "123.50");
        let id2 = invoice["id"].as_str().unwrap().to_owned();

        let calls = (0..20).map(|_| pay(&app, &office.dispatcher, &id2, "12.35", None));
        let results = futures_util::future::join_all(calls).await;
        let ok = results.iter().filter(|b| b["data"]["recordPayment"]["id"].is_string()).count();
        let refused = results.iter().filter(|b| b["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT").count();
        assert_eq!((ok, refused), (10, 10), "{backend:?}: {results:?}");
        let body = app
            .gql(
                Some(&office.dispatcher),
                "query($id: ID!) { invoice(id: $id) { status total amountPaid balanceDue } }",
                json!({ "id": id2 }),
            )
            .await;
        assert_eq!(
            body["data"]["invoice"],
            json!({ "status": "PAID", "total": "123.50", "amountPaid": "123.50", "balanceDue": "0.00" }),
            "{backend:?}"
        );
        let db = app.db.connect().await;
        let paid = log::Entity::find().filter(log::Column::Event.eq("invoice.paid")).count(&db).await.unwrap();
        assert_eq!(paid, 1, "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn the_audit_trail_of_one_job(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Audited", 1).await;
        let invoice = invoice_of(&app, &office, &job, json!([])).await;
        let invoice_id = invoice["id"].as_str().unwrap();
        pay(&app, &office.dispatcher, invoice_id, "100", None).await;

        let trail = "query($t: String, $id: ID, $after: String) { auditLog(entityType: $t, entityId: $id, first: 3, after: $after) { totalCount edges { cursor node { event entityType entityId actor { email } data createdAt } } pageInfo { hasNextPage endCursor } } }";
        let mut events = Vec::new();
        let mut after = Value::Null;
        loop {
            let body = app.gql(Some(&office.admin), trail, json!({ "t": "job", "id": job, "after": after })).await;
            let log = &body["data"]["auditLog"];
            assert_eq!(log["totalCount"], 5, "{backend:?}: {body}");
            for edge in log["edges"].as_array().unwrap() {
                events.push(edge["node"]["event"].as_str().unwrap().to_owned());
                assert_eq!(edge["node"]["entityId"], job.as_str());
                assert!(edge["node"]["actor"]["email"].is_string());
            }
            if log["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = log["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(
            events,
            ["job.invoiced", "job.completed", "job.started", "job.assigned", "job.created"],
            "{backend:?}: newest first"
        );

        let body = app.gql(Some(&office.admin), trail, json!({ "t": "invoice", "id": invoice_id })).await;
        let events: Vec<&str> = body["data"]["auditLog"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["event"].as_str().unwrap())
            .collect();
        assert_eq!(events, ["invoice.paid", "payment.recorded", "invoice.created"], "{backend:?}");
        let data = &body["data"]["auditLog"]["edges"][1]["node"]["data"];
        assert_eq!(data["amount"], "100.00");
        assert_eq!(data["method"], "CARD");

        for token in [&office.dispatcher, &office.tech] {
            expect_code(&app.gql(Some(token), trail, json!({})).await, "FORBIDDEN");
        }
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn technicians_never_see_billing(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Private", 1).await;
        let invoice = invoice_of(&app, &office, &job, json!([])).await;
        let id = invoice["id"].as_str().unwrap();

        let nested = "query($id: ID!) { job(id: $id) { id status invoice { id } financials { balanceDue } } }";
        let body = app.gql(Some(&office.tech), nested, json!({ "id": job })).await;
        assert_eq!(
            body["data"]["job"],
            json!({ "id": job, "status": "INVOICED", "invoice": null, "financials": null }),
            "{backend:?}: {body}"
        );
        assert!(body["errors"].is_null());
        for (query, vars) in [
            ("{ invoices { totalCount } }", json!({})),
            ("query($id: ID!) { invoice(id: $id) { id } }", json!({ "id": id })),
            ("query($id: ID!) { jobFinancials(jobId: $id) { balanceDue } }", json!({ "id": job })),
        ] {
            expect_code(&app.gql(Some(&office.tech), query, vars).await, "FORBIDDEN");
        }
        expect_code(&pay(&app, &office.tech, id, "1", None).await, "FORBIDDEN");
        // Another technician cannot complete Tess's job.
        let other = started_job(&app, &office, "Tess's", 2).await;
        expect_code(&app.gql(Some(&office.other_tech), COMPLETE, json!({ "id": other })).await, "NOT_FOUND");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn one_job_with_its_invoice_lines_and_payments_is_two_statements(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Detail", 1).await;
        let materials = json!([{ "description": "Valve", "quantity": "1", "unitPrice": "19.99" }, { "description": "Tape", "quantity": "2", "unitPrice": "1.50" }]);
        let invoice = invoice_of(&app, &office, &job, materials).await;
        let invoice_id = invoice["id"].as_str().unwrap();
        for amount in ["10", "2.50"] {
            let paid = pay(&app, &office.dispatcher, invoice_id, amount, None).await;
            assert!(paid["errors"].is_null(), "{paid}");
        }
        let waiting = create_job(&app, &office.dispatcher, &office.customer_id, "Not invoiced", 1).await;

        let items = "lines { description quantity unitPrice amount } payments { id amount method reference receivedAt }";
        let query = format!("query($id: ID!) {{ job(id: $id) {{ id customer {{ name }} technician {{ name }} invoice {{ number total amountPaid {items} }} }} }}");
        let before = app.statements.get();
        let body = app.gql(Some(&office.dispatcher), &query, json!({ "id": job })).await;
        let statements = app.statements.get() - before;
        let shown = &body["data"]["job"];
        assert_eq!(shown["customer"]["name"], "Carla Customer", "{backend:?}: {body}");
        assert_eq!(shown["technician"]["name"], "Tess");
        assert_eq!(shown["invoice"]["number"], invoice["number"]);
        assert_eq!(shown["invoice"]["amountPaid"], "12.50");
        let lines: Vec<_> = shown["invoice"]["lines"].as_array().unwrap().iter().map(|l| l["description"].clone()).collect();
        assert_eq!(lines.len(), 3, "labour, the valve and the tape: {body}");
        assert_eq!(lines[1..], [json!("Valve"), json!("Tape")], "in invoice order: {body}");
        let payments: Vec<_> = shown["invoice"]["payments"].as_array().unwrap().iter().map(|p| p["amount"].clone()).collect();
        assert_eq!(payments, [json!("10.00"), json!("2.50")], "oldest first: {body}");
        assert_eq!(statements, 2, "{backend:?}: the account, then the job with its parties, invoice, lines and payments");

        // The same lines and payments as the invoice read alone (through the loaders).
        let alone = app
            .gql(Some(&office.dispatcher), &format!("query($id: ID!) {{ invoice(id: $id) {{ {items} }} }}"), json!({ "id": invoice_id }))
            .await;
        assert_eq!(alone["data"]["invoice"]["lines"], shown["invoice"]["lines"], "{backend:?}: {alone}");
        assert_eq!(alone["data"]["invoice"]["payments"], shown["invoice"]["payments"], "{backend:?}: {alone}");

        // Lines or payments alone: the same one statement; neither: the plain detail.
        for (fields, expected) in [("lines { amount }", 2), ("payments { amount }", 2), ("number", 2)] {
            let before = app.statements.get();
            let body = app
                .gql(Some(&office.dispatcher), &format!("query($id: ID!) {{ job(id: $id) {{ invoice {{ {fields} }} }} }}"), json!({ "id": job }))
                .await;
            assert!(body["errors"].is_null() && body["data"]["job"]["invoice"].is_object(), "{body}");
            assert_eq!(app.statements.get() - before, expected, "{backend:?}: {fields}");
        }

        // An invoice with no payment yet: its lines, and no payments.
        let unpaid_job = started_job(&app, &office, "Unpaid", 2).await;
        let unpaid = invoice_of(&app, &office, &unpaid_job, json!([{ "description": "Fuse", "quantity": "3", "unitPrice": "0.40" }])).await;
        let body = app.gql(Some(&office.dispatcher), &query, json!({ "id": unpaid_job })).await;
        let shown = &body["data"]["job"]["invoice"];
        assert_eq!(shown["number"], unpaid["number"], "{backend:?}: {body}");
        assert_eq!(shown["lines"].as_array().map(Vec::len), Some(2), "labour and the fuse: {body}");
        assert_eq!(shown["lines"][1]["amount"], "1.20", "{body}");
        assert_eq!(shown["payments"], json!([]), "{body}");

        let body = app.gql(Some(&office.dispatcher), &query, json!({ "id": waiting })).await;
        assert!(body["data"]["job"]["invoice"].is_null() && body["errors"].is_null(), "{body}");
        assert_eq!(body["data"]["job"]["customer"]["name"], "Carla Customer");
        // The technician's own job, read the same way, still shows no billing.
        let own = app.gql(Some(&office.tech), &query, json!({ "id": job })).await;
        assert_eq!(own["data"]["job"]["technician"]["name"], "Tess", "{own}");
        assert!(own["data"]["job"]["invoice"].is_null() && own["errors"].is_null(), "{own}");
        app.stop().await;
    }
}

each_backend! {
    /// Decimals at the edge of what a Decimal holds, as text and as JSON numbers:
    /// BAD_USER_INPUT naming the field, and the job is left as it was.
    #[tokio::test]
    async fn huge_decimals_are_bad_input_naming_their_field(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let job = started_job(&app, &office, "Huge numbers", 1).await;
        let huge = ["1000000000000000000000000000", "79228162514264337593543950335", "-79228162514264337593543950335"];
        for value in huge {
            for (materials, labor, field) in [
                (json!([{ "description": "Pipe", "quantity": "1", "unitPrice": value }]), json!(null), "unitPrice"),
                (json!([{ "description": "Pipe", "quantity": value, "unitPrice": "1" }]), json!(null), "quantity"),
                (json!([]), json!(value), "laborHours"),
            ] {
                let body = app
                    .gql(
                        Some(&office.tech),
                        COMPLETE,
                        json!({ "id": job, "i": { "laborHours": labor, "materials": materials } }),
                    )
                    .await;
                assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: {field} = {value}: {body}");
                assert_eq!(body["errors"][0]["extensions"]["field"], field, "{backend:?}: {body}");
            }
        }
        // As a JSON number in the raw body, too (not a string).
        let raw = format!(
            r#"{{"query":"mutation($id: ID!) {{ completeJob(jobId: $id, input: {{ materials: [{{ description: \"Pipe\", quantity: 1, unitPrice: 1000000000000000000000000000 }}] }}) {{ status }} }}","variables":{{"id":"{job}"}}}}"#
        );
        let response = app
            .http
            .post(app.url("/graphql"))
            .bearer_auth(&office.tech)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{backend:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: {body}");

        let status = app
            .gql(Some(&office.dispatcher), "query($id: ID!) { job(id: $id) { status } }", json!({ "id": job }))
            .await;
        assert_eq!(status["data"]["job"]["status"], "IN_PROGRESS", "{backend:?}: nothing was stored");

        // Payments and rates refuse them the same way.
        let technician = app
            .gql(
                Some(&office.dispatcher),
                "mutation($r: Decimal!) { createTechnician(input: { name: \"Rich\", skillLevel: 1, hourlyRate: $r }) { id } }",
                json!({ "r": huge[1] }),
            )
            .await;
        assert_eq!(technician["errors"][0]["extensions"]["field"], "hourlyRate", "{backend:?}: {technician}");
        let body = pay(&app, &office.dispatcher, &uuid::Uuid::new_v4().to_string(), huge[0], None).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "amount", "{backend:?}: {body}");
        app.stop().await;
    }
}
