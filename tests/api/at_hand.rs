//! Objects answered from values at hand (`graphql/at_hand.rs`) answer
//! exactly what their resolvers answer. Each query is asked twice on the
//! same data: as it is (every field at hand: the synchronous walk), and with
//! one more field that is not at hand (a loader), which sends the whole list
//! through async-graphql's resolvers; without that field, the two answers
//! must be equal.

use serde_json::{Value, json};

use crate::billing::{invoice_of, pay, started_job};
use crate::common::TestApp;
use crate::common::fixtures::*;
use crate::common::ws::WsClient;

/// `body` without `key` anywhere in it.
fn without(mut body: Value, key: &str) -> Value {
    fn strip(value: &mut Value, key: &str) {
        match value {
            Value::Object(map) => {
                map.remove(key);
                map.values_mut().for_each(|v| strip(v, key));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| strip(v, key)),
            _ => {}
        }
    }
    strip(&mut body, key);
    body
}

/// Asks `query` as it is and with `forcing` (a field not at hand, under the
/// alias `forced`) where `{forcing}` stands, and compares the two answers
/// without it.
async fn same_both_ways(app: &TestApp, token: &str, query: &str, forcing: &str, variables: Value) -> Value {
    let at_hand = app.gql(Some(token), &query.replace("{forcing}", ""), variables.clone()).await;
    let resolved = app.gql(Some(token), &query.replace("{forcing}", &format!("forced: {forcing}")), variables).await;
    assert!(at_hand["errors"].is_null() && resolved["errors"].is_null(), "{at_hand}\n{resolved}");
    assert!(resolved.to_string().contains("\"forced\""), "the forcing field was answered: {resolved}");
    // The data only: `extensions.cost` counts the extra field.
    assert_eq!(without(resolved, "forced")["data"], at_hand["data"], "{query}");
    at_hand
}

const JOB_FIELDS: &str = "__typename id title description status priority requiredSkillLevel startedAt completedAt \
    cancelledAt createdAt updatedAt customer { __typename id name email phone address latitude longitude createdAt updatedAt } \
    technician { id name email phone skillLevel hourlyRate active baseLatitude baseLongitude } assignment { id startsAt endsAt }";

const CARD_FIELDS: &str = "id title status priority createdAt customer { id name address } technician { id name } assignment { startsAt endsAt }";

const INVOICE_FIELDS: &str = "invoice { __typename id number status total amountPaid balanceDue issuedAt paidAt \
    lines { description quantity unitPrice amount } payments { id amount method reference receivedAt } }";

each_backend! {
    #[tokio::test]
    async fn answers_from_values_at_hand_equal_the_resolvers_answers(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let invoiced = started_job(&app, &office, "Invoiced", 1).await;
        let invoice = invoice_of(&app, &office, &invoiced, json!([{ "description": "Valve", "quantity": "1.5", "unitPrice": "19.99" }])).await;
        for amount in ["10", "2.50"] {
            let paid = pay(&app, &office.dispatcher, invoice["id"].as_str().unwrap(), amount, None).await;
            assert!(paid["errors"].is_null(), "{paid}");
        }
        started_job(&app, &office, "Under way", 2).await;
        create_job(&app, &office.dispatcher, &office.customer_id, "Waiting", 2).await;
        let off = app
            .gql(
                Some(&office.admin),
                "mutation($i: CreateScheduleEntryInput!) { createScheduleEntry(input: $i) { id } }",
                json!({ "i": { "technicianId": office.tech_id, "kind": "UNAVAILABLE", "startsAt": at(3, 8), "endsAt": at(3, 12), "note": "Dentist" } }),
            )
            .await;
        assert!(off["errors"].is_null(), "{off}");
        let financials = "financials { laborHours }";
        let d = office.dispatcher.as_str();

        // The board, its cards and whole rows, as nodes and as edges.
        let board = same_both_ways(&app, d, &format!("{{ jobs(first: 10) {{ nodes {{ {CARD_FIELDS} {{forcing}} }} }} }}"), financials, json!({})).await;
        assert_eq!(board["data"]["jobs"]["nodes"].as_array().map(Vec::len), Some(3), "{board}");
        let whole = same_both_ways(&app, d, &format!("{{ jobs(first: 10) {{ nodes {{ {JOB_FIELDS} {{forcing}} }} }} }}"), financials, json!({})).await;
        let started = whole["data"]["jobs"]["nodes"].as_array().unwrap().iter().filter(|job| job["startedAt"].is_string()).count();
        assert_eq!(started, 2, "{whole}");
        same_both_ways(&app, d, &format!("{{ jobs(first: 10) {{ edges {{ cursor node {{ {CARD_FIELDS} {{forcing}} }} }} }} }}"), financials, json!({})).await;

        // Fragments, inline fragments and aliases.
        let fragments = "query { jobs(first: 10) { nodes { ...J x: title ... on Job { status } ... { createdAt } {forcing} } } } \
            fragment J on Job { id customer { ... on Customer { name } } technician { n: name } }";
        let shaped = same_both_ways(&app, d, fragments, financials, json!({})).await;
        assert!(shaped["data"]["jobs"]["nodes"][0]["x"].is_string(), "{shaped}");

        // One job with its invoice, lines and payments; a technician sees no billing.
        let detail = format!("query($id: ID!) {{ job(id: $id) {{ {JOB_FIELDS} {INVOICE_FIELDS} {{forcing}} }} }}");
        let shown = same_both_ways(&app, d, &detail, financials, json!({ "id": invoiced })).await;
        assert_eq!(shown["data"]["job"]["invoice"]["payments"].as_array().map(Vec::len), Some(2), "{shown}");
        assert_eq!(shown["data"]["job"]["invoice"]["lines"][1]["quantity"], "1.50", "{shown}");
        let tech_view = format!("query($id: ID!) {{ job(id: $id) {{ {CARD_FIELDS} {INVOICE_FIELDS} {{forcing}} }} }}");
        let seen = same_both_ways(&app, &office.tech, &tech_view, "assignment { technician { id } }", json!({ "id": invoiced })).await;
        assert!(seen["data"]["job"]["invoice"].is_null(), "{seen}");

        // A technician's calendar: job entries with their jobs, time off without.
        let week = "query($t: ID!, $from: DateTime!, $to: DateTime!) { schedule(technicianId: $t, from: $from, to: $to) { \
            __typename id kind startsAt endsAt note job { id title status priority createdAt } {forcing} } }";
        let window = json!({ "t": office.tech_id, "from": at(0, 0), "to": at(7, 0) });
        let calendar = same_both_ways(&app, d, week, "technician { id }", window.clone()).await;
        let kinds: Vec<_> = calendar["data"]["schedule"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect();
        assert_eq!(kinds, [json!("JOB"), json!("JOB"), json!("UNAVAILABLE")], "{calendar}");

        // Customers and technicians as lists of whole rows.
        same_both_ways(&app, d, "{ customers(first: 10) { nodes { id name email phone address latitude longitude createdAt updatedAt {forcing} } } }", "jobs(first: 1) { totalCount }", json!({})).await;
        let admin = office.admin.as_str();
        same_both_ways(&app, admin, "{ technicians(first: 10) { edges { cursor node { id name email phone skillLevel hourlyRate active baseLatitude baseLongitude {forcing} } } } }", "user { email }", json!({})).await;

        // Over a websocket the same answers arrive: there the written JSON
        // is read back into async-graphql's values before it is sent.
        let mut socket = WsClient::ready(&app.ws_url(), d).await;
        let asked = [
            (format!("{{ jobs(first: 10) {{ nodes {{ {JOB_FIELDS} }} }} }}"), json!({})),
            (detail.replace("{forcing}", ""), json!({ "id": invoiced })),
            (week.replace("{forcing}", ""), window),
        ];
        for (at, (query, variables)) in asked.into_iter().enumerate() {
            socket.subscribe(&at.to_string(), &query, variables.clone()).await;
            let over_socket = socket.next_data().await;
            let over_http = app.gql(Some(d), &query, variables).await;
            assert!(over_socket.as_object().is_some_and(|data| !data.is_empty()), "{over_socket}");
            assert_eq!(over_socket, over_http["data"], "{query}");
            let complete = socket.recv_json().await;
            assert_eq!(complete["type"], "complete", "{complete}");
        }
    }
}
