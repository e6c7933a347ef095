//! Who is on the other end of a request. Behind a proxy every request comes from the proxy's address, so
//! from the proxies the operator trusts (`SUPPORTAL_TRUSTED_PROXIES`) the client is read from `Forwarded` or
//! `X-Forwarded-For`: the rightmost hop that is not itself a trusted proxy. Anyone else can write those
//! headers, so from other peers they are ignored. Pure functions; the server calls them once per request.

use http::HeaderMap;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// The client's address for a request that arrived from `peer`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let hops = forwarded_hops(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop {
            Some(ip) => {
                client = *ip;
                if !is_trusted(*ip, trusted) {
                    return client;
                }
            }
            // An obfuscated or unreadable hop: nothing further left can be believed.
            None => return client,
        }
    }
    client
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The hops proxies appended, leftmost (the original client, as claimed) first. `Forwarded` (RFC 7239) wins
/// over `X-Forwarded-For` when a proxy sends it. `None` marks a hop that is not an address.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, value)| parse_node(value.trim().trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for").iter().flat_map(|v| v.split(',')).map(|hop| parse_node(hop.trim())).collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`, `2001:db8::1`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse::<Ipv6Addr>().ok()).map(IpAddr::V6).map(canonical);
    }
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    raw.rsplit_once(':').and_then(|(ip, _)| ip.parse::<std::net::Ipv4Addr>().ok()).map(IpAddr::V4)
}

/// The key per-address limits use: the address itself for IPv4, its /64 for IPv6 (one subscriber usually
/// holds a whole /64, so counting single IPv6 addresses would give them billions of budgets).
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// `SUPPORTAL_TRUSTED_PROXIES`: comma-separated addresses or networks.
pub fn parse_trusted(raw: &str) -> Result<Vec<IpNet>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("`{s}` is not an address or network like 10.0.0.0/8"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// (peer, request headers, the client expected).
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = parse_trusted("10.0.0.0/8, 192.168.1.1").unwrap();
        let cases: [Case; 11] = [
            // Straight from the internet: its headers are its own invention.
            ("203.0.113.9", &[("x-forwarded-for", "1.2.3.4")], "203.0.113.9"),
            // One trusted proxy: the hop it saw.
            ("10.0.0.2", &[("x-forwarded-for", "198.51.100.7")], "198.51.100.7"),
            // The client prepended a fake hop; the rightmost untrusted one is what our proxy saw.
            ("10.0.0.2", &[("x-forwarded-for", "6.6.6.6, 198.51.100.7")], "198.51.100.7"),
            // Two trusted proxies in a row.
            ("10.0.0.2", &[("x-forwarded-for", "198.51.100.7, 192.168.1.1")], "198.51.100.7"),
            // Several header lines are one list.
            ("10.0.0.2", &[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.8")], "198.51.100.8"),
            // RFC 7239, with ports, quotes and IPv6.
            ("10.0.0.2", &[("forwarded", "for=6.6.6.6, for=\"198.51.100.9:4711\";proto=https")], "198.51.100.9"),
            ("10.0.0.2", &[("forwarded", "for=\"[2001:db8:cafe::17]:4711\"")], "2001:db8:cafe::17"),
            // Forwarded wins over X-Forwarded-For.
            ("10.0.0.2", &[("forwarded", "for=198.51.100.10"), ("x-forwarded-for", "6.6.6.6")], "198.51.100.10"),
            // Garbage or an obfuscated identifier: stop at the last trusted hop.
            ("10.0.0.2", &[("x-forwarded-for", "not-an-ip")], "10.0.0.2"),
            ("10.0.0.2", &[("forwarded", "for=_hidden, for=10.0.0.3")], "10.0.0.3"),
            // Trusted proxy without headers: the proxy itself.
            ("10.0.0.2", &[], "10.0.0.2"),
        ];
        for (peer, pairs, expected) in cases {
            assert_eq!(client_address(ip(peer), &headers(pairs), &trusted), ip(expected), "{peer} {pairs:?}");
        }
        // With no trusted proxies, headers never count.
        assert_eq!(client_address(ip("10.0.0.2"), &headers(&[("x-forwarded-for", "1.1.1.1")]), &[]), ip("10.0.0.2"));
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(limit_key(ip("2001:db8:1:2:ffff:1:2:3")), limit_key(ip("2001:db8:1:2::9")));
        assert_ne!(limit_key(ip("2001:db8:1:2::1")), limit_key(ip("2001:db8:1:3::1")));
        assert_eq!(limit_key(ip("198.51.100.7")), "198.51.100.7");
        assert_eq!(limit_key(ip("::ffff:198.51.100.7")), "198.51.100.7");
    }

    #[test]
    fn trusted_list_parses_addresses_and_networks() {
        assert_eq!(parse_trusted("").unwrap().len(), 0);
        assert_eq!(parse_trusted("127.0.0.1, ::1, 10.0.0.0/8").unwrap().len(), 3);
        assert!(parse_trusted("10.0.0.0/8, proxy").is_err());
    }
}
