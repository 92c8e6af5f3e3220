//! Credentials machinery: password hashing, tokens, the login rate limit.
//! Policy (who may do what) lives in `crate::domain::actor`.

pub mod password;
pub mod rate_limit;
pub mod token;
