//! Failed-login limiter: more than 10 failures for one email, or from one
//! client address, within 10 minutes, and further attempts are refused.
//! In memory, per server process (see README).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 10;
pub const WINDOW: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Client(IpAddr),
}

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// `Err(retry_after_seconds)` when either key is over its limit.
    pub fn check(&self, email: &str, client: IpAddr) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut retry_after = 0;
        for key in [Key::Email(email.to_owned()), Key::Client(client)] {
            if let Some(times) = failures.get_mut(&key) {
                while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                    times.pop_front();
                }
                if times.len() >= MAX_FAILURES {
                    // The window frees a slot when the oldest counted failure ages out.
                    let oldest = times[times.len() - MAX_FAILURES];
                    let wait = WINDOW.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
                    retry_after = retry_after.max(wait);
                }
            }
        }
        if retry_after > 0 { Err(retry_after) } else { Ok(()) }
    }

    pub fn record_failure(&self, email: &str, client: IpAddr) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() > 100_000 {
            // Bound memory under a flood of distinct keys: drop what has aged out.
            failures.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for key in [Key::Email(email.to_owned()), Key::Client(client)] {
            failures.entry(key).or_default().push_back(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleventh_attempt_is_refused() {
        let limiter = LoginLimiter::default();
        let ip: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check("a@b.c", ip).is_ok());
            limiter.record_failure("a@b.c", ip);
        }
        let retry = limiter.check("a@b.c", ip).unwrap_err();
        assert!(retry > 0 && retry <= 600);
        // Same address, other email: the client key is over its limit too.
        assert!(limiter.check("x@y.z", ip).is_err());
        assert!(limiter.check("x@y.z", [10, 0, 0, 1].into()).is_ok());
    }
}
