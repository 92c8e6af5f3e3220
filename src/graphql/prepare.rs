//! Checks made on the parsed document before anything runs: the alias cap,
//! and whether the operation to run is a mutation (GET refuses those; after
//! one, the event bus is woken). The parse is cached in the request, so
//! execution does not parse again.
//!
//! These live here rather than in async-graphql extensions on purpose: any
//! extension makes every field resolution go through the extension chain,
//! which cost a third of the server's time on the board query.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError};

use super::error::coded;

pub struct Prepared {
    pub is_mutation: bool,
}

/// Parses the request (once) and applies the alias cap.
pub fn prepare(request: &mut Request, max_aliases: usize) -> Result<Prepared, ServerError> {
    let operation_name = request.operation_name.clone();
    let document = request.parsed_query().map_err(|mut err| {
        with_code(&mut err);
        err
    })?;
    let aliases = count_aliases(document);
    if aliases > max_aliases {
        return Err(coded(format!("too many aliases: {aliases} (at most {max_aliases})"), "BAD_USER_INPUT"));
    }
    let is_mutation = document.operations.iter().any(|(name, op)| {
        let selected = match (&operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        };
        selected && op.node.ty == OperationType::Mutation
    });
    Ok(Prepared { is_mutation })
}

/// Every error leaves with a contract code. Errors raised before resolvers
/// run (syntax, validation, variable coercion, depth and complexity caps)
/// have none of their own: they are the client's bad input.
pub fn with_codes(mut response: Response) -> Response {
    response.errors.iter_mut().for_each(with_code);
    response
}

fn with_code(error: &mut ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", "BAD_USER_INPUT");
    }
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    let operations = document.operations.iter().map(|(_, op)| count_in(&op.node.selection_set.node));
    let fragments = document.fragments.values().map(|f| count_in(&f.node.selection_set.node));
    operations.chain(fragments).sum()
}

fn count_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + count_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}
