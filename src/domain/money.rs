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

/// An exact value with at most two fractional digits, in hundredths. Any
/// Decimal is answered (up to `Decimal::MAX` and 28 fractional digits):
/// the scaling is checked, never a panic.
pub fn to_hundredths(field: &'static str, value: Decimal) -> DomainResult<i64> {
    let normalized = value.normalize();
    if normalized.scale() > 2 {
        return Err(DomainError::bad_input(field, format!("{field} has more than two decimal places")));
    }
    let out_of_range = || DomainError::bad_input(field, format!("{field} is out of range"));
    let scaled = normalized.checked_mul(Decimal::ONE_HUNDRED).ok_or_else(out_of_range)?;
    i64::try_from(scaled).map_err(|_| out_of_range())
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

    #[test]
    fn the_edges_of_decimal_are_bad_input_not_panics() {
        let huge = Decimal::from_str("1000000000000000000000000000").unwrap();
        for value in
            [Decimal::MAX, Decimal::MIN, huge, -huge, Decimal::from_str("0.0000000000000000000000000001").unwrap()]
        {
            let err = to_hundredths("unitPrice", value).expect_err("out of range");
            assert!(matches!(err, DomainError::BadInput { field: "unitPrice", .. }), "{value}: {err:?}");
        }
        // The largest whole number of cents an i64 holds, and one more.
        assert_eq!(to_hundredths("a", Decimal::new(i64::MAX, 2)).unwrap(), i64::MAX);
        assert!(to_hundredths("a", Decimal::new(i64::MAX, 2) + Decimal::new(1, 2)).is_err());
        assert!(to_cents_in("amount", Decimal::new(MAX_AMOUNT_CENTS + 1, 2), 1, MAX_AMOUNT_CENTS).is_err());
        assert_eq!(
            to_cents_in("amount", Decimal::new(MAX_AMOUNT_CENTS, 2), 1, MAX_AMOUNT_CENTS).unwrap(),
            MAX_AMOUNT_CENTS
        );
    }

    proptest::proptest! {
        /// Any Decimal at all: an answer, never a panic; an accepted one is exact.
        #[test]
        fn any_decimal_converts_exactly_or_is_refused(lo: u32, mid: u32, hi: u32, negative: bool, scale in 0u32..=28) {
            let value = Decimal::from_parts(lo, mid, hi, negative, scale);
            if let Ok(hundredths) = to_hundredths("x", value) {
                proptest::prop_assert_eq!(from_hundredths(hundredths), value);
            }
        }

        /// Cents round-trip through the API's decimal text.
        #[test]
        fn cents_round_trip(cents in -MAX_AMOUNT_CENTS..=MAX_AMOUNT_CENTS) {
            let text = from_cents(cents).to_string();
            let parsed = Decimal::from_str(&text).unwrap();
            proptest::prop_assert_eq!(to_hundredths("x", parsed).unwrap(), cents);
        }
    }
}
