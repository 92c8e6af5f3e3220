//! One statement made of two: a one-row read attached to a request's first
//! read, so that both reach PostgreSQL in a single round trip and answer
//! from one snapshot.
//!
//! The HTTP transport attaches the caller's account to whatever the request
//! reads first (`connection.rs`): a second round trip per request was about
//! a fifth of a computed answer's cost.
//!
//! ```sql
//! SELECT first.*, attached.*
//! FROM (SELECT * FROM (<attached>) AS a OFFSET 0) AS attached
//! LEFT JOIN LATERAL (
//!     SELECT f.*, row_number() OVER () AS ff_first_row FROM (<first>) AS f
//! ) AS first ON TRUE
//! ORDER BY first.ff_first_row
//! ```
//!
//! Every row carries the attached row's columns after the first read's own,
//! so reading a row by position or by name is unchanged. When the first
//! read finds nothing, one row with `ff_first_row` NULL still carries the
//! attached row; it is not a row of the first read. `row_number() OVER ()`
//! counts the first read's rows in the order it gives them, and the final
//! `ORDER BY` keeps that order whatever join PostgreSQL picks.

use sea_orm::sea_query::Values;
use sea_orm::{QueryResult, Statement};

/// The column that numbers the first read's rows (NULL: none).
pub const FIRST_ROW: &str = "ff_first_row";

/// `first` and `attached` as one statement; `attached`'s placeholders are
/// renumbered after `first`'s.
pub fn combine(first: &Statement, attached: &Statement) -> Statement {
    let first_values = first.values.as_ref().map_or(0, |values| values.0.len());
    let sql = format!(
        "SELECT ff_first.*, ff_attached.* \
         FROM (SELECT * FROM ({attached}) AS ff_a OFFSET 0) AS ff_attached \
         LEFT JOIN LATERAL (SELECT ff_f.*, row_number() OVER () AS {FIRST_ROW} FROM ({first}) AS ff_f) AS ff_first \
         ON TRUE ORDER BY ff_first.{FIRST_ROW}",
        attached = shift_placeholders(&attached.sql, first_values),
        first = first.sql,
    );
    let mut values = first.values.clone().unwrap_or_else(|| Values(Vec::new()));
    values.0.extend(attached.values.iter().flat_map(|values| values.0.iter().cloned()));
    Statement { sql, values: Some(values), db_backend: first.db_backend }
}

/// The first read's rows out of the combined statement's, after handing
/// one of them to `attached`: each carries the attached row's columns. When
/// the attached read found nothing, neither `attached` is called nor does
/// any row come back.
pub fn split(rows: Vec<QueryResult>, attached: impl FnOnce(&QueryResult)) -> Vec<QueryResult> {
    let Some(first) = rows.first() else { return rows };
    attached(first);
    if first.try_get::<Option<i64>>("", FIRST_ROW).ok().flatten().is_none() {
        // The one row that carries the attached columns alone.
        return Vec::new();
    }
    rows
}

/// `$n` becomes `$(n + by)` outside quoted text (`'…'`, `"…"`).
fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        out.push(c);
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut number = 0usize;
                while let Some(digit) = chars.peek().and_then(|d| d.to_digit(10)) {
                    number = number * 10 + digit as usize;
                    chars.next();
                }
                out.push_str(&(number + by).to_string());
            }
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DatabaseBackend, Value};

    #[test]
    fn placeholders_move_past_the_first_reads_own() {
        assert_eq!(shift_placeholders("a = $1 AND b = $2", 3), "a = $4 AND b = $5");
        assert_eq!(shift_placeholders("a = $10", 2), "a = $12");
        assert_eq!(shift_placeholders("a = '$1' AND \"$2\" = $1", 1), "a = '$1' AND \"$2\" = $2");
        assert_eq!(shift_placeholders("a = 'it''s' AND b = $1", 1), "a = 'it''s' AND b = $2");
        assert_eq!(shift_placeholders("cost $ AND $x", 5), "cost $ AND $x");
        assert_eq!(shift_placeholders("a = $1", 0), "a = $1");
    }

    #[test]
    fn the_combined_statement_binds_the_first_reads_values_then_the_attached_ones() {
        let first = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT id FROM jobs WHERE a = $1 AND b = $2 ORDER BY id",
            [Value::from(1i32), Value::from(2i32)],
        );
        let attached = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT x FROM users WHERE id = $1",
            [Value::from(9i32)],
        );
        let combined = combine(&first, &attached);
        assert!(combined.sql.contains("(SELECT x FROM users WHERE id = $3)"), "{}", combined.sql);
        assert!(combined.sql.contains("(SELECT id FROM jobs WHERE a = $1 AND b = $2 ORDER BY id)"), "{}", combined.sql);
        assert!(combined.sql.ends_with("ORDER BY ff_first.ff_first_row"), "{}", combined.sql);
        let values = combined.values.expect("values").0;
        assert_eq!(values, vec![Value::from(1i32), Value::from(2i32), Value::from(9i32)]);
    }

    #[test]
    fn a_first_read_without_values_still_binds_the_attached_ones() {
        let first = Statement::from_string(DatabaseBackend::Postgres, "SELECT 1 AS one");
        let attached = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT x FROM users WHERE id = $1",
            [Value::from(9i32)],
        );
        let combined = combine(&first, &attached);
        assert!(combined.sql.contains("WHERE id = $1)"));
        assert_eq!(combined.values.expect("values").0, vec![Value::from(9i32)]);
    }
}
