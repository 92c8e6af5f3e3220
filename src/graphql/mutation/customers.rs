use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};

use crate::domain::customers::{self, CustomerFields};
use crate::domain::location::Patch;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::lenient::patch;
use crate::graphql::types::Customer;

#[derive(InputObject)]
pub struct CreateCustomerInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// Only the given fields change; an empty string clears an optional one.
#[derive(InputObject)]
pub struct UpdateCustomerInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub latitude: MaybeUndefined<f64>,
    pub longitude: MaybeUndefined<f64>,
}

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    async fn create_customer(&self, ctx: &Context<'_>, input: CreateCustomerInput) -> Result<Customer> {
        let actor = ctx.actor()?;
        let fields = CustomerFields {
            name: Some(input.name),
            email: input.email,
            phone: input.phone,
            address: input.address,
            latitude: Patch::from_option(input.latitude),
            longitude: Patch::from_option(input.longitude),
        };
        Ok(Customer::new(customers::create(ctx.pool(), actor, fields).await?))
    }

    async fn update_customer(&self, ctx: &Context<'_>, id: ID, input: UpdateCustomerInput) -> Result<Customer> {
        let actor = ctx.actor()?;
        let id = ids::parse(&id);
        let fields = CustomerFields {
            name: input.name,
            email: input.email,
            phone: input.phone,
            address: input.address,
            latitude: patch(input.latitude),
            longitude: patch(input.longitude),
        };
        Ok(Customer::new(customers::update(ctx.pool(), actor, id, fields).await?))
    }
}
