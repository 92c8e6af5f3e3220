//! JWT issuing and checking: HS256 only, claims `sub`, `role`, `iat`, `exp`,
//! and `epoch`: the user's session epoch when the token was issued (a
//! password change or a revocation raises it, ending older tokens).

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entities::enums::Role;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    /// Absent in a token made elsewhere with the secret: epoch 0, valid
    /// until the user's first revocation.
    #[serde(default)]
    pub epoch: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("JWT_SECRET must be at least 32 bytes")]
    TooShort,
}

#[derive(Clone)]
pub struct TokenService {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl TokenService {
    /// With no secret, a random one is made (tokens die with the process).
    pub fn new(secret: Option<&str>, ttl: Duration) -> Result<(Self, bool), SecretError> {
        let (bytes, generated) = match secret {
            Some(s) if s.len() < 32 => return Err(SecretError::TooShort),
            Some(s) => (s.as_bytes().to_vec(), false),
            None => (rand::random::<[u8; 64]>().to_vec(), true),
        };
        let service = TokenService {
            encoding: EncodingKey::from_secret(&bytes),
            decoding: DecodingKey::from_secret(&bytes),
            ttl,
        };
        Ok((service, generated))
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        epoch: i64,
    ) -> Result<(String, DateTime<Utc>), jsonwebtoken::errors::Error> {
        let now = Utc::now();
        let expires_at = now + chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::hours(12));
        let claims = Claims {
            sub: user_id,
            role: role.as_str().to_owned(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            epoch,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok((token, expires_at))
    }

    /// The claims of a valid token: right algorithm, right signature, not expired.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok().map(|data| data.claims)
    }
}
