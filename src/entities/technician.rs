use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "technicians")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub skill_level: i32,
    pub hourly_rate_cents: i64,
    pub active: bool,
    /// WGS 84 degrees of where the technician's day starts; both or neither.
    pub base_latitude: Option<f64>,
    pub base_longitude: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::user::Entity", from = "Column::UserId", to = "super::user::Column::Id")]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

// Read by position in joined lists (`positional.rs`).
super::positional::positional!(
    id,
    user_id,
    name,
    email,
    phone,
    skill_level,
    hourly_rate_cents,
    active,
    base_latitude,
    base_longitude,
    created_at,
    updated_at
);

super::positional::card!(
    /// What a job shows of its technician.
    Card {
        id: Uuid,
        name: String,
        email: Option<String>,
        phone: Option<String>,
    }
);

/// The card's fields that a reader may leave unread (`positional::Unread`).
impl super::positional::Nullable for Card {
    const NULLABLE: &'static [&'static str] = &["email", "phone"];
}
