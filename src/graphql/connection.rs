//! Relay-style connections with `totalCount`, one concrete GraphQL type per
//! node type (`connection_types!`).

use async_graphql::SimpleObject;

use crate::domain::page::Page;

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

impl PageInfo {
    pub fn of_page<T>(page: &Page<T>) -> Self {
        PageInfo {
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            start_cursor: page.items.first().map(|(c, _)| c.encode()),
            end_cursor: page.items.last().map(|(c, _)| c.encode()),
        }
    }
}

/// Defines `$connection` and `$edge` for `$node`, and `$connection::from_page`.
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty) => {
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
        }

        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            pub edges: Vec<$edge>,
            pub nodes: Vec<$node>,
            pub page_info: $crate::graphql::connection::PageInfo,
            pub total_count: i32,
        }

        impl $connection {
            pub fn from_page<M>(page: $crate::domain::page::Page<M>, wrap: impl Fn(M) -> $node) -> Self {
                let page_info = $crate::graphql::connection::PageInfo::of_page(&page);
                let total_count = i32::try_from(page.total_count).unwrap_or(i32::MAX);
                let edges: Vec<$edge> = page
                    .items
                    .into_iter()
                    .map(|(cursor, m)| $edge { cursor: cursor.encode(), node: wrap(m) })
                    .collect();
                $connection { nodes: edges.iter().map(|e| e.node.clone()).collect(), edges, page_info, total_count }
            }
        }
    };
}
pub(crate) use connection_types;

/// Whether the selection asks for `totalCount` (counting costs a statement).
pub fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}
