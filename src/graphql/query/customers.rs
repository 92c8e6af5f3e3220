use async_graphql::{Context, ID, Object, Result};

use crate::domain::customers;
use crate::domain::page::PageRequest;
use crate::graphql::connection::wants_total;
use crate::graphql::context::ContextExt;
use crate::graphql::ids;
use crate::graphql::types::{Customer, CustomerConnection};

#[derive(Default)]
pub struct CustomerQuery;

#[Object]
impl CustomerQuery {
    /// Customers newest first; `search` matches name, email or phone.
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        search: Option<String>,
    ) -> Result<CustomerConnection> {
        let actor = ctx.actor()?;
        let request = PageRequest::new(first, after.as_deref())?.counting(wants_total(ctx));
        let page = customers::list(ctx.db(), actor, request, search.as_deref()).await?;
        Ok(CustomerConnection::from_page(page, Customer::new))
    }

    async fn customer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Customer>> {
        let actor = ctx.actor()?;
        let id = ids::parse(&id);
        Ok(customers::get(ctx.db(), actor, id).await?.map(Customer::new))
    }
}
