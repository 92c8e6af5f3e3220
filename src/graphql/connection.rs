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
/// The page's nodes are held once: `edges` and `nodes` serve them by
/// reference (a copy of every node for one of them was the board's largest
/// allocation), and a cursor is encoded only when an edge's `cursor` is asked.
///
/// With `at_hand`, `$node` implements `at_hand::FieldsAtHand` and the
/// page's `nodes` and `edges` are answered from what they hold when they can.
macro_rules! connection_types {
    ($connection:ident, $edge:ident, $node:ty) => {
        $crate::graphql::connection::connection_types!(@define $connection, $edge, $node, [Vec]);
    };
    ($connection:ident, $edge:ident, $node:ty, at_hand) => {
        $crate::graphql::connection::connection_types!(
            @define $connection, $edge, $node, [$crate::graphql::at_hand::List]
        );

        impl $crate::graphql::at_hand::FieldsAtHand for $edge<'_> {
            fn field_at_hand(
                &self,
                name: &str,
                selected: $crate::graphql::at_hand::Selected<'_>,
                out: &mut $crate::graphql::at_hand::Written,
            ) -> Option<()> {
                match name {
                    "cursor" => out.text(&self.cursor.encode()),
                    "node" => out.object(self.node, selected)?,
                    _ => return None,
                }
                Some(())
            }
        }
    };
    (@define $connection:ident, $edge:ident, $node:ty, [$($list:tt)+]) => {
        pub struct $edge<'a> {
            cursor: &'a $crate::domain::cursor::Cursor,
            node: &'a $node,
        }

        #[async_graphql::Object]
        impl<'a> $edge<'a> {
            async fn cursor(&self) -> String {
                self.cursor.encode()
            }
            async fn node(&self) -> &'a $node {
                self.node
            }
        }

        pub struct $connection {
            items: Vec<($crate::domain::cursor::Cursor, $node)>,
            page_info: $crate::graphql::connection::PageInfo,
            total_count: i32,
        }

        #[async_graphql::Object]
        impl $connection {
            async fn edges(&self) -> $($list)+<$edge<'_>> {
                self.items.iter().map(|(cursor, node)| $edge { cursor, node }).collect()
            }
            async fn nodes(&self) -> $($list)+<&$node> {
                self.items.iter().map(|(_, node)| node).collect()
            }
            async fn page_info(&self) -> &$crate::graphql::connection::PageInfo {
                &self.page_info
            }
            async fn total_count(&self) -> i32 {
                self.total_count
            }
        }

        impl $connection {
            pub fn from_page<M>(page: $crate::domain::page::Page<M>, wrap: impl Fn(M) -> $node) -> Self {
                let page_info = $crate::graphql::connection::PageInfo::of_page(&page);
                let total_count = i32::try_from(page.total_count).unwrap_or(i32::MAX);
                let items = page.items.into_iter().map(|(cursor, m)| (cursor, wrap(m))).collect();
                $connection { items, page_info, total_count }
            }
        }
    };
}
pub(crate) use connection_types;

/// Whether the selection asks for `totalCount` (counting costs a statement).
pub fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}
