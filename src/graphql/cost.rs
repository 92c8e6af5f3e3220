//! The cost of an operation, as RULES.md defines it, counted on the parsed
//! document before anything runs: what the answer can hold at most.
//!
//! - every field costs 1;
//! - a connection field costs 1 + `first` (default 20) times its selection,
//!   with `totalCount` and `pageInfo` counted once;
//! - a plain list field costs 1 + the most it can hold times its selection:
//!   `TechnicianCandidate.components` 5, `TechnicianSuggestions.candidates`
//!   the enclosing call's `first`, every other list 100;
//! - fragments count as if written out (each fragment is costed once and
//!   reused, so nesting fragments cannot make the count itself expensive);
//! - introspection (`__schema`, `__type`) counts one per field, so schema
//!   tools are never refused.
//!
//! One pass over the document rather than async-graphql's per-field
//! `complexity` attributes: those cannot count `totalCount`/`pageInfo` once
//! while multiplying the rest, nor pass a call's `first` to a nested list,
//! and the count has to exist before execution anyway to be reported on a
//! refused request. The shapes of fields come from the served SDL, so a new
//! list or connection is counted without anyone remembering to annotate it.

use std::collections::HashMap;
use std::sync::OnceLock;

use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationDefinition, Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{Name, Value as ConstValue, Variables};
use async_graphql_value::Value;

/// `first` when a connection is asked for without one.
pub const DEFAULT_FIRST: u64 = 20;
/// The most a plain list holds unless RULES.md says otherwise.
pub const LIST_BOUND: u64 = 100;
/// Deeper selections than this are not counted but refused (the depth cap
/// refuses them anyway; this keeps the walk's recursion bounded).
const MAX_WALK_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// A scalar, an enum or an object: 1 plus its selection.
    Single,
    /// `first` times the selection; `totalCount` and `pageInfo` once.
    Connection,
    /// At most this many items.
    List(u64),
    /// At most the enclosing field's `first` items.
    ListOfParentFirst,
}

#[derive(Debug, Clone)]
struct FieldInfo {
    shape: Shape,
    /// The named type of the field's values.
    type_name: String,
    /// The default of its `first` argument, if it has one.
    default_first: Option<u64>,
}

/// Field shapes per object type, read from an SDL.
#[derive(Debug, Default)]
pub struct CostModel {
    types: HashMap<String, HashMap<String, FieldInfo>>,
}

impl CostModel {
    pub fn from_sdl(sdl: &str) -> CostModel {
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else { return CostModel::default() };
        let mut types = HashMap::new();
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else { continue };
            let fields = match &ty.node.kind {
                TypeKind::Object(object) => &object.fields,
                TypeKind::Interface(interface) => &interface.fields,
                _ => continue,
            };
            let parent = ty.node.name.node.as_str();
            let mut shapes = HashMap::new();
            for field in fields {
                let field = &field.node;
                let name = field.name.node.as_str();
                let default_first = field
                    .arguments
                    .iter()
                    .find(|a| a.node.name.node == "first")
                    .and_then(|a| a.node.default_value.as_ref())
                    .and_then(|v| match &v.node {
                        ConstValue::Number(n) => n.as_i64(),
                        _ => None,
                    })
                    .map(|v| v.max(0) as u64);
                let has_first = field.arguments.iter().any(|a| a.node.name.node == "first");
                let (is_list, type_name) = unwrap_type(&field.ty.node);
                let shape = if type_name.ends_with("Connection") && has_first {
                    Shape::Connection
                } else if !is_list || parent.ends_with("Connection") || parent.ends_with("Edge") {
                    // A connection's edges and nodes are covered by its `first`.
                    Shape::Single
                } else {
                    match (parent, name) {
                        ("TechnicianCandidate", "components") => Shape::List(5),
                        ("TechnicianSuggestions", "candidates") => Shape::ListOfParentFirst,
                        _ => Shape::List(LIST_BOUND),
                    }
                };
                shapes.insert(name.to_owned(), FieldInfo { shape, type_name: type_name.to_owned(), default_first });
            }
            types.insert(parent.to_owned(), shapes);
        }
        CostModel { types }
    }

    /// The model of the served schema, built once.
    pub fn served() -> &'static CostModel {
        static MODEL: OnceLock<CostModel> = OnceLock::new();
        MODEL.get_or_init(|| CostModel::from_sdl(&super::sdl()))
    }

    /// The cost of the operation that would run (by name, or the only one;
    /// with several and no name, the dearest), saturating at `u64::MAX`.
    pub fn cost(&self, document: &ExecutableDocument, operation_name: Option<&str>, variables: &Variables) -> u64 {
        document
            .operations
            .iter()
            .filter(|(name, _)| match (operation_name, name) {
                (Some(wanted), Some(name)) => wanted == name.as_str(),
                (Some(_), None) => false,
                (None, _) => true,
            })
            .map(|(_, operation)| {
                let root = match operation.node.ty {
                    async_graphql::parser::types::OperationType::Query => "Query",
                    async_graphql::parser::types::OperationType::Mutation => "Mutation",
                    async_graphql::parser::types::OperationType::Subscription => "Subscription",
                };
                let mut walk = Walk {
                    model: self,
                    document,
                    operation: &operation.node,
                    variables,
                    fragments: HashMap::new(),
                    expanding: Vec::new(),
                };
                walk.selection(&operation.node.selection_set.node, Some(root), None, 0)
            })
            .max()
            .unwrap_or(0)
    }
}

/// Whether a type is a list (at any level), and its named type.
fn unwrap_type(ty: &Type) -> (bool, &str) {
    match &ty.base {
        BaseType::Named(name) => (false, name.as_str()),
        BaseType::List(inner) => (true, unwrap_type(inner).1),
    }
}

struct Walk<'a> {
    model: &'a CostModel,
    document: &'a ExecutableDocument,
    operation: &'a OperationDefinition,
    variables: &'a Variables,
    /// Fragment costs already counted, by (name, enclosing `first`, typed).
    fragments: HashMap<(&'a str, Option<u64>, bool), u64>,
    /// Fragments being expanded (a cycle is invalid; it counts nothing).
    expanding: Vec<&'a str>,
}

impl<'a> Walk<'a> {
    /// `parent_type` is None inside introspection or an unknown type: there
    /// every field counts 1 and nothing multiplies.
    fn selection(&mut self, set: &'a SelectionSet, parent_type: Option<&str>, first: Option<u64>, depth: usize) -> u64 {
        if depth > MAX_WALK_DEPTH {
            return u64::MAX;
        }
        set.items
            .iter()
            .fold(0u64, |total, item| total.saturating_add(self.item(&item.node, parent_type, first, depth)))
    }

    fn item(&mut self, item: &'a Selection, parent_type: Option<&str>, first: Option<u64>, depth: usize) -> u64 {
        match item {
            Selection::Field(field) => self.field(&field.node, parent_type, first, depth),
            Selection::InlineFragment(fragment) => {
                let fragment = &fragment.node;
                let ty = match (&fragment.type_condition, parent_type) {
                    (Some(condition), Some(_)) => Some(condition.node.on.node.as_str()),
                    (_, parent) => parent,
                };
                self.selection(&fragment.selection_set.node, ty, first, depth + 1)
            }
            Selection::FragmentSpread(spread) => {
                self.spread(spread.node.fragment_name.node.as_str(), parent_type, first, depth)
            }
        }
    }

    fn spread(&mut self, name: &'a str, parent_type: Option<&str>, first: Option<u64>, depth: usize) -> u64 {
        if let Some(cost) = self.fragments.get(&(name, first, parent_type.is_some())) {
            return *cost;
        }
        let Some(fragment) = self.document.fragments.get(name) else { return 0 };
        if self.expanding.contains(&name) {
            return 0;
        }
        self.expanding.push(name);
        let ty = parent_type.map(|_| fragment.node.type_condition.node.on.node.as_str());
        let cost = self.selection(&fragment.node.selection_set.node, ty, first, depth + 1);
        self.expanding.pop();
        self.fragments.insert((name, first, parent_type.is_some()), cost);
        cost
    }

    fn field(
        &mut self,
        field: &'a async_graphql::parser::types::Field,
        parent_type: Option<&str>,
        enclosing_first: Option<u64>,
        depth: usize,
    ) -> u64 {
        let name = field.name.node.as_str();
        let info = parent_type
            .filter(|_| !name.starts_with("__"))
            .and_then(|parent| self.model.types.get(parent))
            .and_then(|fields| fields.get(name))
            .cloned();
        let children = &field.selection_set.node;
        let Some(info) = info else {
            // Introspection, `__typename`, or a field the schema does not
            // have (validation refuses that one): one per field.
            return 1u64.saturating_add(self.selection(children, None, None, depth + 1));
        };
        let first = self.first_argument(field).or(info.default_first);
        let child_type = Some(info.type_name.as_str());
        match info.shape {
            Shape::Single => 1u64.saturating_add(self.selection(children, child_type, first, depth + 1)),
            Shape::List(bound) => {
                let each = self.selection(children, child_type, first, depth + 1);
                1u64.saturating_add(bound.saturating_mul(each))
            }
            Shape::ListOfParentFirst => {
                let bound = enclosing_first.unwrap_or(LIST_BOUND);
                let each = self.selection(children, child_type, first, depth + 1);
                1u64.saturating_add(bound.saturating_mul(each))
            }
            Shape::Connection => {
                let first = first.unwrap_or(DEFAULT_FIRST);
                let (mut once, mut per_item) = (0u64, 0u64);
                for item in &children.items {
                    let cost = self.item(&item.node, child_type, None, depth + 1);
                    let counted_once = matches!(&item.node, Selection::Field(f)
                        if matches!(f.node.name.node.as_str(), "totalCount" | "pageInfo"));
                    if counted_once {
                        once = once.saturating_add(cost);
                    } else {
                        per_item = per_item.saturating_add(cost);
                    }
                }
                1u64.saturating_add(first.saturating_mul(per_item)).saturating_add(once)
            }
        }
    }

    /// The integer value of the field's `first` argument, variables applied.
    fn first_argument(&self, field: &async_graphql::parser::types::Field) -> Option<u64> {
        let (_, value) = field.arguments.iter().find(|(name, _)| name.node == "first")?;
        let number = match &value.node {
            Value::Number(n) => n.as_i64(),
            Value::Variable(variable) => self.variable(variable).and_then(|v| match v {
                ConstValue::Number(n) => n.as_i64(),
                _ => None,
            }),
            _ => None,
        }?;
        Some(number.max(0) as u64)
    }

    fn variable(&self, name: &Name) -> Option<ConstValue> {
        if let Some(value) = self.variables.get(name) {
            return Some(value.clone());
        }
        self.operation
            .variable_definitions
            .iter()
            .find(|d| d.node.name.node == *name)
            .and_then(|d| d.node.default_value.as_ref())
            .map(|v| v.node.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost_of(query: &str, variables: serde_json::Value) -> u64 {
        let document = async_graphql::parser::parse_query(query).expect("query parses");
        let variables = Variables::from_json(variables);
        CostModel::served().cost(&document, None, &variables)
    }

    #[test]
    fn every_field_costs_one() {
        assert_eq!(cost_of("{ me { id email } }", serde_json::json!({})), 3);
        assert_eq!(cost_of("{ __typename }", serde_json::json!({})), 1);
    }

    #[test]
    fn connections_multiply_by_first_and_count_totals_once() {
        assert_eq!(cost_of("{ jobs(first: 50) { nodes { id title } } }", serde_json::json!({})), 1 + 50 * 3);
        assert_eq!(cost_of("{ jobs { nodes { id } } }", serde_json::json!({})), 1 + 20 * 2);
        assert_eq!(
            cost_of(
                "{ jobs(first: 10) { totalCount pageInfo { hasNextPage } edges { cursor node { id } } } }",
                serde_json::json!({})
            ),
            1 + 10 * (1 + 1 + 2) + 1 + 2
        );
    }

    #[test]
    fn variables_and_their_defaults_apply() {
        let query = "query($n: Int = 7) { jobs(first: $n) { nodes { id } } }";
        assert_eq!(cost_of(query, serde_json::json!({ "n": 5 })), 1 + 5 * 2);
        assert_eq!(cost_of(query, serde_json::json!({})), 1 + 7 * 2);
    }

    #[test]
    fn plain_lists_count_their_bound() {
        let query =
            r#"{ availableTechnicians(startsAt: "2026-01-01T09:00:00Z", endsAt: "2026-01-01T10:00:00Z") { id name } }"#;
        assert_eq!(cost_of(query, serde_json::json!({})), 1 + 100 * 2);
        let nested = "{ technicians(first: 2) { nodes { upcomingJobs { startsAt } } } }";
        assert_eq!(cost_of(nested, serde_json::json!({})), 1 + 2 * (1 + (1 + 100)));
    }

    #[test]
    fn fragments_count_as_written_out() {
        let spread = "{ jobs(first: 10) { nodes { ...F } } } fragment F on Job { id title customer { name } }";
        let inline = "{ jobs(first: 10) { nodes { ... on Job { id title customer { name } } } } }";
        let plain = "{ jobs(first: 10) { nodes { id title customer { name } } } }";
        let expected = 1 + 10 * (1 + 1 + 1 + 2);
        assert_eq!(cost_of(spread, serde_json::json!({})), expected);
        assert_eq!(cost_of(inline, serde_json::json!({})), expected);
        assert_eq!(cost_of(plain, serde_json::json!({})), expected);
    }

    #[test]
    fn nested_amplification_is_counted_before_it_runs() {
        let query = "{ jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { customer { jobs(first: 100) { nodes { id title } } } } } } } } } } } }";
        assert!(cost_of(query, serde_json::json!({})) > 100_000_000);
    }

    #[test]
    fn fragment_fan_out_is_counted_in_linear_time() {
        // Each fragment spreads the next twice: 2^40 fields written out.
        let mut query = String::from("{ me { ...F0 } }");
        for level in 0..40 {
            query.push_str(&format!(" fragment F{level} on User {{ ...F{next} ...F{next} }}", next = level + 1));
        }
        query.push_str(" fragment F40 on User { id }");
        assert_eq!(cost_of(&query, serde_json::json!({})), 1 + (1u64 << 40));
    }

    #[test]
    fn cycles_and_deep_nesting_do_not_hang() {
        let cycle = "{ me { ...A } } fragment A on User { ...B } fragment B on User { ...A }";
        assert_eq!(cost_of(cycle, serde_json::json!({})), 1);
        // The parser stops nesting at 64 levels; fragments can nest further.
        let mut deep = String::from("{ me { ...F0 } }");
        for level in 0..40 {
            deep.push_str(&format!(" fragment F{level} on User {{ technician {{ user {{ ...F{} }} }} }}", level + 1));
        }
        deep.push_str(" fragment F40 on User { id }");
        assert_eq!(cost_of(&deep, serde_json::json!({})), u64::MAX);
    }

    #[test]
    fn introspection_counts_one_per_field() {
        let query = "{ __schema { types { name fields { name type { name } } } } }";
        assert_eq!(cost_of(query, serde_json::json!({})), 7);
    }

    #[test]
    fn the_board_in_the_readme_costs_551() {
        let board = "{ jobs(first: 50) { nodes { id title status customer { name } technician { name } assignment { startsAt endsAt } } } }";
        assert_eq!(cost_of(board, serde_json::json!({})), 1 + 50 * (1 + 3 + 2 + 2 + 3));
        assert_eq!(cost_of(board, serde_json::json!({})), 551);
    }

    #[test]
    fn the_board_is_far_below_the_default_cap() {
        let board = "{ jobs(first: 50) { totalCount nodes { id title status customer { id name } technician { id name } assignment { startsAt endsAt } } pageInfo { hasNextPage endCursor } } }";
        let cost = cost_of(board, serde_json::json!({}));
        assert!(cost < 1_000, "{cost}");
    }
}
