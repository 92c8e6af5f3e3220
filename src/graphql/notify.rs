//! After a request that ran a mutation, wake the event bus so this process's
//! subscribers hear of it at once (other processes hear through NOTIFY).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Response, ServerResult, Variables};

use crate::events::EventBus;

pub struct WakeOnMutation(pub Arc<EventBus>);

impl ExtensionFactory for WakeOnMutation {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(WakeOnMutationExtension { bus: self.0.clone(), mutation: AtomicBool::new(false) })
    }
}

struct WakeOnMutationExtension {
    bus: Arc<EventBus>,
    mutation: AtomicBool,
}

#[async_trait::async_trait]
impl Extension for WakeOnMutationExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if document.operations.iter().any(|(_, op)| op.node.ty == OperationType::Mutation) {
            self.mutation.store(true, Ordering::Relaxed);
        }
        Ok(document)
    }

    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        if self.mutation.load(Ordering::Relaxed) {
            self.bus.poke();
        }
        response
    }
}
