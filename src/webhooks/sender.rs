//! Making one attempt: a signed POST with a 10 s limit, no redirects, no
//! proxies, and (unless private targets are allowed) only to public
//! addresses, checked after name resolution so a name cannot smuggle a
//! request inside. The receiver's answer is read up to 4 KiB and dropped.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue};

use super::outbox::{Claimed, Outcome};
use super::wire;
use crate::domain::webhook_rules;

/// The longest an attempt may take, from resolving the name to the answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is read (to keep the connection usable).
const ANSWER_READ_CAP: usize = 4096;

pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    pub fn new(allow_private: bool) -> Result<Sender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(ATTEMPT_TIMEOUT)
            .no_proxy()
            .user_agent(concat!("FieldForge-Webhooks/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(4)
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .build()?;
        Ok(Sender { client, allow_private })
    }

    /// Makes the attempt; never longer than `ATTEMPT_TIMEOUT`.
    pub async fn attempt(&self, claimed: &Claimed) -> Outcome {
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.post(claimed)).await {
            Ok(outcome) => outcome,
            Err(_) => failed(None, "timed out after 10 s"),
        }
    }

    async fn post(&self, claimed: &Claimed) -> Outcome {
        let Ok(url) = reqwest::Url::parse(&claimed.url) else {
            return failed(None, "the webhook's url is not a valid URL");
        };
        // A name goes through the guarded resolver; an address does not.
        if !self.allow_private {
            let literal = match url.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                _ => None,
            };
            if literal.is_some_and(|ip| !webhook_rules::is_public(ip)) {
                return failed(None, "refused: the target is not a public address");
            }
        }
        let body = wire::body(&claimed.delivery);
        let timestamp = Utc::now().timestamp();
        let signature = wire::signature(&claimed.secret, timestamp, &body);
        let request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(wire::EVENT_HEADER, claimed.delivery.event.as_str())
            .header(wire::DELIVERY_HEADER, claimed.delivery.id.to_string())
            .header(wire::TIMESTAMP_HEADER, timestamp.to_string())
            .header(wire::SIGNATURE_HEADER, signature)
            .body(body);
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(err) => return failed(None, describe(&err)),
        };
        let status = response.status();
        // Read a little of the answer, never keep or log it.
        let mut read = 0;
        while read < ANSWER_READ_CAP {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        if status.is_success() {
            Outcome::Delivered { status_code: status.as_u16() }
        } else if status.is_redirection() {
            failed(Some(status.as_u16()), format!("HTTP {} (redirects are not followed)", status.as_u16()))
        } else {
            failed(Some(status.as_u16()), format!("HTTP {}", status.as_u16()))
        }
    }
}

fn failed(status_code: Option<u16>, error: impl Into<String>) -> Outcome {
    Outcome::Failed { status_code, error: error.into() }
}

/// Our words for a transport failure: no URL (it may hold credentials) and
/// nothing the receiver sent.
fn describe(err: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(cause) = source {
        if cause.downcast_ref::<PrivateTarget>().is_some() {
            return "refused: the target resolves to a non-public address".to_owned();
        }
        source = cause.source();
    }
    if err.is_timeout() {
        "timed out after 10 s".to_owned()
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    }
}

/// A name resolved to an address webhooks may not reach.
#[derive(Debug, thiserror::Error)]
#[error("the target resolves to a non-public address")]
struct PrivateTarget;

/// Resolves with the system resolver, then refuses the whole name if any
/// of its addresses is not public (one bad address is enough to be used).
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !allow_private && addrs.iter().any(|a| !webhook_rules::is_public(a.ip())) {
                return Err(Box::new(PrivateTarget) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}
