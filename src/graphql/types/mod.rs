//! GraphQL output types: thin wrappers over entity rows whose nested fields
//! go through the request's DataLoaders.

mod auth_payload;
mod technician;
mod user;

pub use auth_payload::AuthPayload;
pub use technician::{Technician, TechnicianConnection};
pub use user::{User, UserConnection};
