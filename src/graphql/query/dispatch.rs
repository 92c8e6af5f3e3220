use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};

use crate::domain::suggestions::{self, DEFAULT_FIRST, SuggestionRequest};
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::lenient::Lenient;
use crate::graphql::types::{ExcludedTechnician, SuggestionWeights, TechnicianCandidate, TechnicianSuggestions};

#[derive(Default)]
pub struct DispatchQuery;

#[Object]
impl DispatchQuery {
    /// Who should take the job in `[startsAt, endsAt)`: candidates best first
    /// (at most `first`), and every other active technician with the first
    /// rule that excluded it.
    async fn suggest_technicians(
        &self,
        ctx: &Context<'_>,
        job_id: ID,
        starts_at: Lenient<DateTime<Utc>>,
        ends_at: Lenient<DateTime<Utc>>,
        #[graphql(default = 5)] first: Option<i32>,
        weights: Option<SuggestionWeights>,
    ) -> Result<TechnicianSuggestions> {
        let actor = ctx.actor()?;
        let request = SuggestionRequest {
            job_id: ids::parse(&job_id),
            starts_at: starts_at.read("startsAt")?,
            ends_at: ends_at.read("endsAt")?,
            first: first.unwrap_or(DEFAULT_FIRST),
            weights: weights.unwrap_or_default().into(),
        };
        let found = suggestions::suggest(ctx.db(), actor, request).await?;
        Ok(TechnicianSuggestions {
            candidates: found.candidates.into_iter().map(TechnicianCandidate).collect(),
            excluded: found.excluded.into_iter().map(ExcludedTechnician).collect(),
        })
    }
}
