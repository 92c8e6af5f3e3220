//! `schema.graphql` is what `fieldforge print-schema` prints, and the served
//! schema matches the contract (`../shared/contract/fieldforge.graphql`, with
//! a copy in `tests/contract/` for clones without the shared folder).

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{ServiceDocument, TypeKind, TypeSystemDefinition};

/// Contract items not served yet: `Type` or `Type.field`. Each issue shortens
/// this list; the test fails both on a missing item not listed here and on a
/// listed item that is in fact served (so the list never goes stale).
const NOT_BUILT: &[&str] = &[];

#[test]
fn schema_file_is_fresh() {
    let on_disk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        on_disk == fieldforge::graphql::sdl(),
        "schema.graphql is stale: run `cargo run -- print-schema > schema.graphql`"
    );
}

#[test]
fn contract_copy_matches_shared_contract() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/contract/fieldforge.graphql");
    if let Ok(shared) = std::fs::read_to_string(shared) {
        assert_eq!(shared, contract_text(), "tests/contract/fieldforge.graphql differs from the shared contract");
    }
}

#[test]
fn rules_copy_matches_shared_contract() {
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/contract/RULES.md");
    let copy = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract/RULES.md");
    if let Ok(shared) = std::fs::read_to_string(shared) {
        assert_eq!(
            shared,
            std::fs::read_to_string(copy).unwrap(),
            "tests/contract/RULES.md differs from the shared contract"
        );
    }
}

fn contract_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/contract/fieldforge.graphql")).unwrap()
}

/// type name → (kind, field or value name → rendered type with arguments).
type Shape = BTreeMap<String, (&'static str, BTreeMap<String, String>)>;

fn shape(document: &ServiceDocument) -> Shape {
    let mut shape = Shape::new();
    for definition in &document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = &ty.node;
        let (kind, members): (&'static str, BTreeMap<String, String>) = match &ty.kind {
            TypeKind::Scalar => ("scalar", BTreeMap::new()),
            TypeKind::Object(object) => (
                "type",
                object
                    .fields
                    .iter()
                    .map(|f| {
                        let args: Vec<String> = f
                            .node
                            .arguments
                            .iter()
                            .map(|a| format!("{}: {}", a.node.name.node, a.node.ty.node))
                            .collect();
                        (f.node.name.node.to_string(), format!("({}) {}", args.join(", "), f.node.ty.node))
                    })
                    .collect(),
            ),
            TypeKind::InputObject(input) => (
                "input",
                input.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string())).collect(),
            ),
            TypeKind::Enum(e) => {
                ("enum", e.values.iter().map(|v| (v.node.value.node.to_string(), String::new())).collect())
            }
            TypeKind::Interface(_) => ("interface", BTreeMap::new()),
            TypeKind::Union(_) => ("union", BTreeMap::new()),
        };
        shape.insert(ty.name.node.to_string(), (kind, members));
    }
    shape
}

#[test]
fn served_schema_matches_contract() {
    let contract = shape(&parse_schema(contract_text()).expect("contract parses"));
    let served = shape(&parse_schema(fieldforge::graphql::sdl()).expect("served schema parses"));
    let not_built: BTreeSet<&str> = NOT_BUILT.iter().copied().collect();
    let mut problems = Vec::new();
    let mut missing = BTreeSet::new();

    for (name, (kind, members)) in &contract {
        let Some((served_kind, served_members)) = served.get(name) else {
            missing.insert(name.clone());
            continue;
        };
        if kind != served_kind {
            problems.push(format!("{name}: contract has a {kind}, served a {served_kind}"));
            continue;
        }
        for (member, contract_type) in members {
            let item = format!("{name}.{member}");
            match served_members.get(member) {
                None => {
                    missing.insert(item);
                }
                Some(served_type) if served_type != contract_type => {
                    problems.push(format!("{item}: contract `{contract_type}`, served `{served_type}`"));
                }
                Some(_) => {}
            }
        }
    }
    for item in &missing {
        let type_name = item.split('.').next().unwrap();
        if !not_built.contains(item.as_str()) && !not_built.contains(type_name) {
            problems.push(format!("{item}: in the contract but not served (and not on NOT_BUILT)"));
        }
    }
    for item in &not_built {
        if !missing.contains(*item) {
            problems.push(format!("{item}: on NOT_BUILT but served; remove it from the list"));
        }
    }
    assert!(problems.is_empty(), "schema differs from the contract:\n{}", problems.join("\n"));
}
