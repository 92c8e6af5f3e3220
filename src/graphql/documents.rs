//! Parsed GraphQL documents kept by query text, so the queries a frontend
//! sends again and again are parsed once. Bounded: at most `capacity`
//! documents, least recently used first out, and only queries up to
//! `MAX_QUERY_BYTES` (a client sending endless distinct queries only churns
//! the cache; it never grows it).

use std::num::NonZeroUsize;
use std::sync::Mutex;

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError};
use lru::LruCache;

/// Longer queries are parsed every time (their parse is not the cost).
const MAX_QUERY_BYTES: usize = 16 * 1024;

pub struct DocumentCache {
    documents: Option<Mutex<LruCache<String, ExecutableDocument>>>,
}

impl DocumentCache {
    /// Holds up to `capacity` documents; 0 keeps none.
    pub fn new(capacity: usize) -> Self {
        DocumentCache { documents: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))) }
    }

    /// Gives the request its parsed document: a copy of the kept one, or a
    /// fresh parse (kept when it succeeds). A parse error is the client's.
    pub fn parse_into(&self, request: &mut Request) -> Result<(), ServerError> {
        let Some(documents) = self.documents.as_ref().filter(|_| request.query.len() <= MAX_QUERY_BYTES) else {
            return request.parsed_query().map(drop);
        };
        let kept = documents.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&request.query).cloned();
        if let Some(document) = kept {
            request.set_parsed_query(document);
            return Ok(());
        }
        let document = request.parsed_query()?.clone();
        let query = request.query.clone();
        documents.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).put(query, document);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Request;

    use super::DocumentCache;

    fn operation_names(request: &mut Request) -> Vec<String> {
        let document = request.parsed_query().expect("parsed");
        document.operations.iter().filter_map(|(name, _)| name.map(|n| n.to_string())).collect()
    }

    #[test]
    fn a_kept_document_is_the_one_its_text_parses_to() {
        let cache = DocumentCache::new(2);
        for _ in 0..2 {
            let mut request = Request::new("query Board { jobs { nodes { id } } }");
            cache.parse_into(&mut request).expect("valid");
            assert_eq!(operation_names(&mut request), ["Board"]);
        }
        let mut other = Request::new("query Week { jobs { nodes { id } } }");
        cache.parse_into(&mut other).expect("valid");
        assert_eq!(operation_names(&mut other), ["Week"]);
    }

    #[test]
    fn a_bad_document_is_refused_every_time_and_never_kept() {
        let cache = DocumentCache::new(4);
        for _ in 0..2 {
            let mut request = Request::new("query { jobs { ");
            assert!(cache.parse_into(&mut request).is_err());
        }
        let kept = cache.documents.as_ref().map(|d| d.lock().unwrap().len());
        assert_eq!(kept, Some(0));
    }

    #[test]
    fn it_holds_no_more_than_its_capacity() {
        let cache = DocumentCache::new(3);
        for n in 0..10 {
            let mut request = Request::new(format!("query Q{n} {{ jobs {{ nodes {{ id }} }} }}"));
            cache.parse_into(&mut request).expect("valid");
        }
        let kept = cache.documents.as_ref().map(|d| d.lock().unwrap().len());
        assert_eq!(kept, Some(3));
    }
}
