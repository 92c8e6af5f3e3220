use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// WGS 84 degrees of the service address; both or neither.
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// Read by position in joined lists (`positional.rs`).
super::positional::positional!(id, name, email, phone, address, latitude, longitude, created_at, updated_at);

super::positional::card!(
    /// What a job shows of its customer.
    Card {
        id: Uuid,
        name: String,
        email: Option<String>,
        phone: Option<String>,
        address: Option<String>,
    }
);

/// The card's fields that a reader may leave unread (`positional::Unread`).
impl super::positional::Nullable for Card {
    const NULLABLE: &'static [&'static str] = &["email", "phone", "address"];
}
