//! Locations: WGS 84 degrees, latitude -90..90 and longitude -180..180,
//! finite, given both or neither. An update that sets one of a pair sets
//! both; both null clears the pair.

use super::error::{DomainError, DomainResult};

/// An optional input field as the client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Patch<T> {
    /// Not in the input: unchanged.
    #[default]
    Absent,
    /// Explicitly null.
    Null,
    Value(T),
}

impl<T> Patch<T> {
    /// For create inputs, where null and absent mean the same.
    pub fn from_option(value: Option<T>) -> Patch<T> {
        value.map_or(Patch::Absent, Patch::Value)
    }
}

/// A point on the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

/// The input field names of one pair (`latitude`/`longitude`, or the base's).
pub type Names = (&'static str, &'static str);

/// What an input does to a pair: `None` leaves it, `Some(None)` clears it,
/// `Some(Some(point))` sets it.
pub fn read(latitude: Patch<f64>, longitude: Patch<f64>, names: Names) -> DomainResult<Option<Option<Point>>> {
    let (lat_name, lon_name) = names;
    let both = || format!("give both {lat_name} and {lon_name}, or neither");
    match (latitude, longitude) {
        (Patch::Absent, Patch::Absent) => Ok(None),
        (Patch::Null, Patch::Null) => Ok(Some(None)),
        (Patch::Value(latitude), Patch::Value(longitude)) => {
            if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
                return Err(DomainError::bad_input(lat_name, format!("{lat_name} must be between -90 and 90")));
            }
            if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
                return Err(DomainError::bad_input(lon_name, format!("{lon_name} must be between -180 and 180")));
            }
            Ok(Some(Some(Point { latitude, longitude })))
        }
        // One of the pair is missing (or null beside a value): name that one.
        (Patch::Value(_), _) => Err(DomainError::bad_input(lon_name, both())),
        (_, Patch::Value(_)) => Err(DomainError::bad_input(lat_name, both())),
        (Patch::Null, Patch::Absent) => Err(DomainError::bad_input(lon_name, both())),
        (Patch::Absent, Patch::Null) => Err(DomainError::bad_input(lat_name, both())),
    }
}

/// Great-circle distance in km (haversine, Earth radius 6,371 km).
pub fn distance_km(from: Point, to: Point) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (phi1, phi2) = (from.latitude.to_radians(), to.latitude.to_radians());
    let d_phi = (to.latitude - from.latitude).to_radians();
    let d_lambda = (to.longitude - from.longitude).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// A pair of optional columns as a point (both set) or none.
pub fn point(latitude: Option<f64>, longitude: Option<f64>) -> Option<Point> {
    Some(Point { latitude: latitude?, longitude: longitude? })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: Names = ("latitude", "longitude");

    fn field_of(result: DomainResult<Option<Option<Point>>>) -> &'static str {
        match result {
            Err(DomainError::BadInput { field, .. }) => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn pairs_are_set_cleared_or_left() {
        assert_eq!(read(Patch::Absent, Patch::Absent, NAMES).unwrap(), None);
        assert_eq!(read(Patch::Null, Patch::Null, NAMES).unwrap(), Some(None));
        let paris = read(Patch::Value(48.8566), Patch::Value(2.3522), NAMES).unwrap();
        assert_eq!(paris, Some(Some(Point { latitude: 48.8566, longitude: 2.3522 })));
        assert!(read(Patch::Value(-90.0), Patch::Value(180.0), NAMES).is_ok(), "the edges are in range");
    }

    #[test]
    fn half_a_pair_or_out_of_range_names_the_field() {
        assert_eq!(field_of(read(Patch::Value(1.0), Patch::Absent, NAMES)), "longitude");
        assert_eq!(field_of(read(Patch::Absent, Patch::Value(1.0), NAMES)), "latitude");
        assert_eq!(field_of(read(Patch::Value(1.0), Patch::Null, NAMES)), "longitude");
        assert_eq!(field_of(read(Patch::Null, Patch::Absent, NAMES)), "longitude");
        assert_eq!(field_of(read(Patch::Value(90.5), Patch::Value(0.0), NAMES)), "latitude");
        assert_eq!(field_of(read(Patch::Value(0.0), Patch::Value(-180.1), NAMES)), "longitude");
        assert_eq!(field_of(read(Patch::Value(f64::NAN), Patch::Value(0.0), NAMES)), "latitude");
        assert_eq!(field_of(read(Patch::Value(0.0), Patch::Value(f64::INFINITY), NAMES)), "longitude");
    }

    #[test]
    fn known_distances() {
        let london = Point { latitude: 51.5074, longitude: -0.1278 };
        let paris = Point { latitude: 48.8566, longitude: 2.3522 };
        let km = distance_km(london, paris);
        assert!((km - 343.5).abs() < 0.5, "London–Paris {km}");
        assert_eq!(distance_km(paris, paris), 0.0);
        let (north, south) = (Point { latitude: 90.0, longitude: 0.0 }, Point { latitude: -90.0, longitude: 0.0 });
        assert!((distance_km(north, south) - std::f64::consts::PI * 6371.0).abs() < 1e-6, "half the globe");
        assert!((distance_km(london, paris) - distance_km(paris, london)).abs() < 1e-12);
    }
}
