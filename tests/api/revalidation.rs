//! A request that passed validation before runs without it
//! (`graphql/revalidation.rs`); any other request, even one differing only
//! in its variables, is validated in full and refused as before.

use serde_json::json;

use crate::common::fixtures::*;
use crate::common::{TestApp, error_code};

const JOBS: &str =
    "query($s: [JobStatus!], $n: Int) { jobs(first: $n, filter: { status: $s }) { nodes { title status } } }";

each_backend! {
    #[tokio::test]
    async fn only_the_very_request_that_passed_skips_validation(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = office.dispatcher.as_str();
        create_job(&app, d, &office.customer_id, "Boiler", 2).await;
        let good = json!({ "s": ["PENDING"], "n": 5 });
        let first = app.gql(Some(d), JOBS, good.clone()).await;
        assert_eq!(first["data"]["jobs"]["nodes"], json!([{ "title": "Boiler", "status": "PENDING" }]), "{first}");
        for _ in 0..2 {
            assert_eq!(app.gql(Some(d), JOBS, good.clone()).await, first, "the same request, the same answer");
        }

        // The same text with variables that do not validate, after the
        // good ones passed: refused by validation, the field named, every time.
        for _ in 0..2 {
            let bad = app.gql(Some(d), JOBS, json!({ "s": ["NOT_A_STATUS"], "n": 5 })).await;
            assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");
            assert_eq!(bad["errors"][0]["extensions"]["field"], "status", "{bad}");
            assert!(bad["data"].is_null(), "refused before it ran: {bad}");
        }
        // Under another operation name the text is another request too.
        let named = format!("query Jobs{}", &JOBS["query".len()..]);
        let bad = app.gql(Some(d), &named, json!({ "s": ["NOT_A_STATUS"] })).await;
        assert_eq!(bad["errors"][0]["extensions"]["field"], "status", "{bad}");

        // A document that failed is never remembered.
        for _ in 0..2 {
            let wrong = app.gql(Some(d), "{ jobs(first: 1) { nodes { nosuchfield } } }", json!({})).await;
            assert_eq!(error_code(&wrong), "BAD_USER_INPUT", "{wrong}");
        }
        assert_eq!(app.gql(Some(d), JOBS, good).await, first);
    }
}
