use async_graphql::{Context, ID, InputObject, Object, Result};

use crate::domain::customers::{self, CustomerFields};
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::types::Customer;

#[derive(InputObject)]
pub struct CreateCustomerInput {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// Only the given fields change; an empty string clears an optional one.
#[derive(InputObject)]
pub struct UpdateCustomerInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Default)]
pub struct CustomerMutation;

#[Object]
impl CustomerMutation {
    async fn create_customer(&self, ctx: &Context<'_>, input: CreateCustomerInput) -> Result<Customer> {
        let actor = ctx.actor()?;
        let fields =
            CustomerFields { name: Some(input.name), email: input.email, phone: input.phone, address: input.address };
        Ok(Customer(customers::create(ctx.db(), actor, fields).await?))
    }

    async fn update_customer(&self, ctx: &Context<'_>, id: ID, input: UpdateCustomerInput) -> Result<Customer> {
        let actor = ctx.actor()?;
        let id = ids::parse(&id);
        let fields =
            CustomerFields { name: input.name, email: input.email, phone: input.phone, address: input.address };
        Ok(Customer(customers::update(ctx.db(), actor, id, fields).await?))
    }
}
