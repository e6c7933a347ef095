//! The one rule for every request Supportal makes to the outside (webhooks, Discord, monitors, mail
//! servers): destinations on loopback, private, link-local (cloud metadata), shared, multicast or
//! reserved addresses are refused unless the operator allows them with `SUPPORTAL_OUTBOUND_ALLOW`.
//!
//! The check runs on the *resolved* addresses, at connect time, so a name that resolves to a public
//! address when a URL is saved and to 127.0.0.1 when it is used (DNS rebinding) is still refused.
//! HTTP redirects are never followed. The address rules are pure functions ([`is_public`],
//! [`AllowRule::matches`]); the I/O (DNS, TCP, HTTP) sits in [`OutboundPolicy`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// Whether `ip` is an ordinary address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                   // "this network"
        || a == 10                             // private
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || a == 127                            // loopback
        || (a == 169 && b == 254)              // link-local, cloud metadata (169.254.169.254)
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0)      // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)      // documentation
        || (a == 192 && b == 88 && c == 99)    // 6to4 relay anycast
        || (a == 192 && b == 168)              // private
        || (a == 198 && (b == 18 || b == 19))  // benchmarking
        || (a == 198 && b == 51 && c == 100)   // documentation
        || (a == 203 && b == 0 && c == 113)    // documentation
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // An IPv4 address wrapped in IPv6 (mapped, NAT64, 6to4) is judged as that IPv4 address.
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00       // unique local (fd00:ec2::254 is a metadata address)
        || (s[0] & 0xffc0) == 0xfe80       // link-local
        || (s[0] & 0xff00) == 0xff00       // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0) // discard
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ORCHID…)
        || (s[0] & 0xe000) != 0x2000) // outside global unicast 2000::/3
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(v4(hi, lo)), // ::ffff:a.b.c.d
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => Some(v4(hi, lo)), // ::a.b.c.d (deprecated)
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)), // NAT64
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),            // 6to4
        _ => None,
    }
}

/// What `SUPPORTAL_OUTBOUND_ALLOW` may name: a host name, an address or a network, optionally with a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowTarget {
    Host(String),
    Net(ipnet::IpNet),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowRule {
    pub target: AllowTarget,
    pub port: Option<u16>,
}

impl FromStr for AllowRule {
    type Err = String;

    /// `hooks.internal`, `hooks.internal:8080`, `10.0.0.5`, `10.0.0.5:25`, `10.1.0.0/16`, `[fd00::1]:443`,
    /// `fd00::/8`.
    fn from_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let bad = || format!("`{raw}` is not a host, address or network (with an optional :port)");
        if raw.is_empty() {
            return Err(bad());
        }
        let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad);
        // [v6]:port or [v6]
        if let Some(rest) = raw.strip_prefix('[') {
            let (addr, after) = rest.split_once(']').ok_or_else(bad)?;
            let net = parse_net(addr).ok_or_else(bad)?;
            let port = match after {
                "" => None,
                p => Some(port(p.strip_prefix(':').ok_or_else(bad)?)?),
            };
            return Ok(AllowRule { target: AllowTarget::Net(net), port });
        }
        // A bare IPv6 address or network has several colons and no port.
        if raw.matches(':').count() > 1 {
            return Ok(AllowRule { target: AllowTarget::Net(parse_net(raw).ok_or_else(bad)?), port: None });
        }
        let (host, port) = match raw.split_once(':') {
            Some((host, p)) => (host, Some(port(p)?)),
            None => (raw, None),
        };
        if let Some(net) = parse_net(host) {
            return Ok(AllowRule { target: AllowTarget::Net(net), port });
        }
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !valid || host.contains('/') {
            return Err(bad());
        }
        Ok(AllowRule { target: AllowTarget::Host(host), port })
    }
}

fn parse_net(raw: &str) -> Option<ipnet::IpNet> {
    raw.parse::<ipnet::IpNet>().ok().or_else(|| raw.parse::<IpAddr>().ok().map(ipnet::IpNet::from))
}

impl AllowRule {
    /// Whether this rule lets a connection to `addr`, reached through the name `host`, through.
    pub fn matches(&self, host: &str, addr: SocketAddr) -> bool {
        if self.port.is_some_and(|p| p != addr.port()) {
            return false;
        }
        match &self.target {
            AllowTarget::Host(name) => host.trim_end_matches('.').eq_ignore_ascii_case(name),
            AllowTarget::Net(net) => net.contains(&canonical(addr.ip())),
        }
    }
}

/// `::ffff:127.0.0.1` is 127.0.0.1 for allow rules too.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The list in `SUPPORTAL_OUTBOUND_ALLOW`: comma-separated rules; blank allows nothing extra.
pub fn parse_allow_list(raw: &str) -> Result<Vec<AllowRule>, String> {
    raw.split(',').map(str::trim).filter(|r| !r.is_empty()).map(AllowRule::from_str).collect()
}

/// Why a destination was refused; the message is safe to show to whoever entered the URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Resolves (only) to addresses the rule keeps out.
    PrivateAddress,
    /// The name does not resolve.
    Unresolvable,
    /// Not an http(s) URL with a host.
    BadUrl,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::PrivateAddress => {
                "This address is on a private or local network, which Supportal does not send to \
                 (an operator can allow it with SUPPORTAL_OUTBOUND_ALLOW)."
            }
            Refusal::Unresolvable => "This host name could not be found.",
            Refusal::BadUrl => "Use an http:// or https:// URL with a host name.",
        })
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// A few words for delivery logs.
    pub fn short(&self) -> &'static str {
        match self {
            Refusal::PrivateAddress => "private or local address",
            Refusal::Unresolvable => "unknown host",
            Refusal::BadUrl => "not an http(s) URL",
        }
    }
}

/// Which of `addrs` (all for one name) may be connected to: public ones, and those a rule allows.
pub fn permitted(rules: &[AllowRule], host: &str, addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    addrs.iter().copied().filter(|a| is_public(a.ip()) || rules.iter().any(|r| r.matches(host, *a))).collect()
}

pub use io::{OutboundHttp, OutboundPolicy};

mod io {
    use super::{permitted, AllowRule, AllowTarget, Refusal};
    use std::net::{IpAddr, SocketAddr};
    use std::sync::Arc;
    use std::time::Duration;

    /// The allow-list and the resolver every outbound connection goes through.
    #[derive(Clone, Debug, Default)]
    pub struct OutboundPolicy {
        rules: Arc<Vec<AllowRule>>,
    }

    impl OutboundPolicy {
        pub fn new(rules: Vec<AllowRule>) -> Self {
            OutboundPolicy { rules: Arc::new(rules) }
        }

        /// From the setting's text (see [`super::parse_allow_list`]).
        pub fn from_setting(raw: &str) -> Result<Self, String> {
            super::parse_allow_list(raw).map(Self::new)
        }

        /// Adds a destination the operator configured themself (the SMTP or IMAP server in the settings):
        /// those are trusted as they are, on their port only.
        pub fn with_operator_host(&self, host: &str, port: u16) -> Self {
            let mut rules = (*self.rules).clone();
            let target = match super::parse_net(host.trim_matches(['[', ']'])) {
                Some(net) => AllowTarget::Net(net),
                None => AllowTarget::Host(host.trim_end_matches('.').to_ascii_lowercase()),
            };
            rules.push(AllowRule { target, port: Some(port) });
            Self::new(rules)
        }

        pub fn rules(&self) -> &[AllowRule] {
            &self.rules
        }

        /// Resolves `host` and keeps the addresses the rule lets through; refused when none is left.
        pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Refusal> {
            let host = host.trim_matches(['[', ']']);
            let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, port)],
                Err(_) => tokio::net::lookup_host((host, port)).await.map_err(|_| Refusal::Unresolvable)?.collect(),
            };
            if addrs.is_empty() {
                return Err(Refusal::Unresolvable);
            }
            let allowed = permitted(&self.rules, host, &addrs);
            // A name with any refused address is refused whole: which one a client gets is up to DNS.
            if allowed.len() < addrs.len() {
                return Err(Refusal::PrivateAddress);
            }
            Ok(allowed)
        }

        /// Checks a URL someone wants Supportal to call (when it is saved): http(s), a host, and every
        /// address it resolves to allowed. A name that does not resolve (yet) is accepted: what counts is
        /// where it leads when it is used, which is checked again then. Returns the URL parsed.
        pub async fn check_url(&self, raw: &str) -> Result<reqwest::Url, Refusal> {
            let url = reqwest::Url::parse(raw.trim()).map_err(|_| Refusal::BadUrl)?;
            let (host, port) = url_target(&url)?;
            let lookup = tokio::time::timeout(Duration::from_secs(5), self.resolve(&host, port));
            match lookup.await {
                Ok(Err(Refusal::Unresolvable)) | Err(_) => Ok(url),
                Ok(Err(refusal)) => Err(refusal),
                Ok(Ok(_)) => Ok(url),
            }
        }

        /// A TCP connection to `host:port` through the rule (for mail servers and other raw protocols).
        pub async fn connect_tcp(&self, host: &str, port: u16) -> std::io::Result<tokio::net::TcpStream> {
            let addrs = self
                .resolve(host, port)
                .await
                .map_err(|r| std::io::Error::new(std::io::ErrorKind::PermissionDenied, r.to_string()))?;
            tokio::net::TcpStream::connect(&addrs[..]).await
        }

        /// An HTTP client under this rule, with `timeout` on every request and no redirects.
        pub fn http(&self, timeout: Duration, user_agent: &str) -> Result<OutboundHttp, String> {
            let builder = base_client(timeout, user_agent)
                .dns_resolver(Arc::new(Resolver { port_free: port_free_rules(&self.rules) }));
            let client = builder.build().map_err(|_| "could not start the HTTP client".to_string())?;
            Ok(OutboundHttp { policy: self.clone(), client, timeout, user_agent: user_agent.to_string() })
        }
    }

    /// The host and port a URL reaches; only http and https.
    fn url_target(url: &reqwest::Url) -> Result<(String, u16), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::BadUrl);
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or(Refusal::BadUrl)?;
        let port = url.port_or_known_default().ok_or(Refusal::BadUrl)?;
        Ok((host.trim_matches(['[', ']']).to_string(), port))
    }

    fn base_client(timeout: Duration, user_agent: &str) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // A redirect could lead anywhere, the rule's checks included: 3xx is an answer, never followed.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(user_agent.to_string())
    }

    /// The rules that allow an address whatever the port (the shared client's resolver does not see the port).
    fn port_free_rules(rules: &[AllowRule]) -> Vec<AllowRule> {
        rules.iter().filter(|r| r.port.is_none()).cloned().collect()
    }

    /// Resolves names for the shared client at connect time: public addresses, and those a port-free rule
    /// allows. (A destination allowed only on one port gets a client pinned to its checked addresses.)
    struct Resolver {
        port_free: Vec<AllowRule>,
    }

    impl reqwest::dns::Resolve for Resolver {
        fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
            let host = name.as_str().to_string();
            let rules = self.port_free.clone();
            Box::pin(async move {
                let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
                if addrs.is_empty() {
                    return Err(Box::new(Refusal::Unresolvable) as Box<dyn std::error::Error + Send + Sync>);
                }
                let allowed = permitted(&rules, &host, &addrs);
                if allowed.len() < addrs.len() {
                    return Err(Box::new(Refusal::PrivateAddress) as Box<dyn std::error::Error + Send + Sync>);
                }
                Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
            })
        }
    }

    /// HTTP under the rule. Every request is checked before it is sent (addresses in the URL never reach the
    /// resolver), and names are checked again when the connection is made.
    #[derive(Clone, Debug)]
    pub struct OutboundHttp {
        policy: OutboundPolicy,
        client: reqwest::Client,
        timeout: Duration,
        user_agent: String,
    }

    impl OutboundHttp {
        /// A request to `url`, or why it may not be made.
        pub async fn request(&self, method: reqwest::Method, url: &str) -> Result<reqwest::RequestBuilder, Refusal> {
            let parsed = reqwest::Url::parse(url.trim()).map_err(|_| Refusal::BadUrl)?;
            let (host, port) = url_target(&parsed)?;
            let addrs = self.policy.resolve(&host, port).await?;
            let needs_pinning = addrs.iter().any(|a| {
                !super::is_public(a.ip()) && !port_free_rules(self.policy.rules()).iter().any(|r| r.matches(&host, *a))
            });
            if !needs_pinning || host.parse::<IpAddr>().is_ok() {
                return Ok(self.client.request(method, parsed));
            }
            // Allowed only on this port: connect to exactly the addresses just checked, no second lookup.
            let client = base_client(self.timeout, &self.user_agent)
                .resolve_to_addrs(&host, &addrs)
                .build()
                .map_err(|_| Refusal::BadUrl)?;
            Ok(client.request(method, parsed))
        }

        pub async fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, Refusal> {
            self.request(reqwest::Method::POST, url).await
        }

        pub async fn get(&self, url: &str) -> Result<reqwest::RequestBuilder, Refusal> {
            self.request(reqwest::Method::GET, url).await
        }

        pub fn policy(&self) -> &OutboundPolicy {
            &self.policy
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for s in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip(s)), "{s} counted as public");
        }
        for s in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip(s)), "{s} counted as private");
        }
    }

    #[test]
    fn allow_rules_parse_hosts_addresses_networks_and_ports() {
        let cases = [
            ("hooks.internal", AllowTarget::Host("hooks.internal".into()), None),
            ("Hooks.Internal:8080", AllowTarget::Host("hooks.internal".into()), Some(8080)),
            ("127.0.0.1", AllowTarget::Net("127.0.0.1/32".parse().unwrap()), None),
            ("127.0.0.1:9000", AllowTarget::Net("127.0.0.1/32".parse().unwrap()), Some(9000)),
            ("10.1.0.0/16", AllowTarget::Net("10.1.0.0/16".parse().unwrap()), None),
            ("10.1.0.0/16:25", AllowTarget::Net("10.1.0.0/16".parse().unwrap()), Some(25)),
            ("fd00::/8", AllowTarget::Net("fd00::/8".parse().unwrap()), None),
            ("[::1]:8443", AllowTarget::Net("::1/128".parse().unwrap()), Some(8443)),
            ("localhost", AllowTarget::Host("localhost".into()), None),
        ];
        for (raw, target, port) in cases {
            assert_eq!(raw.parse::<AllowRule>(), Ok(AllowRule { target, port }), "{raw}");
        }
        for bad in ["", "host:port", "host:0", "10.0.0.0/33", "[::1", "a b", "http://x", "x:99999", "[::1]8080"] {
            assert!(bad.parse::<AllowRule>().is_err(), "{bad:?} accepted");
        }
        assert_eq!(parse_allow_list(" 127.0.0.1 , ,localhost:25").map(|l| l.len()), Ok(2));
        assert!(parse_allow_list("127.0.0.1,nope:").is_err());
    }

    #[test]
    fn rules_match_by_address_name_and_port() {
        let sock = |s: &str| s.parse::<SocketAddr>().unwrap();
        let rules = parse_allow_list("127.0.0.1:9000,10.1.0.0/16,hooks.internal").unwrap();
        let allowed = |host: &str, addr: &str| permitted(&rules, host, &[sock(addr)]).len() == 1;
        assert!(allowed("127.0.0.1", "127.0.0.1:9000"));
        assert!(!allowed("127.0.0.1", "127.0.0.1:22"), "the port is part of the rule");
        assert!(allowed("anything", "10.1.2.3:443"));
        assert!(!allowed("anything", "10.2.0.1:443"));
        assert!(allowed("hooks.internal", "192.168.0.9:80"), "a named host may resolve to a private address");
        assert!(!allowed("evil.example", "192.168.0.9:80"), "another name resolving there is still refused");
        assert!(allowed("public.example", "93.184.216.34:443"));
        assert!(allowed("x", "[::ffff:127.0.0.1]:9000"), "mapped addresses match their IPv4 rule");
        assert!(permitted(&[], "x", &[sock("127.0.0.1:80"), sock("93.184.216.34:80")]).len() == 1);
    }
}
