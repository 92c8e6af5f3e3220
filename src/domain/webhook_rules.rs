//! The rules of webhooks that need no database: which events a webhook
//! receives, which targets it may have, its secret, and when a failed
//! delivery is tried again (RULES.md, "Webhooks"). Pure functions, so the
//! use cases and the delivery worker share one copy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;

use super::error::{DomainError, DomainResult};
use crate::journal::Change;

pub const URL_MAX: usize = 2000;
/// More patterns than any integration needs; bounds the stored list.
pub const EVENTS_MAX: usize = 100;
/// After this many failed attempts a delivery is DEAD.
pub const MAX_ATTEMPTS: i32 = 8;
/// The longest wait between two attempts.
pub const RETRY_CAP: Duration = Duration::from_secs(3600);
/// The event name of `pingWebhook`'s delivery (not a journal event).
pub const PING_EVENT: &str = "webhook.ping";

/// Checks and normalises `events`: journal event names, `family.*` or `*`,
/// at least one, duplicates dropped (first spelling kept, order kept).
pub fn events(patterns: &[String]) -> DomainResult<Vec<String>> {
    if patterns.is_empty() {
        return Err(DomainError::bad_input("events", "events must name at least one event"));
    }
    if patterns.len() > EVENTS_MAX {
        return Err(DomainError::bad_input("events", format!("at most {EVENTS_MAX} events")));
    }
    let mut kept: Vec<String> = Vec::with_capacity(patterns.len());
    for pattern in patterns {
        let pattern = pattern.trim();
        if !is_known_pattern(pattern) {
            let shown: String = pattern.chars().take(100).collect();
            return Err(DomainError::bad_input(
                "events",
                format!("`{shown}` is neither a journal event, a family such as `job.*`, nor `*`"),
            ));
        }
        if !kept.iter().any(|k| k == pattern) {
            kept.push(pattern.to_owned());
        }
    }
    Ok(kept)
}

fn is_known_pattern(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(family) = pattern.strip_suffix(".*") {
        return Change::NAMES.iter().any(|name| name.split_once('.').is_some_and(|(f, _)| f == family));
    }
    Change::NAMES.contains(&pattern)
}

/// Whether a webhook with `patterns` receives `event`.
pub fn matches(patterns: &[String], event: &str) -> bool {
    patterns.iter().any(|pattern| {
        pattern == "*"
            || pattern == event
            || pattern.strip_suffix(".*").is_some_and(|family| event.split_once('.').is_some_and(|(f, _)| f == family))
    })
}

/// Checks a target URL: absolute http(s), at most 2,000 characters, with a
/// host; unless `allow_private`, not an address (or `localhost` name) that
/// points inside the server's own network. Names are checked again after
/// resolution, at every attempt.
pub fn url(text: &str, allow_private: bool) -> DomainResult<String> {
    let text = text.trim();
    if text.chars().count() > URL_MAX {
        return Err(DomainError::bad_input("url", format!("url is longer than {URL_MAX} characters")));
    }
    let parsed = url::Url::parse(text).map_err(|_| DomainError::bad_input("url", "url must be an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(DomainError::bad_input("url", "url must use http or https"));
    }
    let Some(host) = parsed.host() else {
        return Err(DomainError::bad_input("url", "url must name a host"));
    };
    if !allow_private {
        let refused = match host {
            url::Host::Ipv4(ip) => !is_public(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => !is_public(IpAddr::V6(ip)),
            url::Host::Domain(name) => is_local_name(name),
        };
        if refused {
            return Err(DomainError::bad_input(
                "url",
                "url points to a loopback, private, link-local or otherwise non-public address",
            ));
        }
    }
    Ok(parsed.to_string())
}

/// `localhost` and its subdomains always mean this machine (RFC 6761).
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether an address is on the public internet: not loopback, private
/// (RFC 1918, unique-local), link-local (the cloud metadata address too),
/// unspecified, multicast, broadcast, shared (CGNAT) or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || segments[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

/// A new signing secret: 32 random bytes, hex-encoded, with a prefix that
/// says what it is.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("whsec_{}", hex::encode(bytes))
}

/// What becomes of a delivery whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// FAILED, tried again at this time.
    RetryAt(DateTime<Utc>),
    /// DEAD: no attempt is made unless an admin redelivers it.
    Dead,
}

/// After the `attempts`-th attempt failed at `now`: the wait is `base`
/// doubled per earlier attempt, moved by `jitter` (-1..=1, times 10 %),
/// capped at one hour; the eighth failure is final.
pub fn after_failure(attempts: i32, now: DateTime<Utc>, base: Duration, jitter: f64) -> AfterFailure {
    if attempts >= MAX_ATTEMPTS {
        return AfterFailure::Dead;
    }
    AfterFailure::RetryAt(now + retry_delay(attempts, base, jitter))
}

/// The wait after the `attempts`-th failure (see `after_failure`).
pub fn retry_delay(attempts: i32, base: Duration, jitter: f64) -> chrono::Duration {
    let doublings = attempts.clamp(1, 31) - 1;
    let nominal = base.as_secs_f64() * f64::from(1u32 << doublings);
    let jittered = nominal * (1.0 + 0.1 * jitter.clamp(-1.0, 1.0));
    let capped = jittered.min(RETRY_CAP.as_secs_f64()).max(0.0);
    chrono::Duration::milliseconds((capped * 1000.0).round() as i64)
}

/// A jitter value for `after_failure`.
pub fn random_jitter() -> f64 {
    rand::rng().random_range(-1.0..=1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn events_are_names_families_or_everything() {
        assert_eq!(
            events(&list(&["job.completed", "invoice.*", "*"])).unwrap(),
            list(&["job.completed", "invoice.*", "*"])
        );
        assert_eq!(events(&list(&["job.*", " job.* "])).unwrap(), list(&["job.*"]));
        for bad in [&[][..], &["job.finished"], &["jobs.*"], &["job*"], &["**"], &[""], &["webhook.ping"]] {
            let err = events(&list(bad)).unwrap_err();
            assert!(matches!(err, DomainError::BadInput { field: "events", .. }), "{bad:?}");
        }
        assert!(events(&list(&["user.*", "auth.*", "payment.*", "webhook.*", "auth.login_failed"])).is_ok());
    }

    #[test]
    fn patterns_match_their_events_only() {
        let patterns = list(&["job.*", "invoice.paid"]);
        assert!(matches(&patterns, "job.completed"));
        assert!(matches(&patterns, "invoice.paid"));
        assert!(!matches(&patterns, "invoice.created"));
        assert!(!matches(&patterns, "jobx.created"));
        assert!(matches(&list(&["*"]), "auth.login_failed"));
    }

    #[test]
    fn urls_are_absolute_http_with_a_public_host() {
        assert_eq!(url("https://hooks.example.com/in?x=1", false).unwrap(), "https://hooks.example.com/in?x=1");
        for bad in [
            "ftp://example.com/",
            "/relative",
            "example.com/hook",
            "http://127.0.0.1:9000/",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://224.0.0.1/",
            "http://2130706433/", // 127.0.0.1 as one number
            "http://0x7f.1/",
        ] {
            let err = url(bad, false).unwrap_err();
            assert!(matches!(err, DomainError::BadInput { field: "url", .. }), "{bad}");
        }
        assert!(url("http://127.0.0.1:9000/", true).is_ok());
        assert!(url(&format!("https://example.com/{}", "a".repeat(URL_MAX)), true).is_err());
    }

    #[test]
    fn public_addresses_are_told_from_the_rest() {
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for inner in ["100.64.0.1", "198.18.0.1", "255.255.255.255", "64:ff9b::a00:1", "ff02::1", "::"] {
            assert!(!is_public(inner.parse().unwrap()), "{inner}");
        }
    }

    #[test]
    fn secrets_are_32_random_bytes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), "whsec_".len() + 64);
    }

    #[test]
    fn retries_double_with_bounded_jitter_up_to_an_hour_then_die() {
        let base = Duration::from_secs(10);
        let now = Utc::now();
        assert_eq!(retry_delay(1, base, 0.0), chrono::Duration::seconds(10));
        assert_eq!(retry_delay(2, base, 0.0), chrono::Duration::seconds(20));
        assert_eq!(retry_delay(4, base, 0.0), chrono::Duration::seconds(80));
        assert_eq!(retry_delay(3, base, 1.0), chrono::Duration::seconds(44));
        assert_eq!(retry_delay(3, base, -1.0), chrono::Duration::seconds(36));
        assert_eq!(retry_delay(7, Duration::from_secs(600), 0.0), chrono::Duration::hours(1));
        assert_eq!(retry_delay(7, Duration::from_millis(500), 0.0), chrono::Duration::seconds(32));
        assert_eq!(after_failure(7, now, base, 0.0), AfterFailure::RetryAt(now + chrono::Duration::seconds(640)));
        assert_eq!(after_failure(8, now, base, 0.0), AfterFailure::Dead);
        assert_eq!(after_failure(9, now, base, 0.0), AfterFailure::Dead);
    }
}
