//! Input checks shared by the use cases: text lengths and emails.

use super::error::{DomainError, DomainResult};

pub const NAME_MAX: usize = 200;
pub const TEXT_MAX: usize = 10_000;
pub const EMAIL_MAX: usize = 320;
pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 1024;

/// A required short text: trimmed, 1..=max characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> DomainResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::bad_input(field, format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(DomainError::bad_input(field, format!("{field} is longer than {max} characters")));
    }
    Ok(value.to_owned())
}

/// An optional text: trimmed; empty becomes None.
pub fn optional_text(field: &'static str, value: Option<&str>, max: usize) -> DomainResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > max => {
            Err(DomainError::bad_input(field, format!("{field} is longer than {max} characters")))
        }
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// Trimmed, lower-cased, and shaped like an address (`local@domain`).
pub fn email(field: &'static str, value: &str) -> DomainResult<String> {
    let email = value.trim().to_lowercase();
    let well_formed = email.len() <= EMAIL_MAX
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !email.chars().any(char::is_whitespace)
        });
    if well_formed { Ok(email) } else { Err(DomainError::bad_input(field, "not a valid email address")) }
}

/// The longest email a login looks up (RFC 5321's path limit); longer ones
/// are refused before any lookup, count or journal row.
pub const LOGIN_EMAIL_MAX: usize = 254;

pub fn password(field: &'static str, value: &str) -> DomainResult<()> {
    let len = value.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&len) {
        return Err(DomainError::bad_input(
            field,
            format!("{field} must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(email("email", "  Ann@Example.COM ").unwrap(), "ann@example.com");
        assert!(email("email", "no-at-sign").is_err());
        assert!(email("email", "a@b@c").is_err());
    }

    #[test]
    fn text_limits() {
        assert!(required_text("name", "   ", 200).is_err());
        assert!(required_text("name", &"x".repeat(201), 200).is_err());
        assert_eq!(optional_text("note", Some("  "), 10).unwrap(), None);
    }
}
