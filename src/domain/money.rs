//! Money is integer cents in the database and exact `Decimal` at the edges.
//! Quantities (hours, material counts) are integer hundredths.

use rust_decimal::Decimal;

use super::error::{DomainError, DomainResult};

/// The largest amount the contract accepts (1,000,000,000.00).
pub const MAX_AMOUNT_CENTS: i64 = 100_000_000_000;

pub fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// Hundredths to a decimal (quantities and hours).
pub fn from_hundredths(hundredths: i64) -> Decimal {
    Decimal::new(hundredths, 2)
}

/// An exact value with at most two fractional digits, in hundredths.
pub fn to_hundredths(field: &'static str, value: Decimal) -> DomainResult<i64> {
    let normalized = value.normalize();
    if normalized.scale() > 2 {
        return Err(DomainError::bad_input(field, format!("{field} has more than two decimal places")));
    }
    let scaled = normalized * Decimal::ONE_HUNDRED;
    i64::try_from(scaled).map_err(|_| DomainError::bad_input(field, format!("{field} is out of range")))
}

/// A money amount in cents within `min..=max` cents.
pub fn to_cents_in(field: &'static str, value: Decimal, min: i64, max: i64) -> DomainResult<i64> {
    let cents = to_hundredths(field, value)?;
    if cents < min || cents > max {
        return Err(DomainError::bad_input(
            field,
            format!("{field} must be between {} and {}", from_cents(min), from_cents(max)),
        ));
    }
    Ok(cents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn exact_conversion() {
        assert_eq!(to_hundredths("a", Decimal::from_str("125.50").unwrap()).unwrap(), 12550);
        assert_eq!(to_hundredths("a", Decimal::from_str("1.500").unwrap()).unwrap(), 150);
        assert!(to_hundredths("a", Decimal::from_str("0.001").unwrap()).is_err());
        assert_eq!(from_cents(12550).to_string(), "125.50");
        assert!(to_cents_in("a", Decimal::from_str("0").unwrap(), 1, MAX_AMOUNT_CENTS).is_err());
    }
}
