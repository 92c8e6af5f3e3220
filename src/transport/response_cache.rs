//! Serialized responses to read-only queries, reused while nothing has
//! changed.
//!
//! Every change commits a journal row in its own transaction (and on
//! PostgreSQL journal ids become visible in order), so the journal's newest id,
//! read in the same statement as the caller's account, is a version of all
//! the data. An entry is stored under the version read at the start of the
//! request that computed it and served only to a request that reads the same
//! version: any commit in between, from this process or another, moves the
//! version and the entry is never used again. The account itself is still
//! read on every request, so deactivation and role changes apply at once.
//!
//! Entries are per account (a technician sees only its own work) and per
//! exact request text; queries whose answer depends on the clock
//! (`upcomingJobs`) and responses with errors are never stored.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;
use uuid::Uuid;

/// What must be equal for two requests to get the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub user_id: Uuid,
    pub query: String,
    pub operation_name: Option<String>,
    /// The variables as the client sent them, serialized.
    pub variables: String,
}

pub struct ResponseCache {
    max_bytes: usize,
    inner: Mutex<Entries>,
    hits: prometheus_client::metrics::counter::Counter,
    misses: prometheus_client::metrics::counter::Counter,
}

#[derive(Default)]
struct Entries {
    version: i64,
    bytes: usize,
    map: HashMap<CacheKey, Bytes>,
}

impl Entries {
    /// Forgets everything older than `version`; false if `version` is older
    /// than what is held (a request that started before the last change).
    fn advance_to(&mut self, version: i64) -> bool {
        if version > self.version {
            self.version = version;
            self.bytes = 0;
            self.map.clear();
        }
        version == self.version
    }
}

impl ResponseCache {
    /// A cache of at most `max_bytes` of response bodies; 0 stores nothing.
    /// Lookups are counted on the given metrics.
    pub fn new(
        max_bytes: usize,
        hits: prometheus_client::metrics::counter::Counter,
        misses: prometheus_client::metrics::counter::Counter,
    ) -> Self {
        ResponseCache { max_bytes, inner: Mutex::default(), hits, misses }
    }

    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// The body stored for this request at this version, if any.
    pub fn get(&self, version: i64, key: &CacheKey) -> Option<Bytes> {
        let found = {
            let mut entries = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if entries.advance_to(version) { entries.map.get(key).cloned() } else { None }
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.inc();
        found
    }

    /// Stores a body computed from data at `version`, while there is room.
    pub fn put(&self, version: i64, key: CacheKey, body: Bytes) {
        let key_size = key.query.len() + key.variables.len();
        let size = body.len() + key_size;
        let mut entries = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.advance_to(version) && entries.bytes + size <= self.max_bytes {
            entries.bytes += size;
            if let Some(replaced) = entries.map.insert(key, body) {
                entries.bytes -= replaced.len() + key_size;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(query: &str) -> CacheKey {
        CacheKey { user_id: Uuid::nil(), query: query.into(), operation_name: None, variables: "{}".into() }
    }

    #[test]
    fn an_entry_lives_only_as_long_as_its_version() {
        let cache = ResponseCache::new(1 << 20, Default::default(), Default::default());
        cache.put(7, key("{ a }"), Bytes::from_static(b"A"));
        assert_eq!(cache.get(7, &key("{ a }")), Some(Bytes::from_static(b"A")));
        assert_eq!(cache.get(7, &key("{ b }")), None);
        // A newer version drops it; an older request neither reads nor writes.
        assert_eq!(cache.get(8, &key("{ a }")), None);
        cache.put(7, key("{ a }"), Bytes::from_static(b"stale"));
        assert_eq!(cache.get(8, &key("{ a }")), None);
        assert_eq!(cache.get(7, &key("{ a }")), None);
    }

    #[test]
    fn stores_nothing_past_its_size() {
        let cache = ResponseCache::new(40, Default::default(), Default::default());
        cache.put(1, key("{ a }"), Bytes::from(vec![b'x'; 30]));
        cache.put(1, key("{ b }"), Bytes::from(vec![b'y'; 30]));
        assert!(cache.get(1, &key("{ a }")).is_some());
        assert!(cache.get(1, &key("{ b }")).is_none());
        assert!(!ResponseCache::new(0, Default::default(), Default::default()).enabled());
    }
}
