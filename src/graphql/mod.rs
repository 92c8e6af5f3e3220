//! The GraphQL layer: thin resolvers that read arguments, take the caller
//! from the context, call the domain and map its errors.

pub mod at_hand;
pub mod connection;
pub mod context;
pub mod cost;
pub mod documents;
pub mod enums;
pub mod error;
pub mod ids;
pub mod json;
pub mod lenient;
pub mod loaders;
pub mod mutation;
pub mod preload;
pub mod prepare;
pub mod query;
pub mod revalidation;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::{Schema, SchemaBuilder, ValidationMode};

use crate::config::Limits;
pub use context::{Auth, RequestInfo, Services};

pub type AppSchema = Schema<query::Query, mutation::Mutation, subscription::SubscriptionRoot>;

fn builder() -> SchemaBuilder<query::Query, mutation::Mutation, subscription::SubscriptionRoot> {
    Schema::build(query::Query::default(), mutation::Mutation::default(), subscription::SubscriptionRoot)
}

/// The served schema, with its limits and the process-wide services.
/// `introspection: false` answers `__schema`/`__type` with an error (for
/// deployments that do not publish their schema).
pub fn build(services: Arc<Services>, limits: &Limits, introspection: bool) -> AppSchema {
    build_validating(services, limits, introspection, ValidationMode::Strict)
}

/// The served schema, validating requests in `mode` (`revalidation.rs`
/// keeps a Fast copy for requests that passed in full before).
fn build_validating(services: Arc<Services>, limits: &Limits, introspection: bool, mode: ValidationMode) -> AppSchema {
    let builder = builder().data(services).limit_depth(limits.max_depth).validation_mode(mode);
    if introspection { builder.finish() } else { builder.disable_introspection().finish() }
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    builder().finish().sdl()
}
