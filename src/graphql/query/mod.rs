//! Query root, merged from one object per area.

mod account;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(account::AccountQuery);
