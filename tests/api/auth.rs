//! Accounts and roles over HTTP: bootstrap, registration rights, login, the
//! rate limit, tokens, deactivation and role changes, admin-only operations.

use crate::common::{PASSWORD, SECRET, TestApp, error_code};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const REGISTER: &str =
    "mutation($i: RegisterInput!) { register(input: $i) { token expiresAt user { id email role active } } }";
const LOGIN: &str = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id } } }";
const ME: &str = "{ me { id email role } }";

fn input(email: &str, role: &str) -> Value {
    json!({ "i": { "email": email, "password": PASSWORD, "name": "Some One", "role": role } })
}

each_backend! {
    #[tokio::test]
    async fn first_account_bootstraps_an_admin_then_registration_closes(backend) {
        let app = TestApp::spawn(backend).await;
        let body = app.gql(None, REGISTER, input("tech@example.com", "TECHNICIAN")).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: first account must be ADMIN");
        assert_eq!(body["errors"][0]["extensions"]["field"], "role");

        let body = app.gql(None, REGISTER, input("  Boss@Example.COM ", "ADMIN")).await;
        let user = &body["data"]["register"]["user"];
        assert_eq!(user["email"], "boss@example.com", "{backend:?}: emails trimmed and lower-cased");
        assert_eq!(user["role"], "ADMIN");
        assert!(body["data"]["register"]["token"].as_str().is_some_and(|t| t.split('.').count() == 3));

        let body = app.gql(None, REGISTER, input("second@example.com", "ADMIN")).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{backend:?}: anonymous register after bootstrap");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn racing_bootstraps_give_exactly_one_admin(backend) {
        let app = TestApp::spawn(backend).await;
        let attempts = (0..6).map(|n| {
            let app = &app;
            async move { app.gql(None, REGISTER, input(&format!("admin{n}@example.com"), "ADMIN")).await }
        });
        let results = futures_util::future::join_all(attempts).await;
        let winners = results.iter().filter(|b| b["data"]["register"]["token"].is_string()).count();
        assert_eq!(winners, 1, "{backend:?}: {results:?}");
        for loser in results.iter().filter(|b| b["errors"].is_array()) {
            assert_eq!(error_code(loser), "UNAUTHENTICATED", "{backend:?}");
        }
        let db = app.db.connect().await;
        assert_eq!(fieldforge::entities::user::Entity::find().count(&db).await.unwrap(), 1);
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn who_may_register_whom(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let (dispatcher, _) = app.register(&admin, "disp@example.com", "DISPATCHER").await;
        let (technician, _) = app.register(&dispatcher, "tech@example.com", "TECHNICIAN").await;

        for role in ["ADMIN", "DISPATCHER"] {
            let body = app.gql(Some(&dispatcher), REGISTER, input("x@example.com", role)).await;
            assert_eq!(error_code(&body), "FORBIDDEN", "{backend:?}: dispatcher registering {role}");
        }
        let body = app.gql(Some(&technician), REGISTER, input("y@example.com", "TECHNICIAN")).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{backend:?}: technician registering");

        let body = app.gql(Some(&admin), REGISTER, input("TECH@example.com", "TECHNICIAN")).await;
        assert_eq!(error_code(&body), "CONFLICT", "{backend:?}: duplicate email, other case");

        let mut short = input("short@example.com", "TECHNICIAN");
        short["i"]["password"] = json!("elevenchars");
        assert_eq!(error_code(&app.gql(Some(&admin), REGISTER, short).await), "BAD_USER_INPUT");
        let mut long_name = input("long@example.com", "TECHNICIAN");
        long_name["i"]["name"] = json!("n".repeat(201));
        assert_eq!(error_code(&app.gql(Some(&admin), REGISTER, long_name).await), "BAD_USER_INPUT");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn login_fails_the_same_way_and_logs_it(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let (_, tech_id) = app.register(&admin, "tech@example.com", "TECHNICIAN").await;
        let deactivate = "mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { active } }";
        let body = app.gql(Some(&admin), deactivate, json!({ "id": tech_id })).await;
        assert_eq!(body["data"]["updateUser"]["active"], false, "{body}");

        let unknown = app.gql(None, LOGIN, json!({ "e": "nobody@example.com", "p": PASSWORD })).await;
        let wrong = app.gql(None, LOGIN, json!({ "e": "admin@example.com", "p": "wrong password!!" })).await;
        let inactive = app.gql(None, LOGIN, json!({ "e": "tech@example.com", "p": PASSWORD })).await;
        for body in [&unknown, &wrong, &inactive] {
            assert_eq!(error_code(body), "UNAUTHENTICATED", "{backend:?}");
            assert_eq!(body["errors"][0]["message"], unknown["errors"][0]["message"], "same message for all");
        }
        let ok = app.gql(None, LOGIN, json!({ "e": " ADMIN@example.com", "p": PASSWORD })).await;
        assert!(ok["data"]["login"]["token"].is_string(), "{backend:?}: {ok}");

        let db = app.db.connect().await;
        use fieldforge::entities::journal_entry as log;
        let failed = log::Entity::find().filter(log::Column::Event.eq("auth.login_failed")).count(&db).await.unwrap();
        assert_eq!(failed, 3, "{backend:?}");
        let registered = log::Entity::find().filter(log::Column::Event.eq("user.registered")).count(&db).await.unwrap();
        assert_eq!(registered, 2, "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn failed_logins_are_rate_limited_counting_aliases(backend) {
        let app = TestApp::spawn(backend).await;
        app.bootstrap_admin().await;
        // Twelve attempts in one request, as aliases.
        let aliases: String = (0..12)
            .map(|n| format!("a{n}: login(email: \"admin@example.com\", password: \"not the password\") {{ token }} "))
            .collect();
        let body = app.gql(None, &format!("mutation {{ {aliases} }}"), json!({})).await;
        let codes: Vec<&str> =
            body["errors"].as_array().unwrap().iter().map(|e| e["extensions"]["code"].as_str().unwrap()).collect();
        assert_eq!(codes.iter().filter(|c| **c == "UNAUTHENTICATED").count(), 10, "{backend:?}: {codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == "RATE_LIMITED").count(), 2, "{backend:?}: {codes:?}");

        // Now even the right password is refused, with a retry hint.
        let body = app.gql(None, LOGIN, json!({ "e": "admin@example.com", "p": PASSWORD })).await;
        assert_eq!(error_code(&body), "RATE_LIMITED", "{backend:?}");
        let retry = body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().unwrap();
        assert!((1..=600).contains(&retry), "{retry}");
        app.stop().await;
    }
}

fn token_with(alg: Algorithm, claims: Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

each_backend! {
    #[tokio::test]
    async fn only_valid_hs256_tokens_authenticate(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let me = app.gql(Some(&admin), ME, json!({})).await;
        let id = me["data"]["me"]["id"].as_str().unwrap().to_owned();
        let now = chrono::Utc::now().timestamp();
        let claims = |iat: i64, exp: i64| json!({ "sub": id, "role": "ADMIN", "iat": iat, "exp": exp });

        let valid = token_with(Algorithm::HS256, claims(now, now + 60), SECRET);
        assert_eq!(app.gql(Some(&valid), ME, json!({})).await["data"]["me"]["id"], id.as_str());

        let expired = token_with(Algorithm::HS256, claims(now - 120, now - 60), SECRET);
        let wrong_key = token_with(Algorithm::HS256, claims(now, now + 60), "another-secret-another-secret-0123456789");
        let hs512 = token_with(Algorithm::HS512, claims(now, now + 60), SECRET);
        let header = base64_url(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = base64_url(claims(now, now + 60).to_string().as_bytes());
        let none = format!("{header}.{payload}.");
        for (label, token) in [("expired", expired), ("bad signature", wrong_key), ("HS512", hs512), ("none", none)] {
            let body = app.gql(Some(&token), ME, json!({})).await;
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{backend:?}: {label}");
        }
        let body = app.gql(None, ME, json!({})).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{backend:?}: no token");
        app.stop().await;
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

each_backend! {
    #[tokio::test]
    async fn deactivation_and_role_changes_apply_on_the_next_request(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let (dispatcher, dispatcher_id) = app.register(&admin, "disp@example.com", "DISPATCHER").await;
        let users = "{ users { totalCount } }";
        assert_eq!(error_code(&app.gql(Some(&dispatcher), users, json!({})).await), "FORBIDDEN");

        let promote = "mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { role } }";
        app.gql(Some(&admin), promote, json!({ "id": dispatcher_id })).await;
        let body = app.gql(Some(&dispatcher), users, json!({})).await;
        assert_eq!(body["data"]["users"]["totalCount"], 2, "{backend:?}: old token, new role: {body}");

        let deactivate = "mutation($id: ID!) { updateUser(id: $id, input: { active: false }) { active } }";
        app.gql(Some(&admin), deactivate, json!({ "id": dispatcher_id })).await;
        assert_eq!(error_code(&app.gql(Some(&dispatcher), ME, json!({})).await), "UNAUTHENTICATED");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn account_administration_is_for_admins(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let (dispatcher, _) = app.register(&admin, "disp@example.com", "DISPATCHER").await;
        let (technician, tech_id) = app.register(&admin, "tech@example.com", "TECHNICIAN").await;
        let rename = "mutation($id: ID!) { updateUser(id: $id, input: { name: \"Renamed\" }) { name } }";
        for token in [&dispatcher, &technician] {
            assert_eq!(error_code(&app.gql(Some(token), "{ users { totalCount } }", json!({})).await), "FORBIDDEN");
            assert_eq!(error_code(&app.gql(Some(token), rename, json!({ "id": tech_id })).await), "FORBIDDEN");
        }
        let body = app.gql(Some(&admin), rename, json!({ "id": tech_id })).await;
        assert_eq!(body["data"]["updateUser"]["name"], "Renamed");
        let body = app.gql(Some(&admin), rename, json!({ "id": uuid::Uuid::new_v4().to_string() })).await;
        assert_eq!(error_code(&body), "NOT_FOUND");

        let body = app.gql(Some(&admin), "{ users(role: TECHNICIAN) { totalCount nodes { email } } }", json!({})).await;
        assert_eq!(body["data"]["users"]["totalCount"], 1);
        // Pagination: newest first, two pages of one.
        let page = "query($after: String) { users(first: 2, after: $after) { edges { cursor node { email } } pageInfo { hasNextPage endCursor } } }";
        let first = app.gql(Some(&admin), page, json!({})).await;
        assert_eq!(first["data"]["users"]["edges"][0]["node"]["email"], "tech@example.com");
        assert_eq!(first["data"]["users"]["pageInfo"]["hasNextPage"], true);
        let after = first["data"]["users"]["pageInfo"]["endCursor"].clone();
        let second = app.gql(Some(&admin), page, json!({ "after": after })).await;
        assert_eq!(second["data"]["users"]["edges"][0]["node"]["email"], "admin@example.com", "{second}");
        assert_eq!(second["data"]["users"]["pageInfo"]["hasNextPage"], false);
        let body = app.gql(Some(&admin), "{ users(after: \"bogus\") { totalCount } }", json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn concurrent_wrong_passwords_reach_the_check_at_most_ten_times(backend) {
        let app = TestApp::spawn(backend).await;
        app.bootstrap_admin().await;
        let attempts = (0..50).map(|_| {
            let app = &app;
            async move { app.gql(None, LOGIN, json!({ "e": "admin@example.com", "p": "not the password" })).await }
        });
        let results = futures_util::future::join_all(attempts).await;
        let codes: Vec<&str> = results.iter().map(error_code).collect();
        let checked = codes.iter().filter(|c| **c == "UNAUTHENTICATED").count();
        assert_eq!(checked, 10, "{backend:?}: {codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == "RATE_LIMITED").count(), 40, "{backend:?}");
        // Only the attempts that reached the password check are journalled.
        assert_eq!(app.journal_count("auth.login_failed").await, 10, "{backend:?}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn an_overlong_login_email_is_bad_input_and_not_journalled(backend) {
        let app = TestApp::spawn(backend).await;
        app.bootstrap_admin().await;
        let email = format!("{}@example.com", "a".repeat(243)); // 255 characters
        let body = app.gql(None, LOGIN, json!({ "e": email, "p": "whatever it is" })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "email");
        let at_limit = format!("{}@example.com", "a".repeat(242)); // 254: an ordinary failure
        let body = app.gql(None, LOGIN, json!({ "e": at_limit, "p": "whatever it is" })).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{backend:?}: {body}");
        let failed = app.journal_count("auth.login_failed").await;
        assert_eq!(failed, 1, "{backend:?}: only the 254-character email is journalled");
        app.stop().await;
    }
}

const CHANGE_PASSWORD: &str =
    "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token user { id } } }";
const REVOKE: &str = "mutation($u: ID) { revokeSessions(userId: $u) }";

async fn login_token(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql(None, LOGIN, json!({ "e": email, "p": password })).await
}

each_backend! {
    #[tokio::test]
    async fn changing_a_password_ends_every_earlier_session_of_that_user_only(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let (first, dispatcher_id) = app.register(&admin, "disp@example.com", "DISPATCHER").await;
        let second = login_token(&app, "disp@example.com", PASSWORD).await["data"]["login"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let new_password = "an entirely new passphrase";

        let body = app.gql(Some(&first), CHANGE_PASSWORD, json!({ "c": "wrong current one", "n": new_password })).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{backend:?}: wrong current password");
        let body = app.gql(Some(&first), CHANGE_PASSWORD, json!({ "c": PASSWORD, "n": "short" })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{backend:?}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "newPassword");
        assert_eq!(app.gql(Some(&first), ME, json!({})).await["data"]["me"]["email"], "disp@example.com");

        let body = app.gql(Some(&first), CHANGE_PASSWORD, json!({ "c": PASSWORD, "n": new_password })).await;
        let fresh = body["data"]["changePassword"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
        for (label, token) in [("first", &first), ("second", &second)] {
            let body = app.gql(Some(token), ME, json!({})).await;
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{backend:?}: {label} token after the change");
        }
        assert_eq!(app.gql(Some(&fresh), ME, json!({})).await["data"]["me"]["id"], dispatcher_id.as_str());
        assert_eq!(app.gql(Some(&admin), ME, json!({})).await["data"]["me"]["email"], "admin@example.com");
        assert_eq!(error_code(&login_token(&app, "disp@example.com", PASSWORD).await), "UNAUTHENTICATED");
        assert!(login_token(&app, "disp@example.com", new_password).await["data"]["login"]["token"].is_string());

        // The journal says what happened, never the secret.
        let log = app
            .gql(Some(&admin), "{ auditLog(first: 100, entityType: \"user\") { nodes { event data } } }", json!({}))
            .await;
        let text = log.to_string();
        assert!(text.contains("user.password_changed"), "{backend:?}: {text}");
        assert!(!text.contains(new_password) && !text.contains(PASSWORD), "{backend:?}: a password in the journal");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn wrong_current_passwords_count_toward_the_login_limit(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let (token, _) = app.register(&admin, "disp@example.com", "DISPATCHER").await;
        for _ in 0..10 {
            let body = app
                .gql(Some(&token), CHANGE_PASSWORD, json!({ "c": "wrong current one", "n": "whatever else it is" }))
                .await;
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{backend:?}");
        }
        let body = login_token(&app, "disp@example.com", PASSWORD).await;
        assert_eq!(error_code(&body), "RATE_LIMITED", "{backend:?}: {body}");
        app.stop().await;
    }
}

each_backend! {
    #[tokio::test]
    async fn revocations_and_admin_resets_end_sessions(backend) {
        let app = TestApp::spawn(backend).await;
        let admin = app.bootstrap_admin().await;
        let (dispatcher, dispatcher_id) = app.register(&admin, "disp@example.com", "DISPATCHER").await;
        let (technician, tech_id) = app.register(&admin, "tech@example.com", "TECHNICIAN").await;

        // Another user's sessions: ADMIN only; naming one's own id is one's own.
        let body = app.gql(Some(&technician), REVOKE, json!({ "u": dispatcher_id })).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{backend:?}");
        let body = app.gql(Some(&technician), REVOKE, json!({ "u": "not-an-id" })).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{backend:?}: a malformed id is still someone else's");
        let body = app.gql(Some(&admin), REVOKE, json!({ "u": "not-an-id" })).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{backend:?}");
        let body = app.gql(Some(&dispatcher), REVOKE, json!({ "u": dispatcher_id })).await;
        assert_eq!(body["data"]["revokeSessions"], true, "{backend:?}: {body}");
        assert_eq!(error_code(&app.gql(Some(&dispatcher), ME, json!({})).await), "UNAUTHENTICATED");
        assert_eq!(app.gql(Some(&technician), ME, json!({})).await["data"]["me"]["id"], tech_id.as_str());

        // Own sessions, no argument.
        let body = app.gql(Some(&technician), REVOKE, json!({})).await;
        assert_eq!(body["data"]["revokeSessions"], true, "{backend:?}: {body}");
        assert_eq!(error_code(&app.gql(Some(&technician), ME, json!({})).await), "UNAUTHENTICATED");

        // An admin revokes someone else's, and an unknown user is NOT_FOUND.
        let technician = login_token(&app, "tech@example.com", PASSWORD).await["data"]["login"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let body = app.gql(Some(&admin), REVOKE, json!({ "u": tech_id })).await;
        assert_eq!(body["data"]["revokeSessions"], true, "{backend:?}: {body}");
        assert_eq!(error_code(&app.gql(Some(&technician), ME, json!({})).await), "UNAUTHENTICATED");
        let body = app.gql(Some(&admin), REVOKE, json!({ "u": uuid::Uuid::new_v4().to_string() })).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{backend:?}");

        // An admin's password reset: the old password and tokens stop working.
        let technician = login_token(&app, "tech@example.com", PASSWORD).await["data"]["login"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let reset = "mutation($id: ID!, $p: String) { updateUser(id: $id, input: { password: $p }) { id } }";
        let body = app.gql(Some(&admin), reset, json!({ "id": tech_id, "p": "short" })).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "password", "{backend:?}: {body}");
        let body = app.gql(Some(&admin), reset, json!({ "id": tech_id, "p": "reset by the office 42" })).await;
        assert_eq!(body["data"]["updateUser"]["id"], tech_id.as_str(), "{backend:?}: {body}");
        assert_eq!(error_code(&app.gql(Some(&technician), ME, json!({})).await), "UNAUTHENTICATED");
        assert_eq!(error_code(&login_token(&app, "tech@example.com", PASSWORD).await), "UNAUTHENTICATED");
        assert!(
            login_token(&app, "tech@example.com", "reset by the office 42").await["data"]["login"]["token"].is_string()
        );
        let body = app.gql(Some(&dispatcher), reset, json!({ "id": tech_id, "p": "not allowed here 42" })).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{backend:?}: the dispatcher's token was revoked");

        assert_eq!(app.journal_count("user.sessions_revoked").await, 3, "{backend:?}");
        assert_eq!(app.journal_count("user.password_changed").await, 1, "{backend:?}");
        app.stop().await;
    }
}
