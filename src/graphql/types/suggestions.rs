//! `suggestTechnicians`' answer: candidates with their scores, and every
//! other active technician with the rule that excluded it.

use async_graphql::{Enum, ID, InputObject, Object, SimpleObject};

use super::Technician;
use crate::domain::suggestions::{Candidate, Excluded, Exclusion, Weights};
use crate::graphql::ids;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ExclusionReason {
    SkillTooLow,
    Booked,
    Unavailable,
}

#[derive(SimpleObject)]
pub struct ScoreComponent {
    pub name: String,
    pub weight: f64,
    pub value: f64,
}

pub struct TechnicianCandidate(pub Candidate);

#[Object]
impl TechnicianCandidate {
    async fn technician(&self) -> Technician {
        Technician::new(self.0.technician.clone())
    }
    async fn score(&self) -> f64 {
        self.0.score
    }
    async fn travel_km(&self) -> Option<f64> {
        self.0.travel_km
    }
    async fn booked_minutes_that_day(&self) -> i32 {
        i32::try_from(self.0.booked_minutes_that_day).unwrap_or(i32::MAX)
    }
    async fn served_customer_before(&self) -> bool {
        self.0.served_customer_before
    }
    async fn components(&self) -> Vec<ScoreComponent> {
        self.0
            .components
            .iter()
            .map(|c| ScoreComponent { name: c.name.to_owned(), weight: c.weight, value: c.value })
            .collect()
    }
}

pub struct ExcludedTechnician(pub Excluded);

#[Object]
impl ExcludedTechnician {
    async fn technician(&self) -> Technician {
        Technician::new(self.0.technician.clone())
    }
    async fn reason(&self) -> ExclusionReason {
        match self.0.reason {
            Exclusion::SkillTooLow => ExclusionReason::SkillTooLow,
            Exclusion::Booked { .. } => ExclusionReason::Booked,
            Exclusion::Unavailable { .. } => ExclusionReason::Unavailable,
        }
    }
    async fn conflicting_job_id(&self) -> Option<ID> {
        match self.0.reason {
            Exclusion::Booked { conflicting_job_id } => Some(ids::of(conflicting_job_id)),
            _ => None,
        }
    }
    async fn conflicting_schedule_entry_id(&self) -> Option<ID> {
        match self.0.reason {
            Exclusion::Unavailable { conflicting_schedule_entry_id } => Some(ids::of(conflicting_schedule_entry_id)),
            _ => None,
        }
    }
}

#[derive(SimpleObject)]
pub struct TechnicianSuggestions {
    pub candidates: Vec<TechnicianCandidate>,
    pub excluded: Vec<ExcludedTechnician>,
}

/// A weight left out or null counts with its default.
#[derive(InputObject, Default)]
pub struct SuggestionWeights {
    #[graphql(default = 3.0)]
    pub travel: Option<f64>,
    #[graphql(default = 2.0)]
    pub workload: Option<f64>,
    #[graphql(default = 1.0)]
    pub skill_fit: Option<f64>,
    #[graphql(default = 1.0)]
    pub continuity: Option<f64>,
    #[graphql(default = 1.0)]
    pub cost: Option<f64>,
}

impl From<SuggestionWeights> for Weights {
    fn from(given: SuggestionWeights) -> Weights {
        let default = Weights::default();
        Weights {
            travel: given.travel.unwrap_or(default.travel),
            workload: given.workload.unwrap_or(default.workload),
            skill_fit: given.skill_fit.unwrap_or(default.skill_fit),
            continuity: given.continuity.unwrap_or(default.continuity),
            cost: given.cost.unwrap_or(default.cost),
        }
    }
}
