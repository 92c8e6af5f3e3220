//! `changes`: the journal oldest first, for integrations that poll, with
//! the subscriptions' cursors.

use crate::common::TestApp;
use crate::common::fixtures::*;
use crate::common::ws::WsClient;
use serde_json::{Value, json};

const CHANGES: &str = "query($after: String, $first: Int, $types: [String!]) {
  changes(after: $after, first: $first, entityTypes: $types) {
    totalCount edges { cursor node { event entityType entityId } } pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}";

fn events(body: &Value) -> Vec<String> {
    body["data"]["changes"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|e| e["node"]["event"].as_str().unwrap().to_owned())
        .collect()
}

each_backend! {
    #[tokio::test]
    async fn the_change_feed_pages_the_journal_oldest_first_for_admins(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let all = app.gql(Some(&office.admin), CHANGES, json!({ "first": 100 })).await;
        let first_events = events(&all);
        assert_eq!(first_events.first().map(String::as_str), Some("user.registered"), "{backend:?}: oldest first: {all}");
        let total = all["data"]["changes"]["totalCount"].as_u64().unwrap();
        assert_eq!(total as usize, first_events.len());

        // Page by page with endCursor: the same rows in the same order.
        let mut paged = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = app.gql(Some(&office.admin), CHANGES, json!({ "first": 3, "after": after })).await;
            paged.extend(events(&page));
            let info = &page["data"]["changes"]["pageInfo"];
            if !info["hasNextPage"].as_bool().unwrap() {
                break;
            }
            assert_eq!(info["hasPreviousPage"], !after.is_null());
            after = info["endCursor"].clone();
        }
        assert_eq!(paged, first_events);

        // Filtered by entity type; a name that is no entity type matches nothing.
        let customers = app.gql(Some(&office.admin), CHANGES, json!({ "types": ["customer"] })).await;
        assert_eq!(events(&customers), ["customer.created"], "{customers}");
        let none = app.gql(Some(&office.admin), CHANGES, json!({ "types": ["spaceship"] })).await;
        assert_eq!(events(&none), Vec::<String>::new());

        // Admins only; bad `first` and unknown cursors are BAD_USER_INPUT.
        expect_code(&app.gql(Some(&office.dispatcher), CHANGES, json!({})).await, "FORBIDDEN");
        let body = app.gql(Some(&office.admin), CHANGES, json!({ "first": 0 })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "first", "{body}");
        for cursor in ["garbage", &fieldforge::domain::cursor::Cursor::Journal(999_999).encode()] {
            let body = app.gql(Some(&office.admin), CHANGES, json!({ "after": cursor })).await;
            expect_code(&body, "BAD_USER_INPUT");
            assert_eq!(body["errors"][0]["extensions"]["field"], "after", "{body}");
        }
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn a_subscription_cursor_continues_in_the_feed_right_after_its_event(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let mut board = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        board.subscribe("1", "subscription { jobChanged { cursor kind } }", json!({})).await;
        app.wait_for_operations(1).await;
        let job = create_job(&app, &office.dispatcher, &office.customer_id, "Feed", 1).await;
        let created = board.next_data().await;
        assert_eq!(created["jobChanged"]["kind"], "CREATED", "{created}");
        assign_ok(&app, &office.dispatcher, &job, &office.tech_id, &at(1, 9), &at(1, 10)).await;
        let body = app
            .gql(Some(&office.admin), CHANGES, json!({ "after": created["jobChanged"]["cursor"], "first": 10 }))
            .await;
        assert_eq!(events(&body), ["job.assigned"], "{backend:?}: right after the subscription's event: {body}");
        assert_eq!(body["data"]["changes"]["edges"][0]["node"]["entityId"], job.as_str());
        // And back: the feed's cursor resumes a subscription after that row.
        let feed_cursor = body["data"]["changes"]["edges"][0]["cursor"].clone();
        let mut resumed = WsClient::ready(&app.ws_url(), &office.dispatcher).await;
        resumed.subscribe("2", "subscription($a: String) { jobChanged(after: $a) { kind } }", json!({ "a": feed_cursor })).await;
        job_move(&app, &office.dispatcher, "unassignJob", &job).await;
        assert_eq!(resumed.next_data().await["jobChanged"]["kind"], "UNASSIGNED");
        app.stop().await;
    }
}

/// PostgreSQL: a journal write holds the journal's lock from its entry to
/// its commit, and takes its id and its time under it: a second write waits
/// for the first to commit, and its id and time follow, even when it began
/// first. Ids therefore become visible in order, which is what a reader
/// resuming "after id N" relies on, and times never go backwards along the
/// journal.
#[tokio::test]
async fn journal_writes_take_turns_and_their_ids_and_times_follow_commit_order() {
    use fieldforge::entities::journal_entry;
    use fieldforge::journal::Journaled;
    use fieldforge::journal::change::{Change, SessionsRevoked};
    use sea_orm::EntityTrait;
    use std::time::Duration;

    let Some((database, db)) = crate::common::fresh_postgres().await else { return };
    fieldforge::db::migrate(&database.url, &db).await.expect("migrations apply");
    let revoked = || Change::SessionsRevoked(SessionsRevoked {});
    let entity = uuid::Uuid::new_v4();

    // The second write begins first, and reaches the journal second.
    let second = Journaled::begin(&db, None).await.unwrap();
    let first = Journaled::begin(&db, None).await.unwrap();
    let first_id = first.record(entity, revoked()).await.unwrap();
    let second = tokio::spawn(async move {
        let id = second.record(entity, revoked()).await.unwrap();
        second.commit_recorded().await.unwrap();
        id
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second write waits for the first one's commit");
    first.commit_recorded().await.unwrap();
    let second_id = tokio::time::timeout(Duration::from_secs(5), second).await.expect("then it goes on").unwrap();
    assert!(second_id > first_id, "{second_id} follows {first_id}");

    let at = |id: i64| {
        let db = db.clone();
        async move { journal_entry::Entity::find_by_id(id).one(&db).await.unwrap().expect("committed").created_at }
    };
    let (first_at, second_at) = (at(first_id).await, at(second_id).await);
    assert!(
        second_at - first_at >= chrono::Duration::milliseconds(250),
        "the second entry is dated when it took its place ({second_at}), after the first ({first_at})"
    );
}
