//! Requests validated before are not validated again.
//!
//! async-graphql checks every request against every validation rule
//! (its Strict mode): on the job detail that was a fifth of the server's
//! instructions, spent finding again that a document and variables it had
//! passed a thousand times were still valid. The outcome depends on nothing
//! but the schema (fixed for the life of the process), the query text, the
//! operation's name and the variables (argument values are checked with the
//! variables put in). So a request equal to one that passed and answered
//! without errors runs on a second copy of the schema in Fast mode, which
//! still works out what execution needs (cache control, depth) but checks
//! no rule again. Everything else, including every request that met an
//! error, is validated in full, with async-graphql's own messages.
//!
//! Requests are known by a keyed hash (`RandomState`: a client cannot
//! aim a request at another's key), at most `capacity` of them, least
//! recently used first out; a flood of distinct requests only churns it.

use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::num::NonZeroUsize;
use std::sync::Mutex;

use async_graphql::{Request, Response, ValidationMode};
use lru::LruCache;

use super::{AppSchema, Services};
use crate::config::Limits;

/// How many passed requests are remembered.
const PASSED_REQUESTS: NonZeroUsize = NonZeroUsize::new(10_000).unwrap();

pub struct Revalidation {
    /// The served schema in Fast mode, for requests that passed before.
    passed_schema: AppSchema,
    passed: Mutex<LruCache<u64, ()>>,
    keys: RandomState,
}

impl Revalidation {
    /// For the schema `super::build` serves with the same arguments.
    pub fn new(services: std::sync::Arc<Services>, limits: &Limits, introspection: bool) -> Self {
        Revalidation {
            passed_schema: super::build_validating(services, limits, introspection, ValidationMode::Fast),
            passed: Mutex::new(LruCache::new(PASSED_REQUESTS)),
            keys: RandomState::new(),
        }
    }

    /// Runs `request` on `schema` (validated in full), or on the Fast copy
    /// when the same request passed before.
    pub async fn execute(&self, schema: &AppSchema, request: Request) -> Response {
        let key = self.key(&request);
        if let Some(key) = key
            && self.lock().get(&key).is_some()
        {
            return self.passed_schema.execute(request).await;
        }
        let response = schema.execute(request).await;
        if let Some(key) = key
            && response.errors.is_empty()
        {
            self.lock().put(key, ());
        }
        response
    }

    /// What the validation outcome depends on; `None` for requests with
    /// uploads or protocol extensions (left alone).
    fn key(&self, request: &Request) -> Option<u64> {
        if !request.uploads.is_empty() || !request.extensions.is_empty() {
            return None;
        }
        let variables = serde_json::to_vec(&request.variables).ok()?;
        let mut hasher = self.keys.build_hasher();
        request.query.hash(&mut hasher);
        request.operation_name.hash(&mut hasher);
        variables.hash(&mut hasher);
        Some(hasher.finish())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<u64, ()>> {
        self.passed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
