//! Tidy checks (in the spirit of rust-analyzer's): the source is read as
//! text and the layering of ARCHITECTURE.md is enforced. A request flows
//! transport → graphql → domain → journal/auth → entities, never up; each
//! failure names the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top first, and which crate modules each may name.
const LAYERS: &[(&str, &[&str])] = &[
    ("transport", &["transport", "graphql", "domain", "journal", "auth", "entities", "config", "db", "webhooks"]),
    ("webhooks", &["webhooks", "domain", "journal", "entities", "config"]),
    ("graphql", &["graphql", "domain", "journal", "auth", "entities", "config"]),
    ("domain", &["domain", "journal", "auth", "entities"]),
    ("journal", &["journal", "entities"]),
    ("auth", &["auth", "entities"]),
    ("entities", &["entities"]),
];

/// Outside crates a layer must never name.
const FORBIDDEN_CRATES: &[(&str, &[&str])] = &[
    ("graphql", &["axum"]),
    ("webhooks", &["async_graphql", "axum"]),
    ("domain", &["async_graphql", "axum"]),
    ("journal", &["async_graphql", "axum"]),
    ("auth", &["async_graphql", "axum"]),
    ("entities", &["async_graphql", "axum"]),
];

struct Line {
    file: PathBuf,
    number: usize,
    code: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code lines of a layer's files, comments stripped.
fn lines_of(layer: &str) -> Vec<Line> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (index, raw) in text.lines().enumerate() {
            let code = raw.split("//").next().unwrap_or_default().trim().to_owned();
            if !code.is_empty() {
                let file = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().to_owned();
                lines.push(Line { file, number: index + 1, code });
            }
        }
    }
    lines
}

/// The crate modules a line names (`crate::domain::…` → `domain`).
fn crate_modules(code: &str) -> Vec<&str> {
    code.match_indices("crate::")
        .filter(|(at, _)| !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$'))
        .filter_map(|(at, _)| {
            let rest = &code[at + "crate::".len()..];
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        })
        .collect()
}

/// Whether the line names `krate` as a path root (`axum::…`, `use axum`).
fn names_crate(code: &str, krate: &str) -> bool {
    code.match_indices(krate).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = &code[at + krate.len()..];
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            && (after.starts_with("::") || after.starts_with(';') || after.starts_with(" as ") || after.is_empty())
    })
}

fn layer_violations() -> Vec<String> {
    let mut found = Vec::new();
    for (layer, allowed) in LAYERS {
        for line in lines_of(layer) {
            for module in crate_modules(&line.code) {
                if !allowed.contains(&module) {
                    found.push(format!(
                        "{}:{}: `{layer}` names `crate::{module}`, which it must not ({layer} may name: {})",
                        line.file.display(),
                        line.number,
                        allowed.join(", ")
                    ));
                }
            }
        }
    }
    for (layer, crates) in FORBIDDEN_CRATES {
        for line in lines_of(layer) {
            for krate in *crates {
                if names_crate(&line.code, krate) {
                    found.push(format!("{}:{}: `{layer}` names `{krate}`", line.file.display(), line.number));
                }
            }
        }
    }
    found
}

#[test]
fn layers_only_import_downward() {
    let found = layer_violations();
    assert!(found.is_empty(), "imports that run the wrong way:\n{}", found.join("\n"));
}

/// The GraphQL layer reaches the database only through domain functions
/// (loaders included): it may hold a connection to pass down, nothing more.
#[test]
fn graphql_and_transport_run_no_queries() {
    let mut found = Vec::new();
    for layer in ["graphql", "transport"] {
        for line in lines_of(layer) {
            let names_sea_orm = names_crate(&line.code, "sea_orm");
            let only_the_handle =
                line.code.contains("sea_orm::DatabaseConnection") && line.code.matches("sea_orm").count() == 1;
            if names_sea_orm && !only_the_handle {
                found.push(format!("{}:{}: `{layer}` uses SeaORM: {}", line.file.display(), line.number, line.code));
            }
        }
    }
    assert!(found.is_empty(), "queries outside the domain:\n{}", found.join("\n"));
}

/// A domain write opens its transaction through `journal::Journaled`, whose
/// commit takes the change: a write that does not journal does not compile.
#[test]
fn domain_writes_open_journalled_transactions_only() {
    let found: Vec<String> = lines_of("domain")
        .into_iter()
        .filter(|line| line.code.contains(".begin()") || line.code.contains("TransactionTrait"))
        .map(|line| format!("{}:{}: {}", line.file.display(), line.number, line.code))
        .collect();
    assert!(found.is_empty(), "transactions that can commit without a journal entry:\n{}", found.join("\n"));
}

/// Journal event names live in one table (`journal/change.rs`).
#[test]
fn event_names_are_written_once() {
    let names =
        ["\"job.", "\"invoice.", "\"payment.", "\"user.", "\"auth.", "\"customer.", "\"technician.", "\"schedule."];
    let mut found = Vec::new();
    for layer in ["transport", "graphql", "domain", "journal", "auth", "entities", "webhooks"] {
        let mut in_tests: Option<PathBuf> = None;
        for line in lines_of(layer) {
            if line.file.ends_with("journal/change.rs") || line.file.ends_with("journal/entry.rs") {
                continue;
            }
            // A file's unit tests (its `#[cfg(test)]` module, last by
            // convention) may spell names to check the table against.
            if line.code == "#[cfg(test)]" {
                in_tests = Some(line.file.clone());
            }
            if in_tests.as_ref() == Some(&line.file) {
                continue;
            }
            if names.iter().any(|name| line.code.contains(name)) {
                found.push(format!("{}:{}: {}", line.file.display(), line.number, line.code));
            }
        }
    }
    assert!(found.is_empty(), "event names outside journal/change.rs:\n{}", found.join("\n"));
}

/// The domain's modules import each other without cycles.
#[test]
fn domain_modules_have_no_cycles() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let modules: BTreeSet<String> =
        lines_of("domain").iter().map(|line| line.file.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    for line in lines_of("domain") {
        let from = line.file.file_stem().unwrap().to_string_lossy().into_owned();
        let mut named = Vec::new();
        for prefix in ["super::", "crate::domain::"] {
            for (at, _) in line.code.match_indices(prefix) {
                let rest = &line.code[at + prefix.len()..];
                if let Some(group) = rest.strip_prefix('{') {
                    let group = group.split('}').next().unwrap_or_default();
                    named.extend(
                        group.split(',').map(|item| item.trim().split("::").next().unwrap_or_default().to_owned()),
                    );
                } else {
                    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
                    named.push(rest[..end].to_owned());
                }
            }
        }
        for to in named {
            if modules.contains(&to) && to != from && from != "mod" {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    let cycles = cycles_of(&graph);
    assert!(cycles.is_empty(), "cycles between domain modules:\n{}", cycles.join("\n"));
}

/// Every cycle found by a depth-first search, as "a → b → a".
fn cycles_of(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<String>,
    ) {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            found.push(cycle.join(" → "));
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, found);
        }
        path.pop();
        done.insert(node.to_owned());
    }
    let (mut done, mut found) = (BTreeSet::new(), Vec::new());
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

/// The checker itself: a planted upward import is reported with its line.
#[test]
fn the_checks_catch_what_they_claim_to() {
    assert_eq!(crate_modules("use crate::graphql::types::Job;"), vec!["graphql"]);
    assert_eq!(crate_modules("let x = $crate::domain::page::Page;"), Vec::<&str>::new());
    assert!(names_crate("use async_graphql::Enum;", "async_graphql"));
    assert!(names_crate("#[derive(async_graphql::Enum)]", "async_graphql"));
    assert!(!names_crate("// async_graphql_value", "async_graphql"));
    assert!(!names_crate("use my_axum_helper::x;", "axum"));
    let mut graph = BTreeMap::new();
    graph.insert("jobs".to_owned(), BTreeSet::from(["billing".to_owned()]));
    graph.insert("billing".to_owned(), BTreeSet::from(["jobs".to_owned()]));
    assert_eq!(cycles_of(&graph), vec!["billing → jobs → billing"]);
}
