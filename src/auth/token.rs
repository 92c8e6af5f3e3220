//! JWT issuing and checking: HS256 only, claims `sub`, `role`, `iat`, `exp`,
//! and `epoch`: the user's session epoch when the token was issued (a
//! password change or a revocation raises it, ending older tokens).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lru::LruCache;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::entities::enums::Role;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Tokens whose signature checked out, with their claims: checking an
    /// HS256 signature (and decoding the token) was a tenth of a computed
    /// job detail's instructions, for the same token on every request of a
    /// session. Only the signature is taken as read: expiry is checked on
    /// every use. Bounded; a flood of bad tokens never enters it.
    verified: Arc<Mutex<LruCache<Box<str>, Claims>>>,
}

/// How many verified tokens are remembered.
const VERIFIED_TOKENS: NonZeroUsize = NonZeroUsize::new(10_000).unwrap();

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
            verified: Arc::new(Mutex::new(LruCache::new(VERIFIED_TOKENS))),
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
        self.verify_at(token, Utc::now().timestamp())
    }

    /// `verify`, a remembered token being checked for expiry at `now`.
    fn verify_at(&self, token: &str, now: i64) -> Option<Claims> {
        // As jsonwebtoken: expired once `exp` is before this second.
        let unexpired = |claims: &Claims| claims.exp >= now;
        if let Some(claims) = self.remembered().get(token) {
            return Some(claims.clone()).filter(unexpired);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?.claims;
        self.remembered().put(token.into(), claims.clone());
        Some(claims)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, LruCache<Box<str>, Claims>> {
        self.verified.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "a-test-secret-a-test-secret-0123456789";

    fn token_until(exp: i64) -> String {
        let claims = Claims { sub: Uuid::from_u128(7), role: "ADMIN".into(), iat: exp - 60, exp, epoch: 2 };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes()))
            .unwrap()
    }

    fn service() -> TokenService {
        TokenService::new(Some(SECRET), Duration::from_secs(60)).unwrap().0
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let tokens = service();
        let now = Utc::now().timestamp();
        let token = token_until(now + 100);
        let claims = tokens.verify_at(&token, now).expect("valid");
        assert_eq!((claims.sub, claims.epoch), (Uuid::from_u128(7), 2));
        assert_eq!(tokens.verify_at(&token, now + 100), Some(claims), "remembered, valid through its last second");
        assert_eq!(tokens.verify_at(&token, now + 101), None, "expired though remembered");
    }

    #[test]
    fn only_good_signatures_are_remembered() {
        let tokens = service();
        let token = token_until(Utc::now().timestamp() + 100);
        let (body, signature) = token.rsplit_once('.').unwrap();
        let forged = format!("{body}.{}", signature.chars().rev().collect::<String>());
        for _ in 0..2 {
            assert_eq!(tokens.verify(&forged), None);
        }
        assert!(tokens.remembered().is_empty());
        let other =
            TokenService::new(Some("another-secret-another-secret-0123456789"), Duration::from_secs(60)).unwrap().0;
        assert_eq!(other.verify(&token), None, "another secret");
        assert!(tokens.verify(&token).is_some());
        assert_eq!(tokens.remembered().len(), 1);
    }
}
