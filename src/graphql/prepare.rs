//! Checks made on the parsed document before anything runs: the alias cap,
//! the cost cap (`cost.rs`), and whether the operation to run is a mutation
//! (GET refuses those; after one, the event bus is woken). The parse is cached in the request, so
//! execution does not parse again.
//!
//! These live here rather than in async-graphql extensions on purpose: any
//! extension makes every field resolution go through the extension chain,
//! which cost a third of the server's time on the board query.

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError};

use super::cost::CostModel;
use super::documents::DocumentCache;
use super::error::coded;
use crate::config::Limits;

pub struct Prepared {
    pub is_mutation: bool,
    pub is_subscription: bool,
    /// What the answer can hold at most (RULES.md, "Cost").
    pub cost: u64,
    /// A query: its response may be reused while the data is unchanged,
    /// unless a field it asked for is declared `cache_control(no_cache)`
    /// where it is defined (its answer also depends on the clock).
    pub cacheable: bool,
    /// A root field resumes from a cursor (`after`): such a subscription
    /// replays its own past and is never shared.
    pub resumes: bool,
}

/// A request refused before it ran, and its cost (0 when it could not be
/// read far enough to count).
#[derive(Debug)]
pub struct Refused {
    pub error: ServerError,
    pub cost: u64,
    /// For the refusals metric: `invalid` (unreadable), `aliases` or `cost`.
    pub cause: &'static str,
}

/// Parses the request (once, or not at all when its text was parsed
/// before), applies the alias cap, counts the cost and applies the cost cap.
pub fn prepare(request: &mut Request, limits: &Limits, documents: &DocumentCache) -> Result<Prepared, Box<Refused>> {
    documents.parse_into(request).map_err(unreadable)?;
    let operation_name = request.operation_name.clone();
    // The document borrows the request: count with the variables set aside.
    let variables = std::mem::take(&mut request.variables);
    let checked = check(request, operation_name.as_deref(), &variables, limits);
    request.variables = variables;
    checked
}

/// A document that could not be parsed: the client's bad input.
fn unreadable(mut error: ServerError) -> Box<Refused> {
    with_code(&mut error);
    Box::new(Refused { error, cost: 0, cause: "invalid" })
}

fn check(
    request: &mut Request,
    operation_name: Option<&str>,
    variables: &async_graphql::Variables,
    limits: &Limits,
) -> Result<Prepared, Box<Refused>> {
    // Parsed by `prepare` already (this returns the kept parse).
    let document = request.parsed_query().map_err(unreadable)?;
    let cost = CostModel::served().cost(document, operation_name, variables);
    let aliases = count_aliases(document);
    let max_aliases = limits.max_aliases;
    if aliases > max_aliases {
        let error = coded(format!("too many aliases: {aliases} (at most {max_aliases})"), "BAD_USER_INPUT");
        return Err(Box::new(Refused { error, cost, cause: "aliases" }));
    }
    if cost > limits.max_cost {
        let message = format!(
            "the query could return too much: cost {cost} (at most {}); ask for fewer items with `first`",
            limits.max_cost
        );
        return Err(Box::new(Refused { error: coded(message, "BAD_USER_INPUT"), cost, cause: "cost" }));
    }
    let operations: Vec<_> = document
        .operations
        .iter()
        .filter(|(name, _)| match (operation_name, name) {
            (Some(wanted), Some(name)) => wanted == name.as_str(),
            (None, _) => true,
            (Some(_), None) => false,
        })
        .map(|(_, op)| op)
        .collect();
    let selected: Vec<OperationType> = operations.iter().map(|op| op.node.ty).collect();
    let resumes = operations.iter().any(|op| root_argument_named(document, &op.node.selection_set.node, "after", 0));
    let is_mutation = selected.contains(&OperationType::Mutation);
    let cacheable = selected == [OperationType::Query];
    let is_subscription = selected == [OperationType::Subscription];
    Ok(Prepared { is_mutation, is_subscription, cacheable, resumes, cost })
}

/// Whether a root field (also one spread from a fragment) has the argument.
fn root_argument_named(document: &ExecutableDocument, set: &SelectionSet, argument: &str, depth: u32) -> bool {
    // Fragments may spread each other (cycles are refused later, by validation).
    if depth > 16 {
        return true;
    }
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => field.node.arguments.iter().any(|(name, _)| name.node.as_str() == argument),
        Selection::InlineFragment(fragment) => {
            root_argument_named(document, &fragment.node.selection_set.node, argument, depth + 1)
        }
        Selection::FragmentSpread(spread) => {
            document.fragments.get(&spread.node.fragment_name.node).is_some_and(|fragment| {
                root_argument_named(document, &fragment.node.selection_set.node, argument, depth + 1)
            })
        }
    })
}

/// Every answer to a query or mutation says what it cost and what it may.
pub fn with_cost(mut response: Response, cost: u64, limits: &Limits) -> Response {
    let mut report = async_graphql::indexmap::IndexMap::new();
    report.insert(async_graphql::Name::new("requested"), async_graphql::Value::from(cost));
    report.insert(async_graphql::Name::new("maximum"), async_graphql::Value::from(limits.max_cost));
    response.extensions.insert("cost".to_owned(), async_graphql::Value::Object(report));
    response
}

/// Every error leaves with a contract code. Errors raised before resolvers
/// run (syntax, validation, variable coercion, the depth cap)
/// have none of their own: they are the client's bad input.
pub fn with_codes(mut response: Response) -> Response {
    response.errors.iter_mut().for_each(with_code);
    response
}

fn with_code(error: &mut ServerError) {
    let field = argument_named(&error.message);
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", "BAD_USER_INPUT");
        if let Some(field) = field {
            extensions.set("field", field);
        }
    }
}

/// The field async-graphql names when an argument has the wrong type:
/// `Invalid value for argument "input.skillLevel", …` → `skillLevel`.
fn argument_named(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Invalid value for argument \"")?;
    let path = &rest[..rest.find('"')?];
    path.rsplit('.')
        .find(|segment| !segment.is_empty() && !segment.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_owned)
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

#[cfg(test)]
mod tests {
    use super::argument_named;

    #[test]
    fn names_the_argument_of_a_type_error() {
        let named = |m: &str| argument_named(m);
        assert_eq!(
            named(r#"Invalid value for argument "input.skillLevel", expected type "Int""#).as_deref(),
            Some("skillLevel")
        );
        assert_eq!(named(r#"Invalid value for argument "first", expected type "Int""#).as_deref(), Some("first"));
        assert_eq!(
            named(r#"Invalid value for argument "input.materials.0", expected type "MaterialInput""#).as_deref(),
            Some("materials")
        );
        assert_eq!(named(r#"Failed to parse "Decimal": Invalid decimal"#), None);
    }
}
