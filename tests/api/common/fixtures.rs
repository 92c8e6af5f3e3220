//! Building blocks for operation tests, all through the public API.
#![allow(dead_code)]

use serde_json::{Value, json};

use super::{TestApp, error_code};

/// Tomorrow-ish at `hour`:00 UTC, as RFC 3339 (always in the future).
pub fn at(day: i64, hour: u32) -> String {
    let date = chrono::Utc::now().date_naive() + chrono::Duration::days(day);
    format!("{}T{:02}:00:00Z", date, hour)
}

pub struct Office {
    pub admin: String,
    pub dispatcher: String,
    /// Login of technician `tech_id` (skill 3).
    pub tech: String,
    pub tech_id: String,
    /// Login of technician `other_tech_id` (skill 5).
    pub other_tech: String,
    pub other_tech_id: String,
    pub customer_id: String,
}

impl Office {
    pub async fn open(app: &TestApp) -> Office {
        let admin = app.bootstrap_admin().await;
        let (dispatcher, _) = app.register(&admin, "dispatch@example.com", "DISPATCHER").await;
        let (tech, tech_user) = app.register(&admin, "tess@example.com", "TECHNICIAN").await;
        let (other_tech, other_user) = app.register(&admin, "otto@example.com", "TECHNICIAN").await;
        let tech_id = create_technician(app, &admin, "Tess", 3, "40.00", Some(&tech_user)).await;
        let other_tech_id = create_technician(app, &admin, "Otto", 5, "55.50", Some(&other_user)).await;
        let customer_id = create_customer(app, &dispatcher, "Carla Customer").await;
        Office { admin, dispatcher, tech, tech_id, other_tech, other_tech_id, customer_id }
    }
}

pub fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    let value = &body["data"][field];
    assert!(!value.is_null() || body["errors"].is_null(), "{field} failed: {body}");
    value
}

pub async fn create_customer(app: &TestApp, token: &str, name: &str) -> String {
    let body = app
        .gql(
            Some(token),
            "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }",
            json!({ "i": { "name": name, "email": format!("{}@example.com", name.replace(' ', ".").to_lowercase()), "phone": "+1 555 0100", "address": "1 Main St" } }),
        )
        .await;
    data(&body, "createCustomer")["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

pub async fn create_technician(
    app: &TestApp,
    token: &str,
    name: &str,
    skill: i32,
    rate: &str,
    user_id: Option<&str>,
) -> String {
    let body = app
        .gql(
            Some(token),
            "mutation($i: CreateTechnicianInput!) { createTechnician(input: $i) { id } }",
            json!({ "i": { "name": name, "skillLevel": skill, "hourlyRate": rate, "userId": user_id } }),
        )
        .await;
    data(&body, "createTechnician")["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

pub async fn create_job(app: &TestApp, token: &str, customer_id: &str, title: &str, skill: i32) -> String {
    let body = app
        .gql(
            Some(token),
            "mutation($i: CreateJobInput!) { createJob(input: $i) { id status } }",
            json!({ "i": { "customerId": customer_id, "title": title, "requiredSkillLevel": skill } }),
        )
        .await;
    assert_eq!(data(&body, "createJob")["status"], "PENDING");
    body["data"]["createJob"]["id"].as_str().unwrap().to_owned()
}

pub const ASSIGN: &str = "mutation($i: AssignJobInput!) { assignJob(input: $i) { id status assignment { startsAt endsAt technician { id } } } }";

pub async fn assign(app: &TestApp, token: &str, job: &str, tech: &str, starts: &str, ends: &str) -> Value {
    app.gql(
        Some(token),
        ASSIGN,
        json!({ "i": { "jobId": job, "technicianId": tech, "startsAt": starts, "endsAt": ends } }),
    )
    .await
}

pub async fn assign_ok(app: &TestApp, token: &str, job: &str, tech: &str, starts: &str, ends: &str) {
    let body = assign(app, token, job, tech, starts, ends).await;
    assert_eq!(body["data"]["assignJob"]["status"], "SCHEDULED", "{body}");
}

pub async fn job_move(app: &TestApp, token: &str, mutation: &str, job: &str) -> Value {
    app.gql(
        Some(token),
        &format!("mutation($id: ID!) {{ {mutation}(jobId: $id) {{ id status startedAt cancelledAt }} }}"),
        json!({ "id": job }),
    )
    .await
}

pub fn expect_code(body: &Value, code: &str) {
    assert_eq!(error_code(body), code, "{body}");
}
