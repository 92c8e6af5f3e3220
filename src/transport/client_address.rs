//! Who the client is, for the login limiter: the TCP peer, unless the peer
//! is a trusted proxy (`--trusted-proxies`); then the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy. Addresses further
//! left were written by the client and are not believed.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

pub fn client_address(peer: SocketAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let peer = peer.ip();
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted(&ip) => continue,
            Ok(ip) => return ip,
            // A hop we cannot read: the chain is not trustworthy from here.
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        map
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 4000)
    }

    #[test]
    fn untrusted_peers_are_the_client() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let forwarded = headers(&["203.0.113.9"]);
        assert_eq!(
            client_address(peer("198.51.100.1"), &forwarded, &proxies),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(peer("10.1.1.1"), &forwarded, &[]), "10.1.1.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client forged the first entry; the proxy appended the real one.
        let forwarded = headers(&["1.2.3.4, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(client_address(peer("10.0.0.1"), &forwarded, &proxies), "203.0.113.9".parse::<IpAddr>().unwrap());
        // No header, or garbage: the proxy itself.
        assert_eq!(
            client_address(peer("10.0.0.1"), &HeaderMap::new(), &proxies),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        let garbage = headers(&["203.0.113.9, not-an-ip"]);
        assert_eq!(client_address(peer("10.0.0.1"), &garbage, &proxies), "10.0.0.1".parse::<IpAddr>().unwrap());
        let v6 = headers(&["2001:db8::5"]);
        assert_eq!(client_address(peer("10.0.0.1"), &v6, &proxies), "2001:db8::5".parse::<IpAddr>().unwrap());
    }
}
