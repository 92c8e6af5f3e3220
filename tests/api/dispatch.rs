//! Locations and `suggestTechnicians`: every score recomputed here from
//! RULES.md's formulas (with a haversine of the test's own), the partition
//! and its reasons, a fixed statement count, roles and bad input.

use crate::common::TestApp;
use crate::common::fixtures::*;
use serde_json::{Value, json};

const SUGGEST: &str = "query($job: ID!, $s: DateTime!, $e: DateTime!, $first: Int, $w: SuggestionWeights) {
  suggestTechnicians(jobId: $job, startsAt: $s, endsAt: $e, first: $first, weights: $w) {
    candidates { technician { id name } score travelKm bookedMinutesThatDay servedCustomerBefore components { name weight value } }
    excluded { technician { id name } reason conflictingJobId conflictingScheduleEntryId }
  }
}";

/// The test's own great-circle distance (Earth radius 6,371 km).
fn haversine_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let (dp, dl) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

async fn customer_at(app: &TestApp, token: &str, name: &str, point: Option<(f64, f64)>) -> String {
    let input = match point {
        Some((lat, lon)) => json!({ "name": name, "latitude": lat, "longitude": lon }),
        None => json!({ "name": name }),
    };
    let body = app
        .gql(
            Some(token),
            "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
    data(&body, "createCustomer")["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

async fn technician_at(
    app: &TestApp,
    token: &str,
    name: &str,
    skill: i32,
    rate: &str,
    base: Option<(f64, f64)>,
) -> String {
    let mut input = json!({ "name": name, "skillLevel": skill, "hourlyRate": rate });
    if let Some((lat, lon)) = base {
        input["baseLatitude"] = json!(lat);
        input["baseLongitude"] = json!(lon);
    }
    let body = app
        .gql(
            Some(token),
            "mutation($i: CreateTechnicianInput!) { createTechnician(input: $i) { id } }",
            json!({ "i": input }),
        )
        .await;
    data(&body, "createTechnician")["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// A job for `customer`, booked to `technician` over `[from, to)`.
async fn booked_job(app: &TestApp, token: &str, customer: &str, technician: &str, from: &str, to: &str) -> String {
    let job = create_job(app, token, customer, "Earlier visit", 1).await;
    assign_ok(app, token, &job, technician, from, to).await;
    job
}

/// What a candidate should show: name, travel km, booked minutes, skill
/// level, hourly rate, served the customer before.
type Expected = (&'static str, Option<f64>, i64, i32, f64, bool);

fn suggest_vars(job: &str, from: &str, to: &str) -> Value {
    json!({ "job": job, "s": from, "e": to })
}

each_backend! {
    #[tokio::test]
    async fn locations_are_checked_named_and_clearable(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let create = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id latitude longitude } }";
        let body = app.gql(Some(d), create, json!({ "i": { "name": "Half", "latitude": 51.0 } })).await;
        expect_code(&body, "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "longitude", "{backend:?}: {body}");
        let body = app.gql(Some(d), create, json!({ "i": { "name": "Far", "latitude": 91.0, "longitude": 0.0 } })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "latitude", "{body}");
        let body = app.gql(Some(d), create, json!({ "i": { "name": "Bristol", "latitude": 51.4545, "longitude": -2.5879 } })).await;
        assert_eq!(body["data"]["createCustomer"]["latitude"], 51.4545, "{body}");
        let id = body["data"]["createCustomer"]["id"].clone();
        let update = "mutation($id: ID!, $i: UpdateCustomerInput!) { updateCustomer(id: $id, input: $i) { latitude longitude } }";
        let body = app.gql(Some(d), update, json!({ "id": id, "i": { "longitude": 1.0 } })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "latitude", "one of a pair sets both: {body}");
        let body = app.gql(Some(d), update, json!({ "id": id, "i": { "name": "Renamed" } })).await;
        assert_eq!(body["data"]["updateCustomer"], json!({ "latitude": 51.4545, "longitude": -2.5879 }), "left alone");
        let body = app.gql(Some(d), update, json!({ "id": id, "i": { "latitude": null, "longitude": null } })).await;
        assert_eq!(body["data"]["updateCustomer"], json!({ "latitude": null, "longitude": null }), "cleared: {body}");

        let technician = "mutation($id: ID!, $i: UpdateTechnicianInput!) { updateTechnician(id: $id, input: $i) { baseLatitude baseLongitude } }";
        let body = app.gql(Some(d), technician, json!({ "id": office.tech_id, "i": { "baseLatitude": 51.5, "baseLongitude": 181 } })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "baseLongitude", "{body}");
        let body = app.gql(Some(d), technician, json!({ "id": office.tech_id, "i": { "baseLatitude": 51.5, "baseLongitude": -2.6 } })).await;
        assert_eq!(body["data"]["updateTechnician"], json!({ "baseLatitude": 51.5, "baseLongitude": -2.6 }), "{body}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn every_score_follows_the_formulas_and_the_top_candidate_can_be_assigned(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        // Tess (skill 3, 40.00, no base) and Otto (skill 5, 55.50) come with the office.
        let home = (51.4545, -2.5879);
        let north = (51.50, -2.55);
        let east = (51.46, -2.45);
        let customer = customer_at(&app, d, "Job Site", Some(home)).await;
        let north_customer = customer_at(&app, d, "North", Some(north)).await;
        let east_customer = customer_at(&app, d, "East", Some(east)).await;
        let nowhere = customer_at(&app, d, "Nowhere", None).await;
        let ann = technician_at(&app, d, "Ann", 2, "30.00", Some((51.40, -2.60))).await;
        let bea = technician_at(&app, d, "Bea", 2, "35.00", None).await;
        let cal = technician_at(&app, d, "Cal", 2, "20.00", Some((51.45, -2.70))).await;
        technician_at(&app, d, "Dan", 4, "45.00", Some((51.41, -2.50))).await;
        technician_at(&app, d, "Eve", 1, "25.00", None).await;
        let fay = technician_at(&app, d, "Fay", 2, "25.00", None).await;
        let gus = technician_at(&app, d, "Gus", 2, "25.00", None).await;
        let hal = technician_at(&app, d, "Hal", 2, "25.00", None).await;
        let body = app.gql(Some(d), "mutation($id: ID!) { updateTechnician(id: $id, input: { active: false }) { id } }", json!({ "id": hal })).await;
        assert!(body["errors"].is_null(), "{body}");

        // Earlier that day: Ann at North (8–10), Bea at East (9–11), Tess at a
        // customer without a location (10–12). Cal served the job's customer
        // on another day. Fay is booked over the window; Gus is unavailable.
        booked_job(&app, d, &north_customer, &ann, &at(3, 8), &at(3, 10)).await;
        booked_job(&app, d, &east_customer, &bea, &at(3, 9), &at(3, 11)).await;
        booked_job(&app, d, &nowhere, &office.tech_id, &at(3, 10), &at(3, 12)).await;
        booked_job(&app, d, &customer, &cal, &at(2, 8), &at(2, 9)).await;
        let fay_job = booked_job(&app, d, &north_customer, &fay, &at(3, 12), &at(3, 14)).await;
        let entry = app
            .gql(
                Some(d),
                "mutation($i: CreateScheduleEntryInput!) { createScheduleEntry(input: $i) { id } }",
                json!({ "i": { "technicianId": gus, "kind": "UNAVAILABLE", "startsAt": at(3, 14), "endsAt": at(3, 18) } }),
            )
            .await;
        let gus_entry = data(&entry, "createScheduleEntry")["id"].as_str().unwrap().to_owned();

        let job = create_job(&app, d, &customer, "Boiler", 2).await;
        let (from, to) = (at(3, 13), at(3, 15));
        let body = app.gql(Some(d), SUGGEST, json!({ "job": job, "s": from, "e": to, "first": 100 })).await;
        let answer = data(&body, "suggestTechnicians");

        // The partition: Hal (inactive) nowhere; Eve, Fay, Gus excluded by name.
        let excluded: Vec<(String, String)> = answer["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["technician"]["name"].as_str().unwrap().to_owned(), e["reason"].as_str().unwrap().to_owned()))
            .collect();
        let expected: Vec<(String, String)> =
            [("Eve", "SKILL_TOO_LOW"), ("Fay", "BOOKED"), ("Gus", "UNAVAILABLE")].iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(excluded, expected, "{backend:?}: {answer}");
        assert_eq!(answer["excluded"][1]["conflictingJobId"], fay_job.as_str());
        assert_eq!(answer["excluded"][2]["conflictingScheduleEntryId"], gus_entry.as_str());

        // Each candidate from the formulas: (name, travel km, minutes, skill, rate, served).
        let cases: Vec<Expected> = vec![
            ("Ann", Some(haversine_km(north, home)), 120, 2, 30.0, false),
            ("Bea", Some(haversine_km(east, home)), 120, 2, 35.0, false),
            ("Cal", Some(haversine_km((51.45, -2.70), home)), 0, 2, 20.0, true),
            ("Dan", Some(haversine_km((51.41, -2.50), home)), 0, 4, 45.0, false),
            ("Otto", None, 0, 5, 55.5, false),
            ("Tess", None, 120, 3, 40.0, false),
        ];
        let weights = [3.0, 2.0, 1.0, 1.0, 1.0];
        let mut expected_scores = Vec::new();
        for (name, km, minutes, skill, rate, served) in &cases {
            let values = [
                km.map_or(0.5, |d| 1.0 / (1.0 + d / 10.0)),
                (1.0 - *minutes as f64 / 480.0).max(0.0),
                (1.0 - 0.25 * f64::from(skill - 2)).max(0.0),
                if *served { 1.0 } else { 0.0 },
                1.0 - rate / 10000.0,
            ];
            let score = 100.0 * weights.iter().zip(values).map(|(w, v)| w * v).sum::<f64>() / weights.iter().sum::<f64>();
            expected_scores.push((score, name.to_string()));
            let candidate = answer["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["technician"]["name"] == *name)
                .unwrap_or_else(|| panic!("{name} is a candidate: {answer}"));
            match (km, candidate["travelKm"].as_f64()) {
                (Some(expected), Some(got)) => assert!((expected - got).abs() < 1e-9, "{name}: {got} km, expected {expected}"),
                (None, None) => {}
                (expected, got) => panic!("{name}: travelKm {got:?}, expected {expected:?}"),
            }
            assert_eq!(candidate["bookedMinutesThatDay"], *minutes, "{name}");
            assert_eq!(candidate["servedCustomerBefore"], *served, "{name}");
            let names: Vec<&str> = candidate["components"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
            assert_eq!(names, ["travel", "workload", "skillFit", "continuity", "cost"]);
            for (component, value) in candidate["components"].as_array().unwrap().iter().zip(values) {
                assert!((component["value"].as_f64().unwrap() - value).abs() < 1e-9, "{name} {component}: {value}");
            }
            let got = candidate["score"].as_f64().unwrap();
            assert!((got - score).abs() < 1e-9, "{backend:?} {name}: score {got}, expected {score}");
        }
        // Ordered by score, then name.
        expected_scores.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let order: Vec<&str> = answer["candidates"].as_array().unwrap().iter().map(|c| c["technician"]["name"].as_str().unwrap()).collect();
        let expected_order: Vec<&str> = expected_scores.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(order, expected_order, "{answer}");

        // `first` cuts the candidates only; the top one is accepted by assignJob.
        let body = app.gql(Some(d), SUGGEST, json!({ "job": job, "s": from, "e": to, "first": 1 })).await;
        let answer = data(&body, "suggestTechnicians");
        assert_eq!(answer["candidates"].as_array().unwrap().len(), 1);
        assert_eq!(answer["excluded"].as_array().unwrap().len(), 3);
        let top = answer["candidates"][0]["technician"]["id"].as_str().unwrap().to_owned();
        assert_eq!(answer["candidates"][0]["technician"]["name"], expected_order[0]);
        expect_code(&assign(&app, d, &job, &fay, &from, &to).await, "CONFLICT");
        assign_ok(&app, d, &job, &top, &from, &to).await;
        // A SCHEDULED job's own assignment never counts against its technician.
        let body = app.gql(Some(d), SUGGEST, suggest_vars(&job, &from, &to)).await;
        let answer = data(&body, "suggestTechnicians");
        assert!(answer["excluded"].as_array().unwrap().iter().all(|e| e["technician"]["id"] != top.as_str()), "{answer}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn suggestions_cost_the_same_statements_for_3_and_30_technicians(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let job = create_job(&app, d, &office.customer_id, "Count", 1).await;
        let mut counts = Vec::new();
        for total in [3, 30] {
            while technician_count(&app, d).await < total {
                let n = technician_count(&app, d).await;
                let id = technician_at(&app, d, &format!("T{n:02}"), 3, "30.00", Some((51.0, -2.0))).await;
                if n % 2 == 0 {
                    booked_job(&app, d, &office.customer_id, &id, &at(5, 8), &at(5, 9)).await;
                }
            }
            let before = app.statements.get();
            let body = app.gql(Some(d), SUGGEST, suggest_vars(&job, &at(5, 10), &at(5, 12))).await;
            counts.push(app.statements.get() - before);
            assert!(body["errors"].is_null(), "{body}");
        }
        eprintln!("suggestTechnicians statements {backend:?}: {counts:?}");
        assert_eq!(counts[0], counts[1], "{backend:?}: statements for 3 and 30 technicians: {counts:?}");
        app.stop().await;
    }
}

async fn technician_count(app: &TestApp, token: &str) -> usize {
    let body = app.gql(Some(token), "{ technicians(first: 100) { totalCount } }", json!({})).await;
    body["data"]["technicians"]["totalCount"].as_u64().unwrap_or_else(|| panic!("{body}")) as usize
}

each_backend! {
    #[tokio::test]
    async fn suggestions_are_for_staff_and_refuse_bad_input(backend) {
        let app = TestApp::spawn(backend).await;
        let office = Office::open(&app).await;
        let d = &office.dispatcher;
        let job = create_job(&app, d, &office.customer_id, "Rules", 1).await;
        let (from, to) = (at(4, 9), at(4, 11));
        expect_code(&app.gql(Some(&office.tech), SUGGEST, suggest_vars(&job, &from, &to)).await, "FORBIDDEN");
        expect_code(&app.gql(Some(&office.admin), SUGGEST, suggest_vars(&uuid::Uuid::new_v4().to_string(), &from, &to)).await, "NOT_FOUND");
        for (vars, field) in [
            (json!({ "job": job, "s": to, "e": from }), "endsAt"),
            (json!({ "job": job, "s": from, "e": at(5, 12) }), "endsAt"),
            (json!({ "job": job, "s": from, "e": to, "first": 0 }), "first"),
            (json!({ "job": job, "s": from, "e": to, "first": 101 }), "first"),
            (json!({ "job": job, "s": from, "e": to, "w": { "travel": 0, "workload": 0, "skillFit": 0, "continuity": 0, "cost": 0 } }), "weights"),
            (json!({ "job": job, "s": from, "e": to, "w": { "cost": -1 } }), "weights"),
        ] {
            let body = app.gql(Some(d), SUGGEST, vars.clone()).await;
            expect_code(&body, "BAD_USER_INPUT");
            assert_eq!(body["errors"][0]["extensions"]["field"], field, "{backend:?} {vars}: {body}");
        }
        // Only PENDING and SCHEDULED jobs: a started one is INVALID_TRANSITION.
        assign_ok(&app, d, &job, &office.tech_id, &from, &to).await;
        job_move(&app, &office.tech, "startJob", &job).await;
        let body = app.gql(Some(d), SUGGEST, suggest_vars(&job, &from, &to)).await;
        expect_code(&body, "INVALID_TRANSITION");
        assert_eq!(body["errors"][0]["extensions"]["from"], "IN_PROGRESS", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["to"], "SCHEDULED");
        // Weights single out one component.
        let other = create_job(&app, d, &office.customer_id, "Cheapest", 1).await;
        let body = app.gql(Some(d), SUGGEST, json!({ "job": other, "s": from, "e": to, "w": { "travel": 0, "workload": 0, "skillFit": 0, "continuity": 0, "cost": 1 } })).await;
        let answer = data(&body, "suggestTechnicians");
        // Tess is booked over the window; Otto (55.50) remains.
        let otto = &answer["candidates"][0];
        assert_eq!(otto["technician"]["name"], "Otto", "{answer}");
        assert!((otto["score"].as_f64().unwrap() - 100.0 * (1.0 - 55.5 / 10000.0)).abs() < 1e-9, "{answer}");
        app.stop().await;
    }
}
