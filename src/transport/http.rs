//! GraphQL over HTTP: POST runs queries and mutations (JSON bodies only);
//! GET runs queries only.

use std::net::SocketAddr;
use std::time::Instant;

use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse, Request, Response};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};

use super::response_cache::CacheKey;
use super::{AppState, Authentication, authenticate_claims, authorization_header, bearer_claims, client_ip};
use crate::auth::token::Claims;
use crate::domain::{Actor, users};
use crate::entities::connection::RequestConnection;
use crate::graphql::error::coded;
use crate::graphql::json;
use crate::graphql::loaders::Loaders;
use crate::graphql::prepare::{Prepared, Refused, prepare, with_codes, with_cost};
use crate::graphql::{Auth, RequestInfo};

pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    if !is_json(&headers) {
        return refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json", "BAD_USER_INPUT");
    }
    let Some(batch) = batch_from(&body) else {
        return refusal(StatusCode::BAD_REQUEST, "the body is not a GraphQL request in JSON", "BAD_USER_INPUT");
    };
    if let BatchRequest::Batch(requests) = &batch {
        let max = state.settings.limits.max_batch;
        if requests.is_empty() || requests.len() > max {
            state.metrics.refused("batch");
            return refusal(StatusCode::BAD_REQUEST, &format!("a batch holds 1 to {max} operations"), "BAD_USER_INPUT");
        }
    }
    within_deadline(&state, serve(&state, &headers, addr, batch, || batch_from(&body))).await
}

fn batch_from(body: &[u8]) -> Option<BatchRequest> {
    serde_json::from_slice(body).ok()
}

pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> HttpResponse {
    let request_from = || async_graphql::http::parse_query_string(query.as_deref().unwrap_or_default()).ok();
    let Some(mut request) = request_from() else {
        return refusal(StatusCode::BAD_REQUEST, "missing or malformed query parameters", "BAD_USER_INPUT");
    };
    if prepare(&mut request, &state.settings.limits, &state.documents).is_ok_and(|p| p.is_mutation) {
        let mut response =
            refusal(StatusCode::METHOD_NOT_ALLOWED, "mutations are served over POST only", "BAD_USER_INPUT");
        response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    let again = || request_from().map(BatchRequest::Single);
    within_deadline(&state, serve(&state, &headers, addr, BatchRequest::Single(request), again)).await
}

/// Runs a request under `--request-timeout`. Past it the request's future is
/// dropped: a transaction it had open is rolled back (nothing half-written
/// stays; a change that had already committed stays committed), and the
/// client is told.
async fn within_deadline(state: &AppState, request: impl Future<Output = HttpResponse>) -> HttpResponse {
    let limit = state.settings.request_timeout;
    match tokio::time::timeout(limit, request).await {
        Ok(response) => response,
        Err(_) => {
            state.metrics.refused("timeout");
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out and was cancelled");
            refusal(
                StatusCode::OK,
                &format!(
                    "the request took longer than {} s and was cancelled; a change it had not committed was rolled back",
                    limit.as_secs()
                ),
                "INTERNAL_SERVER_ERROR",
            )
        }
    }
}

/// Runs a request as its caller, whose account is read in this request.
///
/// When this process knows the caller (`callers.rs`) and the answer will
/// not come from the response cache (which needs the data version first),
/// the request runs at once as that caller, its reads guarded by "the
/// account is still that caller" in their own statements (`guard.rs`): one
/// round trip instead of two. The answer leaves only if the guard is proven
/// to have held; if the account changed (deactivated, role changed,
/// sessions revoked), the answer is thrown away and the request runs again,
/// from `again`, as the caller it now is. A request that writes never runs
/// on a guess.
async fn serve(
    state: &AppState,
    headers: &HeaderMap,
    addr: SocketAddr,
    batch: BatchRequest,
    again: impl Fn() -> Option<BatchRequest>,
) -> HttpResponse {
    let client_ip = client_ip(state, addr, headers);
    let fresh = asks_fresh(headers);
    let claims = bearer_claims(&state.services, authorization_header(headers));
    let (work, authentication) = match &claims {
        Ok(Some(claims))
            if state.reads.has_own_connections()
                && (fresh || !state.cache.enabled())
                && let Some(guess) = state.callers.guess(claims.sub, claims.epoch) =>
        {
            match guessed(state, batch, client_ip, claims, guess).await {
                Guessed::Answered(response) => return response,
                Guessed::Writes(operations) => (Work::Prepared(operations), None),
                Guessed::Changed(authentication) => {
                    let Some(batch) = again() else {
                        return refusal(
                            StatusCode::BAD_REQUEST,
                            "the request could not be read again",
                            "BAD_USER_INPUT",
                        );
                    };
                    (Work::Batch(Box::new(batch)), Some(authentication))
                }
            }
        }
        _ => (Work::Batch(Box::new(batch)), None),
    };
    let connection = RequestConnection::held(&state.reads);
    let authentication = match (authentication, claims) {
        (Some(authentication), _) => authentication,
        (None, Ok(Some(claims))) => {
            let authentication = authenticate_claims(&connection, &claims).await;
            state.callers.read(claims.sub, authentication.auth.actor());
            authentication
        }
        (None, Ok(None)) => Authentication::refused(Auth::Anonymous),
        (None, Err(auth)) => Authentication::refused(auth),
    };
    let info = RequestInfo { auth: authentication.auth, client_ip };
    match work {
        Work::Batch(batch) => {
            let version = authentication.journal_version.filter(|_| !fresh);
            execute(state, *batch, info, version, connection).await
        }
        Work::Prepared(operations) => run_and_answer(state, operations, info, None, connection).await,
    }
}

enum Work {
    Batch(Box<BatchRequest>),
    /// Checked already (a request that writes, handed back by `guessed`).
    Prepared(Operations),
}

enum Guessed {
    /// The account matched the guess: the answer.
    Answered(HttpResponse),
    /// The request writes, so it was not run.
    Writes(Operations),
    /// The account no longer matches the guess: the caller as it is now.
    Changed(Authentication),
}

/// Runs a read-only request as `guess`, its reads guarded by "the account
/// is still `guess`" (`users::guard_reads`), and answers only if that is
/// proven: by a guarded read answering rows, or else by reading the account.
async fn guessed(
    state: &AppState,
    batch: BatchRequest,
    client_ip: std::net::IpAddr,
    claims: &Claims,
    guess: Actor,
) -> Guessed {
    let started = Instant::now();
    let operations = Operations::prepare(state, batch);
    if operations.mutated {
        return Guessed::Writes(operations);
    }
    let connection = RequestConnection::held(&state.reads);
    users::guard_reads(&connection, &guess);
    let info = RequestInfo { auth: Auth::Authenticated(guess.clone()), client_ip };
    let ran = run(state, operations, info, &connection).await;
    if connection.guard_proven() {
        // A read answered rows, so the account was still `guess` then.
        return Guessed::Answered(finish(state, ran, true, None, started));
    }
    // Every read answered nothing (or none ran): that proves nothing
    // either way, so the account is read now (on the write pool: the read
    // connection went back when the request ended).
    let authentication = authenticate_claims(&connection, claims).await;
    if authentication.auth.actor() == Some(&guess) {
        return Guessed::Answered(finish(state, ran, true, None, started));
    }
    state.callers.read(claims.sub, authentication.auth.actor());
    Guessed::Changed(authentication)
}

/// Whether the client asked for a fresh answer (`Cache-Control: no-cache`),
/// not one from the response cache.
fn asks_fresh(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("no-cache") || v.contains("no-store"))
}

/// Answers a request: from the response cache when `version` (the data
/// version, None: no reuse) has its answer, else by running it.
async fn execute(
    state: &AppState,
    batch: BatchRequest,
    info: RequestInfo,
    version: Option<i64>,
    connection: RequestConnection,
) -> HttpResponse {
    let started = Instant::now();
    let cache_key = match (&batch, version, &info.auth) {
        (BatchRequest::Single(request), Some(version), Auth::Authenticated(actor)) if state.cache.enabled() => {
            cache_key(request, actor.user_id).map(|key| (version, key))
        }
        _ => None,
    };
    if let Some((version, key)) = &cache_key
        && let Some(body) = state.cache.get(*version, key)
    {
        let operations = operation_names(batch.iter());
        log(&operations, matches!(info.auth, Auth::Authenticated(_)), true, true, started);
        operations.iter().for_each(|operation| state.metrics.observe(operation, started.elapsed()));
        return json_body(body);
    }
    run_and_answer(state, Operations::prepare(state, batch), info, cache_key, connection).await
}

async fn run_and_answer(
    state: &AppState,
    operations: Operations,
    info: RequestInfo,
    cache_key: Option<(i64, CacheKey)>,
    connection: RequestConnection,
) -> HttpResponse {
    let started = Instant::now();
    let authenticated = matches!(info.auth, Auth::Authenticated(_));
    let ran = run(state, operations, info, &connection).await;
    if ran.mutated {
        state.services.bus.poke();
    }
    finish(state, ran, authenticated, cache_key, started)
}

/// A request's operations, parsed and checked (`prepare`), not yet run.
struct Operations {
    requests: Vec<Request>,
    prepared: Vec<Result<Prepared, Box<Refused>>>,
    /// Sent as one operation, not as a batch (of one or more).
    single: bool,
    mutated: bool,
}

impl Operations {
    fn prepare(state: &AppState, batch: BatchRequest) -> Self {
        let (mut requests, single) = match batch {
            BatchRequest::Single(request) => (vec![request], true),
            BatchRequest::Batch(requests) => (requests, false),
        };
        let prepared: Vec<_> =
            requests.iter_mut().map(|request| prepare(request, &state.settings.limits, &state.documents)).collect();
        let mutated = prepared.iter().any(|p| p.as_ref().is_ok_and(|p| p.is_mutation));
        Operations { requests, prepared, single, mutated }
    }
}

/// A request's operations, run.
struct Ran {
    operations: Vec<String>,
    responses: Vec<Response>,
    single: bool,
    mutated: bool,
    /// Every operation may be reused (`prepare`'s verdict).
    cacheable: bool,
}

/// Runs the operations as `info`'s caller; the held connection is given back
/// before writes (they run on the write pool: it would sit idle while other
/// requests wait for it) and at the end.
async fn run(state: &AppState, operations: Operations, info: RequestInfo, connection: &RequestConnection) -> Ran {
    let Operations { requests, prepared, single, mutated } = operations;
    let cacheable = prepared.iter().all(|p| p.as_ref().is_ok_and(|p| p.cacheable));
    let names = operation_names(requests.iter());
    let loaders = Arc::new(Loaders::new(connection.clone(), info.auth.actor().cloned()));
    let runs = requests.into_iter().zip(prepared).map(|(request, prepared)| {
        let request = request.data(info.clone()).data(loaders.clone()).data(json::Spliced);
        async move {
            let limits = &state.settings.limits;
            match prepared {
                Ok(prepared) => {
                    let response = state.revalidation.execute(&state.schema, request).await;
                    with_cost(with_codes(response), prepared.cost, limits)
                }
                Err(refused) => {
                    if refused.cause != "invalid" {
                        state.metrics.refused(refused.cause);
                    }
                    with_cost(Response::from_errors(vec![refused.error]), refused.cost, limits)
                }
            }
        }
    });
    let runs: Vec<_> = runs.collect();
    if mutated {
        connection.release().await;
    }
    let responses = futures_util::future::join_all(runs).await;
    connection.release().await;
    Ran { operations: names, responses, single, mutated, cacheable }
}

/// Logs and counts the operations, encodes the answer and keeps it for reuse
/// under `cache_key` when it may be.
fn finish(
    state: &AppState,
    ran: Ran,
    authenticated: bool,
    cache_key: Option<(i64, CacheKey)>,
    started: Instant,
) -> HttpResponse {
    let Ran { operations, mut responses, single, cacheable, .. } = ran;
    let ok = responses.iter().all(|r| r.is_ok());
    // `cache_control(no_cache)` on a field the query asked for.
    let reusable = responses.iter().all(|r| r.cache_control.max_age != -1);
    log(&operations, authenticated, ok, false, started);
    record(state, &operations, &responses, started);
    let response = if single {
        BatchResponse::Single(responses.pop().unwrap_or_default())
    } else {
        BatchResponse::Batch(responses)
    };
    let body = match json::encode(&response, state.settings.limits.max_response_bytes) {
        Some(body) => Bytes::from(body),
        None => {
            state.metrics.refused("response_size");
            return refusal(
                StatusCode::OK,
                &format!(
                    "the answer is larger than {} bytes; ask for fewer items or fewer fields",
                    state.settings.limits.max_response_bytes
                ),
                "BAD_USER_INPUT",
            );
        }
    };
    if let Some((version, key)) = cache_key
        && cacheable
        && reusable
        && ok
    {
        state.cache.put(version, key, body.clone());
    }
    json_body(body)
}

fn operation_names<'a>(requests: impl Iterator<Item = &'a Request>) -> Vec<String> {
    requests.map(|r| loggable_operation_name(r.operation_name.as_deref())).collect()
}

/// What identifies a single request's answer for this caller; None for
/// requests the cache leaves alone (protocol extensions such as persisted
/// queries).
fn cache_key(request: &Request, user_id: uuid::Uuid) -> Option<CacheKey> {
    if !request.extensions.is_empty() {
        return None;
    }
    Some(CacheKey {
        user_id,
        query: request.query.clone(),
        operation_name: request.operation_name.clone(),
        variables: serde_json::to_string(&request.variables).ok()?,
    })
}

/// Durations by operation, errors by code, refusals the errors tell of.
fn record(state: &AppState, operations: &[String], responses: &[Response], started: Instant) {
    let metrics = &state.metrics;
    for (operation, response) in operations.iter().zip(responses) {
        metrics.observe(operation, started.elapsed());
        for error in &response.errors {
            let code = error.extensions.as_ref().and_then(|e| e.get("code")).and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.as_str()),
                _ => None,
            });
            let code = code.unwrap_or("OTHER");
            metrics.error(code);
            if code == "RATE_LIMITED" {
                metrics.refused("rate_limit");
            } else if error.message.contains("nested too deep") {
                metrics.refused("depth");
            }
        }
    }
}

/// An operation name as it may appear in a log line or a metric label: the
/// characters of a GraphQL name, at most 64 of them.
pub fn loggable_operation_name(name: Option<&str>) -> String {
    match name {
        None => "anonymous".to_owned(),
        Some(name) => {
            let clean: String =
                name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(MAX_LOGGED_NAME).collect();
            if clean.is_empty() { "unnamed".to_owned() } else { clean }
        }
    }
}

const MAX_LOGGED_NAME: usize = 64;

fn log(operations: &[String], authenticated: bool, ok: bool, cached: bool, started: Instant) {
    tracing::info!(
        operations = %operations.join(","),
        authenticated,
        ok,
        cached,
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "graphql"
    );
}

fn json_body(body: Bytes) -> HttpResponse {
    ([(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"))], body).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

fn refusal(status: StatusCode, message: &str, code: &'static str) -> HttpResponse {
    let response = BatchResponse::Single(Response::from_errors(vec![coded(message, code)]));
    (status, Json(response)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_logged_clean_and_short() {
        assert_eq!(loggable_operation_name(None), "anonymous");
        assert_eq!(loggable_operation_name(Some("Board")), "Board");
        assert_eq!(loggable_operation_name(Some("a\nb\u{1b}[31m c")), "ab31mc");
        assert_eq!(loggable_operation_name(Some(&"x".repeat(10_000))).len(), 64);
        assert_eq!(loggable_operation_name(Some("\n\n")), "unnamed");
    }
}
