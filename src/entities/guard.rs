//! A read guarded by a condition, in one statement: the read's rows while
//! the condition holds, none otherwise.
//!
//! The HTTP transport guards a request's reads with "the caller's account
//! is still what this request runs as" (`connection.rs`,
//! `domain::users::caller_unchanged`): a round trip of its own per request
//! was about a fifth of a computed answer's cost.
//!
//! ```sql
//! SELECT * FROM (<read>) AS ff_guarded WHERE (<condition>)
//! ```
//!
//! The condition is a subquery of one row and one boolean column (no row:
//! false) that names nothing of the read, so PostgreSQL runs it once, before
//! the read (a one-time filter), and the read's rows come back as they
//! would alone: the same columns, in the same order.

use sea_orm::Statement;
use sea_orm::sea_query::Values;

/// `read`, answering its rows only while `condition` holds; `condition`'s
/// placeholders are renumbered after `read`'s.
pub fn guard(read: &Statement, condition: &Statement) -> Statement {
    let read_values = read.values.as_ref().map_or(0, |values| values.0.len());
    let sql = format!(
        "SELECT * FROM ({read}) AS ff_guarded WHERE ({condition})",
        read = read.sql,
        condition = shift_placeholders(&condition.sql, read_values),
    );
    let mut values = read.values.clone().unwrap_or_else(|| Values(Vec::new()));
    values.0.extend(condition.values.iter().flat_map(|values| values.0.iter().cloned()));
    Statement { sql, values: Some(values), db_backend: read.db_backend }
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
    fn placeholders_move_past_the_reads_own() {
        assert_eq!(shift_placeholders("a = $1 AND b = $2", 3), "a = $4 AND b = $5");
        assert_eq!(shift_placeholders("a = $10", 2), "a = $12");
        assert_eq!(shift_placeholders("a = '$1' AND \"$2\" = $1", 1), "a = '$1' AND \"$2\" = $2");
        assert_eq!(shift_placeholders("a = 'it''s' AND b = $1", 1), "a = 'it''s' AND b = $2");
        assert_eq!(shift_placeholders("cost $ AND $x", 5), "cost $ AND $x");
        assert_eq!(shift_placeholders("a = $1", 0), "a = $1");
    }

    fn condition() -> Statement {
        Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT TRUE FROM users WHERE id = $1",
            [Value::from(9i32)],
        )
    }

    #[test]
    fn the_guarded_read_binds_its_own_values_then_the_conditions() {
        let read = Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT id FROM jobs WHERE a = $1 AND b = $2 ORDER BY id",
            [Value::from(1i32), Value::from(2i32)],
        );
        let guarded = guard(&read, &condition());
        assert_eq!(
            guarded.sql,
            "SELECT * FROM (SELECT id FROM jobs WHERE a = $1 AND b = $2 ORDER BY id) AS ff_guarded \
             WHERE (SELECT TRUE FROM users WHERE id = $3)"
        );
        let values = guarded.values.expect("values").0;
        assert_eq!(values, vec![Value::from(1i32), Value::from(2i32), Value::from(9i32)]);
    }

    #[test]
    fn a_read_without_values_still_binds_the_conditions() {
        let read = Statement::from_string(DatabaseBackend::Postgres, "SELECT 1 AS one");
        let guarded = guard(&read, &condition());
        assert!(guarded.sql.ends_with("WHERE (SELECT TRUE FROM users WHERE id = $1)"), "{}", guarded.sql);
        assert_eq!(guarded.values.expect("values").0, vec![Value::from(9i32)]);
    }
}
