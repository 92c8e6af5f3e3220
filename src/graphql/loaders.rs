//! DataLoaders: nested fields batch their lookups, so a list costs a fixed
//! number of statements whatever its length.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::domain::DomainError;
use crate::entities::{customer, job, job_assignment, technician, user};

/// A loader of one table's rows by a UUID column (`key` reads it off a row).
macro_rules! uuid_loader {
    ($name:ident, $module:ident, $column:ident, $key:expr) => {
        pub struct $name(pub DatabaseConnection);

        impl Loader<Uuid> for $name {
            type Value = $module::Model;
            type Error = Arc<DomainError>;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                let rows = $module::Entity::find()
                    .filter($module::Column::$column.is_in(keys.iter().copied()))
                    .all(&self.0)
                    .await
                    .map_err(|e| Arc::new(DomainError::from(e)))?;
                let key: fn(&$module::Model) -> Option<Uuid> = $key;
                Ok(rows.into_iter().filter_map(|row| key(&row).map(|k| (k, row))).collect())
            }
        }
    };
}

uuid_loader!(UserById, user, Id, |row| Some(row.id));
uuid_loader!(TechnicianById, technician, Id, |row| Some(row.id));
uuid_loader!(TechnicianByUser, technician, UserId, |row| row.user_id);
uuid_loader!(CustomerById, customer, Id, |row| Some(row.id));
uuid_loader!(JobById, job, Id, |row| Some(row.id));
uuid_loader!(AssignmentByJob, job_assignment, JobId, |row| Some(row.job_id));

/// All loaders of one request (created per request: results are not cached
/// across requests, so nobody sees stale or foreign data).
pub struct Loaders {
    pub user_by_id: DataLoader<UserById>,
    pub technician_by_id: DataLoader<TechnicianById>,
    pub technician_by_user: DataLoader<TechnicianByUser>,
    pub customer_by_id: DataLoader<CustomerById>,
    pub job_by_id: DataLoader<JobById>,
    pub assignment_by_job: DataLoader<AssignmentByJob>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Loaders {
            user_by_id: DataLoader::new(UserById(db.clone()), tokio::spawn),
            technician_by_id: DataLoader::new(TechnicianById(db.clone()), tokio::spawn),
            technician_by_user: DataLoader::new(TechnicianByUser(db.clone()), tokio::spawn),
            customer_by_id: DataLoader::new(CustomerById(db.clone()), tokio::spawn),
            job_by_id: DataLoader::new(JobById(db.clone()), tokio::spawn),
            assignment_by_job: DataLoader::new(AssignmentByJob(db.clone()), tokio::spawn),
        }
    }
}

/// Loader errors are shared (`Arc`); give the resolver its own copy.
pub fn shared(err: Arc<DomainError>) -> DomainError {
    match &*err {
        DomainError::Internal(cause) => DomainError::Internal(cause.clone()),
        other => DomainError::internal(other),
    }
}
