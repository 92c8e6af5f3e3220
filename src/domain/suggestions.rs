//! `suggestTechnicians`: who should take a job in a window, and why the
//! others should not (RULES.md, "Dispatch suggestions").
//!
//! The facts are read in a fixed number of statements whatever the number
//! of technicians (`load`), with the same booked/unavailable conditions
//! `assignJob` checks (`windows.rs`); ranking them is pure (`rank`), so
//! every formula is unit-tested without a database.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};
use uuid::Uuid;

use super::actor::{Actor, Permission};
use super::error::{DomainError, DomainResult};
use super::location::{self, Point};
use super::{clock, jobs, lifecycle, windows};
use crate::entities::enums::JobStatus;
use crate::entities::{customer, job, job_assignment, schedule, technician};

pub const DEFAULT_FIRST: i32 = 5;
pub const MAX_FIRST: i32 = 100;
/// A working day, for `workload`.
const DAY_MINUTES: f64 = 480.0;

/// How much each component counts (RULES.md's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub travel: f64,
    pub workload: f64,
    pub skill_fit: f64,
    pub continuity: f64,
    pub cost: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights { travel: 3.0, workload: 2.0, skill_fit: 1.0, continuity: 1.0, cost: 1.0 }
    }
}

impl Weights {
    fn check(&self) -> DomainResult<()> {
        let all = [self.travel, self.workload, self.skill_fit, self.continuity, self.cost];
        let sum: f64 = all.iter().sum();
        // A finite sum too: huge weights would make every score NaN.
        if all.iter().any(|w| !w.is_finite() || *w < 0.0) || !(sum > 0.0 && sum.is_finite()) {
            return Err(DomainError::bad_input("weights", "weights must be 0 or more, with a positive sum"));
        }
        Ok(())
    }
}

pub struct SuggestionRequest {
    pub job_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub first: i32,
    pub weights: Weights,
}

/// One part of a score: its name, weight and value in 0..1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Component {
    pub name: &'static str,
    pub weight: f64,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub technician: technician::Model,
    /// 0..100.
    pub score: f64,
    pub travel_km: Option<f64>,
    pub booked_minutes_that_day: i64,
    pub served_customer_before: bool,
    pub components: [Component; 5],
}

/// The first hard rule a technician fails, in RULES.md's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exclusion {
    SkillTooLow,
    Booked { conflicting_job_id: Uuid },
    Unavailable { conflicting_schedule_entry_id: Uuid },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Excluded {
    pub technician: technician::Model,
    pub reason: Exclusion,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Suggestions {
    pub candidates: Vec<Candidate>,
    pub excluded: Vec<Excluded>,
}

/// A live assignment of some technician near the window's day, with where
/// its customer is and whether it overlaps the window itself.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct Booking {
    pub technician_id: Uuid,
    pub job_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub overlaps: bool,
}

/// An active technician with what decides its rules and continuity.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct TechnicianFacts {
    #[sea_orm(nested)]
    pub technician: technician::Model,
    /// An assignment (live or completed) on another job of the customer.
    pub served_customer_before: bool,
    /// Its earliest UNAVAILABLE entry overlapping the window.
    pub unavailable_entry: Option<Uuid>,
}

/// Everything `rank` needs, read by `load`.
#[derive(Debug, Clone)]
pub struct Facts {
    pub required_skill_level: i32,
    /// Where the job is (its customer's location), if known.
    pub job_point: Option<Point>,
    pub starts_at: DateTime<Utc>,
    /// Active technicians.
    pub technicians: Vec<TechnicianFacts>,
    /// Live assignments (other than the job's own) touching the window's UTC day or the window.
    pub bookings: Vec<Booking>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn suggest(
    db: &impl ConnectionTrait,
    actor: &Actor,
    request: SuggestionRequest,
) -> DomainResult<Suggestions> {
    actor.require(Permission::DispatchJobs)?;
    let starts_at = clock::truncate(request.starts_at);
    let ends_at = clock::truncate(request.ends_at);
    jobs::check_window(starts_at, ends_at)?;
    if !(1..=MAX_FIRST).contains(&request.first) {
        return Err(DomainError::bad_input("first", format!("first must be between 1 and {MAX_FIRST}")));
    }
    request.weights.check()?;
    let facts = load(db, request.job_id, starts_at, ends_at).await?;
    Ok(rank(&facts, &request.weights, request.first as usize))
}

/// The UTC day `[start, end)` that `at` falls on.
pub fn utc_day(at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = at.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    (start, start + Duration::days(1))
}

/// Reads the facts in three statements, whatever the number of technicians:
/// the job with its customer; the active technicians, each with whether it
/// served the customer and its first UNAVAILABLE entry in the window; the
/// live bookings of the window's day, each flagged if it overlaps the window.
async fn load(
    db: &impl ConnectionTrait,
    job_id: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> DomainResult<Facts> {
    // Scoped: its `max`/`min` would shadow `Ord`'s elsewhere in this file.
    use sea_orm::sea_query::ExprTrait;
    let (found, customer) = job::Entity::find_by_id(job_id)
        .find_also_related(customer::Entity)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound("job"))?;
    lifecycle::check(found.status, JobStatus::Scheduled)?;
    let job_point = customer.and_then(|c| location::point(c.latitude, c.longitude));

    let this_technician = (technician::Entity, technician::Column::Id);
    let served = Query::select()
        .expr(Expr::val(1))
        .from(job_assignment::Entity)
        .inner_join(
            job::Entity,
            Expr::col((job::Entity, job::Column::Id)).equals((job_assignment::Entity, job_assignment::Column::JobId)),
        )
        .and_where(Expr::col((job_assignment::Entity, job_assignment::Column::TechnicianId)).equals(this_technician))
        .and_where(Expr::col((job::Entity, job::Column::CustomerId)).eq(found.customer_id))
        .and_where(Expr::col((job_assignment::Entity, job_assignment::Column::JobId)).ne(found.id))
        .to_owned();
    let unavailable = Query::select()
        .column((schedule::Entity, schedule::Column::Id))
        .from(schedule::Entity)
        .cond_where(windows::unavailable(starts_at, ends_at))
        .and_where(Expr::col((schedule::Entity, schedule::Column::TechnicianId)).equals(this_technician))
        .order_by((schedule::Entity, schedule::Column::StartsAt), Order::Asc)
        .order_by((schedule::Entity, schedule::Column::Id), Order::Asc)
        .limit(1)
        .to_owned();
    let technicians = technician::Entity::find()
        .filter(technician::Column::Active.eq(true))
        .column_as(Expr::exists(served), "served_customer_before")
        .column_as(Expr::from(unavailable), "unavailable_entry")
        .order_by_asc(technician::Column::Name)
        .order_by_asc(technician::Column::Id)
        .into_model::<TechnicianFacts>()
        .all(db)
        .await?;

    // The day's bookings (and any reaching into the window past midnight),
    // each flagged by the very condition `assignJob` refuses on.
    let (day_start, day_end) = utc_day(starts_at);
    let overlaps = Expr::case(windows::booked(starts_at, ends_at), Expr::val(true)).finally(Expr::val(false));
    let bookings = job_assignment::Entity::find()
        .select_only()
        .column(job_assignment::Column::TechnicianId)
        .column(job_assignment::Column::JobId)
        .column(job_assignment::Column::StartsAt)
        .column(job_assignment::Column::EndsAt)
        .column_as(customer::Column::Latitude, "latitude")
        .column_as(customer::Column::Longitude, "longitude")
        .expr_as(overlaps, "overlaps")
        .join(JoinType::InnerJoin, job_assignment::Relation::Job.def())
        .join(JoinType::InnerJoin, job::Relation::Customer.def())
        .filter(windows::booked(day_start, std::cmp::max(day_end, ends_at)))
        .filter(job_assignment::Column::JobId.ne(found.id))
        .into_model::<Booking>()
        .all(db)
        .await?;

    Ok(Facts { required_skill_level: found.required_skill_level, job_point, starts_at, technicians, bookings })
}

/// The partition and the scores (pure).
pub fn rank(facts: &Facts, weights: &Weights, first: usize) -> Suggestions {
    let (day_start, day_end) = utc_day(facts.starts_at);
    let mut suggestions = Suggestions::default();
    for candidate in &facts.technicians {
        let technician = &candidate.technician;
        let bookings: Vec<&Booking> = facts.bookings.iter().filter(|b| b.technician_id == technician.id).collect();
        if let Some(reason) = exclusion(facts, candidate, &bookings) {
            suggestions.excluded.push(Excluded { technician: technician.clone(), reason });
            continue;
        }
        let booked_minutes_that_day = booked_minutes(&bookings, day_start, day_end);
        let previous = previous_stop(&bookings, day_start, facts.starts_at, technician);
        let travel_km = match (previous, facts.job_point) {
            (Some(from), Some(to)) => Some(location::distance_km(from, to)),
            _ => None,
        };
        let served_customer_before = candidate.served_customer_before;
        let components = [
            Component {
                name: "travel",
                weight: weights.travel,
                value: travel_km.map_or(0.5, |d| 1.0 / (1.0 + d / 10.0)),
            },
            Component {
                name: "workload",
                weight: weights.workload,
                value: (1.0 - booked_minutes_that_day as f64 / DAY_MINUTES).max(0.0),
            },
            Component {
                name: "skillFit",
                weight: weights.skill_fit,
                value: (1.0 - 0.25 * f64::from(technician.skill_level - facts.required_skill_level)).max(0.0),
            },
            Component {
                name: "continuity",
                weight: weights.continuity,
                value: if served_customer_before { 1.0 } else { 0.0 },
            },
            Component {
                name: "cost",
                weight: weights.cost,
                value: 1.0 - technician.hourly_rate_cents as f64 / 1_000_000.0,
            },
        ];
        suggestions.candidates.push(Candidate {
            technician: technician.clone(),
            score: score(&components),
            travel_km,
            booked_minutes_that_day,
            served_customer_before,
            components,
        });
    }
    suggestions.candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.technician.name.cmp(&b.technician.name))
            .then_with(|| a.technician.id.cmp(&b.technician.id))
    });
    suggestions.candidates.truncate(first);
    suggestions
        .excluded
        .sort_by(|a, b| a.technician.name.cmp(&b.technician.name).then_with(|| a.technician.id.cmp(&b.technician.id)));
    suggestions
}

/// `100 * sum(weight * value) / sum(weight)`.
pub fn score(components: &[Component]) -> f64 {
    let total: f64 = components.iter().map(|c| c.weight).sum();
    100.0 * components.iter().map(|c| c.weight * c.value).sum::<f64>() / total
}

/// The first hard rule the technician fails, if any: the rules `assignJob`
/// applies, in its order (an inactive technician is never in `facts`).
fn exclusion(facts: &Facts, candidate: &TechnicianFacts, bookings: &[&Booking]) -> Option<Exclusion> {
    if candidate.technician.skill_level < facts.required_skill_level {
        return Some(Exclusion::SkillTooLow);
    }
    // The earliest conflict, as `assignJob` names it.
    if let Some(booked) = bookings.iter().filter(|b| b.overlaps).min_by_key(|b| (b.starts_at, b.job_id)) {
        return Some(Exclusion::Booked { conflicting_job_id: booked.job_id });
    }
    candidate.unavailable_entry.map(|id| Exclusion::Unavailable { conflicting_schedule_entry_id: id })
}

/// Minutes of the bookings that fall on the day `[day_start, day_end)`.
pub fn booked_minutes(bookings: &[&Booking], day_start: DateTime<Utc>, day_end: DateTime<Utc>) -> i64 {
    let seconds: i64 = bookings
        .iter()
        .map(|b| (std::cmp::min(b.ends_at, day_end) - std::cmp::max(b.starts_at, day_start)).num_seconds().max(0))
        .sum();
    seconds / 60
}

/// Where the technician comes from: the customer of its latest booking that
/// day ending at or before `starts_at`, else its base. None: not known.
fn previous_stop(
    bookings: &[&Booking],
    day_start: DateTime<Utc>,
    starts_at: DateTime<Utc>,
    technician: &technician::Model,
) -> Option<Point> {
    let earlier = bookings
        .iter()
        .filter(|b| b.ends_at <= starts_at && b.ends_at > day_start)
        .max_by_key(|b| (b.ends_at, b.starts_at, b.job_id));
    match earlier {
        Some(booking) => location::point(booking.latitude, booking.longitude),
        None => location::point(technician.base_latitude, technician.base_longitude),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, hour, 0, 0).unwrap()
    }

    fn technician(n: u128, name: &str, skill: i32, rate_cents: i64, base: Option<Point>) -> TechnicianFacts {
        let technician = technician::Model {
            id: Uuid::from_u128(n),
            user_id: None,
            name: name.into(),
            email: None,
            phone: None,
            skill_level: skill,
            hourly_rate_cents: rate_cents,
            active: true,
            base_latitude: base.map(|p| p.latitude),
            base_longitude: base.map(|p| p.longitude),
            created_at: at(0),
            updated_at: at(0),
        };
        TechnicianFacts { technician, served_customer_before: false, unavailable_entry: None }
    }

    fn booking(technician: u128, job: u128, from: DateTime<Utc>, to: DateTime<Utc>, at: Option<Point>) -> Booking {
        Booking {
            technician_id: Uuid::from_u128(technician),
            job_id: Uuid::from_u128(job),
            starts_at: from,
            ends_at: to,
            latitude: at.map(|p| p.latitude),
            longitude: at.map(|p| p.longitude),
            overlaps: false,
        }
    }

    const CUSTOMER: Point = Point { latitude: 51.4545, longitude: -2.5879 };
    const DEPOT: Point = Point { latitude: 51.50, longitude: -2.50 };

    fn facts(technicians: Vec<TechnicianFacts>, bookings: Vec<Booking>) -> Facts {
        Facts { required_skill_level: 2, job_point: Some(CUSTOMER), starts_at: at(13), technicians, bookings }
    }

    #[test]
    fn the_formulas_of_rules_md() {
        let ann = TechnicianFacts { served_customer_before: true, ..technician(1, "Ann", 3, 5000, Some(DEPOT)) };
        let facts = facts(vec![ann], vec![booking(1, 9, at(8), at(10), None)]);
        let ranked = rank(&facts, &Weights::default(), 5);
        let candidate = &ranked.candidates[0];
        // The morning's booking has no location: the previous stop is unknown.
        assert_eq!(candidate.travel_km, None);
        assert_eq!(candidate.booked_minutes_that_day, 120);
        let values: Vec<f64> = candidate.components.iter().map(|c| c.value).collect();
        assert_eq!(values, vec![0.5, 1.0 - 120.0 / 480.0, 0.75, 1.0, 1.0 - 50.0 / 10_000.0]);
        let expected = 100.0 * (3.0 * 0.5 + 2.0 * 0.75 + 0.75 + 1.0 + 0.995) / 8.0;
        assert!((candidate.score - expected).abs() < 1e-9, "{} vs {expected}", candidate.score);
        assert!(candidate.served_customer_before);
    }

    #[test]
    fn travel_starts_at_the_latest_earlier_stop_of_the_day_else_the_base() {
        let bob = technician(2, "Bob", 2, 4000, Some(DEPOT));
        let first_stop = Point { latitude: 51.40, longitude: -2.60 };
        let last_stop = Point { latitude: 51.45, longitude: -2.59 };
        let day = vec![
            booking(2, 7, at(8), at(9), Some(first_stop)),
            booking(2, 8, at(10), at(12), Some(last_stop)),
            booking(2, 9, at(15), at(16), Some(first_stop)), // later: not a previous stop
        ];
        let ranked = rank(&facts(vec![bob.clone()], day), &Weights::default(), 5);
        let km = ranked.candidates[0].travel_km.unwrap();
        assert!((km - location::distance_km(last_stop, CUSTOMER)).abs() < 1e-12);
        assert!((ranked.candidates[0].components[0].value - 1.0 / (1.0 + km / 10.0)).abs() < 1e-12);
        assert_eq!(ranked.candidates[0].booked_minutes_that_day, 60 + 120 + 60);
        let ranked = rank(&facts(vec![bob], Vec::new()), &Weights::default(), 5);
        let from_base = location::distance_km(DEPOT, CUSTOMER);
        assert!((ranked.candidates[0].travel_km.unwrap() - from_base).abs() < 1e-12, "from the base");
    }

    #[test]
    fn hard_rules_apply_in_order_and_partition_the_active_technicians() {
        let junior = technician(1, "Junior", 1, 3000, None);
        let booked = technician(2, "Booked", 2, 3000, None);
        let blocked =
            TechnicianFacts { unavailable_entry: Some(Uuid::from_u128(30)), ..technician(3, "Blocked", 2, 3000, None) };
        let free = technician(4, "Free", 2, 3000, None);
        let mut overlapping = booking(2, 20, at(12), at(14), None);
        overlapping.overlaps = true;
        let mut junior_booked = booking(1, 21, at(12), at(14), None);
        junior_booked.overlaps = true;
        let facts = facts(vec![junior, booked, blocked, free], vec![overlapping, junior_booked]);
        let ranked = rank(&facts, &Weights::default(), 5);
        let reasons: Vec<(&str, Exclusion)> =
            ranked.excluded.iter().map(|e| (e.technician.name.as_str(), e.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                ("Blocked", Exclusion::Unavailable { conflicting_schedule_entry_id: Uuid::from_u128(30) }),
                ("Booked", Exclusion::Booked { conflicting_job_id: Uuid::from_u128(20) }),
                ("Junior", Exclusion::SkillTooLow), // the first rule wins over BOOKED
            ]
        );
        assert_eq!(ranked.candidates.iter().map(|c| c.technician.name.as_str()).collect::<Vec<_>>(), ["Free"]);
    }

    #[test]
    fn candidates_are_ordered_by_score_then_name_and_cut_at_first() {
        let cheap = technician(1, "Zed", 2, 1000, None);
        let dear = technician(2, "Amy", 2, 9000, None);
        let same_as_dear = technician(3, "Abe", 2, 9000, None);
        let ranked = rank(&facts(vec![cheap, dear, same_as_dear], Vec::new()), &Weights::default(), 2);
        let names: Vec<&str> = ranked.candidates.iter().map(|c| c.technician.name.as_str()).collect();
        assert_eq!(names, ["Zed", "Abe"], "cheapest first, then ties by name; cut at first");
    }

    #[test]
    fn weights_are_checked_and_may_single_out_one_component() {
        assert!(Weights::default().check().is_ok());
        let zero = Weights { travel: 0.0, workload: 0.0, skill_fit: 0.0, continuity: 0.0, cost: 0.0 };
        assert!(matches!(zero.check(), Err(DomainError::BadInput { field: "weights", .. })));
        assert!(Weights { travel: -1.0, ..Weights::default() }.check().is_err());
        assert!(Weights { cost: f64::NAN, ..Weights::default() }.check().is_err());
        assert!(
            Weights { travel: f64::MAX, workload: f64::MAX, ..Weights::default() }.check().is_err(),
            "sum overflows"
        );
        let only_cost = Weights { cost: 1.0, ..zero };
        let ranked = rank(&facts(vec![technician(1, "A", 2, 2500, None)], Vec::new()), &only_cost, 5);
        assert!((ranked.candidates[0].score - 100.0 * (1.0 - 0.0025)).abs() < 1e-9);
    }

    #[test]
    fn minutes_count_only_the_part_on_the_day() {
        let (start, end) = utc_day(at(13));
        let night = booking(1, 1, start - Duration::hours(2), start + Duration::hours(1), None);
        let late = booking(1, 2, end - Duration::minutes(30), end + Duration::hours(2), None);
        assert_eq!(booked_minutes(&[&night, &late], start, end), 60 + 30);
    }
}
