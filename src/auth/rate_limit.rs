//! Failed-login limiter: at most 10 failures for one email, and from one
//! client address, within 10 minutes; further attempts are refused before
//! the password is checked. In memory, per server process (see README).
//!
//! An attempt takes its slot before the password check and gives it back
//! only when it succeeds, all under one lock: however many attempts arrive
//! at once, no more than 10 per key reach argon2 (a check-then-record
//! limiter lets a concurrent burst through). The number of keys is bounded:
//! past `MAX_KEYS` the keys idle longest are forgotten first.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 10;
pub const WINDOW: Duration = Duration::from_secs(600);
/// About 25 MB at most (an email key is at most 254 bytes and 10 instants).
pub const MAX_KEYS: usize = 50_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Email(String),
    Client(IpAddr),
}

/// The address a client is counted under: IPv6 clients by their /64 (one
/// host usually holds a whole /64), IPv4-mapped IPv6 as IPv4.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let segments = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(segments[0], segments[1], segments[2], segments[3], 0, 0, 0, 0))
            }
        },
    }
}

pub struct LoginLimiter {
    slots: Mutex<HashMap<Key, VecDeque<Instant>>>,
    max_keys: usize,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::with_max_keys(MAX_KEYS)
    }
}

/// A login attempt holding its slot under both keys. Unless it is marked
/// as a success, it stays counted as a failure (also when the request is
/// dropped half-way).
#[must_use]
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    keys: [Key; 2],
    at: Instant,
}

impl Attempt<'_> {
    /// The password was right: the attempt no longer counts.
    pub fn succeeded(self) {
        let mut slots = self.limiter.lock();
        for key in &self.keys {
            if let Some(times) = slots.get_mut(key)
                && let Some(position) = times.iter().rposition(|t| *t == self.at)
            {
                times.remove(position);
                if times.is_empty() {
                    slots.remove(key);
                }
            }
        }
    }
}

impl LoginLimiter {
    pub fn with_max_keys(max_keys: usize) -> Self {
        LoginLimiter { slots: Mutex::new(HashMap::new()), max_keys: max_keys.max(2) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a slot for an attempt, or `Err(retry_after_seconds)` when the
    /// email or the client address has no slot left.
    pub fn begin(&self, email: &str, client: IpAddr) -> Result<Attempt<'_>, u64> {
        self.begin_at(email, client, Instant::now())
    }

    fn begin_at(&self, email: &str, client: IpAddr, now: Instant) -> Result<Attempt<'_>, u64> {
        let keys = [Key::Email(email.to_owned()), Key::Client(client_key(client))];
        let mut slots = self.lock();
        let mut retry_after = 0;
        for key in &keys {
            if let Some(times) = slots.get_mut(key) {
                while times.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                    times.pop_front();
                }
                if times.len() >= MAX_FAILURES {
                    // A slot frees when the oldest counted attempt ages out.
                    let oldest = times[times.len() - MAX_FAILURES];
                    let wait = WINDOW.saturating_sub(now.duration_since(oldest)).as_secs().max(1);
                    retry_after = retry_after.max(wait);
                }
            }
        }
        if retry_after > 0 {
            return Err(retry_after);
        }
        for key in &keys {
            if !slots.contains_key(key) && slots.len() >= self.max_keys {
                evict(&mut slots, now, self.max_keys);
            }
            slots.entry(key.clone()).or_default().push_back(now);
        }
        Ok(Attempt { limiter: self, keys, at: now })
    }

    /// How many keys are held.
    #[cfg(test)]
    fn keys(&self) -> usize {
        self.lock().len()
    }
}

/// Drops aged-out keys; if that is not enough, the tenth of keys idle longest.
fn evict(slots: &mut HashMap<Key, VecDeque<Instant>>, now: Instant, max_keys: usize) {
    slots.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
    if slots.len() < max_keys {
        return;
    }
    let mut newest: Vec<Instant> = slots.values().filter_map(|times| times.back().copied()).collect();
    let cut = (newest.len() / 10).max(1);
    let (_, threshold, _) = newest.select_nth_unstable(cut - 1);
    let threshold = *threshold;
    let mut dropped = 0;
    slots.retain(|_, times| {
        let idle = times.back().is_none_or(|t| *t <= threshold);
        if idle && dropped < cut {
            dropped += 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn eleventh_attempt_is_refused() {
        let limiter = LoginLimiter::default();
        for _ in 0..MAX_FAILURES {
            let attempt = limiter.begin("a@b.c", IP).expect("a slot");
            drop(attempt); // a failure
        }
        let retry = limiter.begin("a@b.c", IP).err().expect("refused");
        assert!(retry > 0 && retry <= 600);
        // Same address, other email: the client key is over its limit too.
        assert!(limiter.begin("x@y.z", IP).is_err());
        assert!(limiter.begin("x@y.z", [10, 0, 0, 1].into()).is_ok());
    }

    #[test]
    fn attempts_in_flight_hold_their_slots() {
        let limiter = LoginLimiter::default();
        // Ten attempts still checking their passwords: the eleventh is refused at once.
        let in_flight: Vec<_> = (0..MAX_FAILURES).map(|_| limiter.begin("a@b.c", IP).expect("a slot")).collect();
        assert!(limiter.begin("a@b.c", IP).is_err());
        // A success gives its slot back.
        in_flight.into_iter().next().unwrap().succeeded();
        assert!(limiter.begin("a@b.c", IP).is_ok());
    }

    #[test]
    fn slots_free_after_the_window() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            drop(limiter.begin_at("a@b.c", IP, start).unwrap());
        }
        assert!(limiter.begin_at("a@b.c", IP, start + Duration::from_secs(599)).is_err());
        assert!(limiter.begin_at("a@b.c", IP, start + WINDOW).is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(other));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn keys_stay_bounded() {
        let limiter = LoginLimiter::with_max_keys(1_000);
        for i in 0..20_000u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            drop(limiter.begin(&format!("user{i}@example.com"), ip));
        }
        assert!(limiter.keys() <= 1_000, "{} keys", limiter.keys());
    }
}
