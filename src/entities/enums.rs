//! Enumerations stored as TEXT (checked by the database). Each value's
//! spelling is written once, in `text_enum!`: the database, the journal's
//! JSON and `as_str` all use it. The GraphQL layer mirrors these enums
//! (`graphql/enums.rs`); the contract spells them the same way.

use sea_orm::entity::prelude::*;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, serde::Serialize, serde::Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(#[sea_orm(string_value = $text)] #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            /// The stored and served spelling, e.g. `IN_PROGRESS`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The value its stored spelling names.
            pub fn from_stored(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

text_enum!(Role {
    Admin = "ADMIN",
    Dispatcher = "DISPATCHER",
    Technician = "TECHNICIAN",
});

text_enum!(JobStatus {
    Pending = "PENDING",
    Scheduled = "SCHEDULED",
    InProgress = "IN_PROGRESS",
    Completed = "COMPLETED",
    Invoiced = "INVOICED",
    Cancelled = "CANCELLED",
});

text_enum!(JobPriority {
    Low = "LOW",
    Normal = "NORMAL",
    High = "HIGH",
    Urgent = "URGENT",
});

text_enum!(InvoiceStatus {
    Issued = "ISSUED",
    PartiallyPaid = "PARTIALLY_PAID",
    Paid = "PAID",
});

text_enum!(ScheduleKind {
    Available = "AVAILABLE",
    Unavailable = "UNAVAILABLE",
    Job = "JOB",
});

text_enum!(PaymentMethod {
    Cash = "CASH",
    Card = "CARD",
    Check = "CHECK",
    BankTransfer = "BANK_TRANSFER",
    Other = "OTHER",
});

text_enum!(InvoiceLineKind {
    Labor = "LABOR",
    Material = "MATERIAL",
});

text_enum!(
    /// Where a webhook delivery stands (PENDING until its first answer).
    DeliveryStatus {
        Pending = "PENDING",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        Dead = "DEAD",
    }
);

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    #[test]
    fn stored_served_and_journalled_spellings_agree() {
        for status in JobStatus::iter() {
            assert_eq!(status.to_value(), status.as_str());
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for method in PaymentMethod::iter() {
            assert_eq!(method.to_value(), method.as_str());
            assert_eq!(serde_json::from_value::<PaymentMethod>(method.as_str().into()).unwrap(), method);
        }
    }
}
