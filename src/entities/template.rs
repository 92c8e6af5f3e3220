//! Statements built once and reused with new values.
//!
//! Building a statement with sea-query (the select, its joins and columns,
//! then its text) is pure work on every request: for the job detail (its
//! parties, invoice, payments and lines in one UNION) it was a third of the
//! server's instructions, to write the same text again around a new id. A
//! `Template` keeps the text a statement of one shape is built to, per
//! backend, and afterwards pairs it with the request's values.
//!
//! A template's shape is everything its text depends on: each use site
//! keeps one template per shape (e.g. per role when a role adds a join).
//! The first build is checked: its values must be exactly the values the
//! caller declares, in order, or the text is never reused (that site keeps
//! building every time). Each use site's tests build it for two sets of
//! values and compare the reused statement with a fresh build.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use sea_orm::{DbBackend, Statement, Value, Values};

pub struct Template {
    /// Per backend (PostgreSQL, SQLite, MySQL): the text, or None when the
    /// first build did not carry exactly the declared values.
    built: [OnceLock<Option<Kept>>; 3],
}

impl Template {
    pub const fn new() -> Self {
        Template { built: [const { OnceLock::new() }; 3] }
    }

    /// The statement for `values`: the kept text with them, or `build()`
    /// (which must carry exactly `values`, in order) the first time.
    pub fn statement(&self, backend: DbBackend, values: Vec<Value>, build: impl FnOnce() -> Statement) -> Statement {
        let slot = &self.built[slot(backend)];
        if let Some(Some(kept)) = slot.get() {
            let values = (kept.with_values || !values.is_empty()).then_some(Values(values));
            return Statement { sql: kept.sql.clone(), values, db_backend: backend };
        }
        let statement = build();
        let declared = statement.values.as_ref().map_or(values.is_empty(), |built| built.0 == values);
        let kept = Kept { sql: statement.sql.clone(), with_values: statement.values.is_some() };
        let _ = slot.set(declared.then_some(kept));
        statement
    }
}

/// A kept text, and whether its build carried a list of values (even an
/// empty one), so that a reuse is equal to a fresh build.
struct Kept {
    sql: String,
    with_values: bool,
}

impl Template {
    /// Whether `backend`'s text is kept for reuse (for use sites' tests).
    pub fn kept(&self, backend: DbBackend) -> bool {
        matches!(self.built[slot(backend)].get(), Some(Some(_)))
    }
}

/// The templates of a use site whose shapes are many (a list's filters and
/// page size): one per shape met, for at most `MOST_SHAPES` shapes; a shape
/// met after those is built every time.
pub struct Templates<K> {
    kept: Mutex<HashMap<K, Arc<Template>>>,
}

const MOST_SHAPES: usize = 256;

impl<K: Hash + Eq> Templates<K> {
    pub fn new() -> Self {
        Templates { kept: Mutex::new(HashMap::new()) }
    }

    /// As `Template::statement`, for the template of `shape`.
    pub fn statement(
        &self,
        shape: K,
        backend: DbBackend,
        values: Vec<Value>,
        build: impl FnOnce() -> Statement,
    ) -> Statement {
        match self.template(shape) {
            Some(template) => template.statement(backend, values, build),
            None => build(),
        }
    }

    fn template(&self, shape: K) -> Option<Arc<Template>> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(template) = kept.get(&shape) {
            return Some(template.clone());
        }
        (kept.len() < MOST_SHAPES).then(|| kept.entry(shape).or_insert_with(|| Arc::new(Template::new())).clone())
    }

    /// Whether `shape`'s text for `backend` is kept for reuse (for use
    /// sites' tests).
    pub fn kept(&self, shape: &K, backend: DbBackend) -> bool {
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.get(shape).is_some_and(|template| template.kept(backend))
    }
}

impl<K: Hash + Eq> Default for Templates<K> {
    fn default() -> Self {
        Templates::new()
    }
}

fn slot(backend: DbBackend) -> usize {
    match backend {
        DbBackend::Postgres => 0,
        DbBackend::Sqlite => 1,
        _ => 2,
    }
}

impl Default for Template {
    fn default() -> Self {
        Template::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(n: i64, m: i64) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, "SELECT $1 + $2", [n.into(), m.into()])
    }

    #[test]
    fn the_text_is_built_once_and_reused_with_new_values() {
        let template = Template::new();
        let first = template.statement(DbBackend::Postgres, vec![1i64.into(), 2i64.into()], || select(1, 2));
        assert_eq!(first, select(1, 2));
        let reused = template.statement(DbBackend::Postgres, vec![3i64.into(), 4i64.into()], || unreachable!("kept"));
        assert_eq!(reused, select(3, 4));
    }

    #[test]
    fn each_backend_has_its_own_text() {
        let template = Template::new();
        template.statement(DbBackend::Postgres, vec![1i64.into(), 2i64.into()], || select(1, 2));
        let sqlite = Statement::from_sql_and_values(DbBackend::Sqlite, "SELECT ? + ?", [5i64.into(), 6i64.into()]);
        assert_eq!(template.statement(DbBackend::Sqlite, vec![5i64.into(), 6i64.into()], || sqlite.clone()), sqlite);
        let reused = template.statement(DbBackend::Sqlite, vec![7i64.into(), 8i64.into()], || unreachable!("kept"));
        assert_eq!(reused.sql, "SELECT ? + ?");
    }

    #[test]
    fn each_shape_has_its_own_template_up_to_a_bound() {
        let templates = Templates::<usize>::new();
        let sum = |n: i64| Statement::from_sql_and_values(DbBackend::Postgres, "SELECT $1", [n.into()]);
        for shape in 0..MOST_SHAPES + 10 {
            templates.statement(shape, DbBackend::Postgres, vec![1i64.into()], || sum(1));
        }
        assert!(templates.kept(&0, DbBackend::Postgres) && templates.kept(&(MOST_SHAPES - 1), DbBackend::Postgres));
        assert!(!templates.kept(&MOST_SHAPES, DbBackend::Postgres), "past the bound, built every time");
        let reused = templates.statement(3, DbBackend::Postgres, vec![5i64.into()], || unreachable!("kept"));
        assert_eq!(reused, sum(5));
        let mut built = false;
        templates.statement(MOST_SHAPES + 1, DbBackend::Postgres, vec![5i64.into()], || {
            built = true;
            sum(5)
        });
        assert!(built);
    }

    #[test]
    fn a_build_with_other_values_than_declared_is_never_reused() {
        let template = Template::new();
        // Declared: one value (the build carries two).
        template.statement(DbBackend::Postgres, vec![1i64.into()], || select(1, 2));
        assert!(!template.kept(DbBackend::Postgres));
        let mut built = false;
        let again = template.statement(DbBackend::Postgres, vec![3i64.into()], || {
            built = true;
            select(3, 4)
        });
        assert!(built, "built again");
        assert_eq!(again, select(3, 4));
    }
}
