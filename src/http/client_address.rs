//! The address a request comes from: the peer, or, when the peer is a trusted proxy (a load
//! balancer the operator names in `VOV_TRUSTED_PROXIES`), the client that proxy forwarded for.
//! Forwarding headers from anyone else are ignored: a client cannot pick its own bucket.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::{FORWARDED, HeaderName};

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Networks whose connections are trusted to say whom they forward for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8, 192.168.1.10, fd00::/8` (addresses or CIDR networks,
    /// comma-separated; empty: none). `Err` names the entry that is not one.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, bits) = match entry.split_once('/') {
                Some((addr, bits)) => (addr, Some(bits)),
                None => (entry, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| entry.to_string())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| entry.to_string())?,
                None => max,
            };
            nets.push((addr, bits));
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, bits)| match (canonical(*net), ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), *bits),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), *bits),
            _ => false,
        })
    }

    /// The client's address: the peer's, unless the peer is trusted; then the nearest address
    /// in the forwarding chain (`Forwarded`, else `X-Forwarded-For`) that is not itself a
    /// trusted proxy. A chain that names nothing usable leaves the peer's address.
    pub fn client_of(&self, peer: IpAddr, req: &HttpRequest) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let chain: Vec<Option<IpAddr>> = if req.headers().contains_key(FORWARDED) {
            req.headers()
                .get_all(FORWARDED)
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(forwarded_for)
                .collect()
        } else {
            req.headers()
                .get_all(X_FORWARDED_FOR)
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(|a| strip_port(a.trim()))
                .collect()
        };
        // From the nearest hop outwards: each trusted proxy vouches for the one before it.
        for hop in chain.into_iter().rev() {
            match hop {
                Some(ip) if self.contains(ip) => continue,
                Some(ip) => return canonical(ip),
                None => break,
            }
        }
        peer
    }
}

/// The client address of a request, for rate limits and logs.
pub fn client_address(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    req.peer_addr().map(|peer| trusted.client_of(peer.ip(), req))
}

/// IPv4 addresses mapped into IPv6 (`::ffff:a.b.c.d`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(net: &[u8], addr: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    net[..whole] == addr[..whole] && (rest == 0 || (net[whole] ^ addr[whole]) >> (8 - rest) == 0)
}

/// The `for=` of one `Forwarded` element (RFC 7239): `for=192.0.2.60`,
/// `for="[2001:db8::1]:4711"`; obfuscated or unknown identifiers are `None`.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("for") {
            return None;
        }
        strip_port(value.trim().trim_matches('"'))
    })
}

/// An address with an optional port: `192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:80`, `2001:db8::1`.
fn strip_port(value: &str) -> Option<IpAddr> {
    if let Ok(ip) = value.parse() {
        return Some(ip);
    }
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    value.rsplit_once(':')?.0.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_are_addresses_or_cidr_and_anything_else_is_named() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.10 ,fd00::/8").unwrap();
        assert!(t.contains(ip("10.200.3.4")) && t.contains(ip("192.168.1.10")) && t.contains(ip("fd12::1")));
        assert!(t.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped IPv6 counts as IPv4");
        assert!(!t.contains(ip("11.0.0.1")) && !t.contains(ip("192.168.1.11")) && !t.contains(ip("fe80::1")));
        assert_eq!(TrustedProxies::parse("10.0.0.0/33"), Err("10.0.0.0/33".into()));
        assert_eq!(TrustedProxies::parse("proxy.local"), Err("proxy.local".into()));
        assert_eq!(TrustedProxies::parse(""), Ok(TrustedProxies::default()));
    }

    #[test]
    fn forwarding_headers_count_only_from_a_trusted_peer() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let req = TestRequest::default().insert_header(("x-forwarded-for", "203.0.113.7, 10.0.0.2")).to_http_request();
        assert_eq!(trusted.client_of(ip("10.0.0.1"), &req), ip("203.0.113.7"), "through two proxies of ours");
        assert_eq!(trusted.client_of(ip("198.51.100.9"), &req), ip("198.51.100.9"), "forged by a client");
        // A client that forges a first hop gets the address our proxy saw, not the forged one.
        let req = TestRequest::default().insert_header(("x-forwarded-for", "1.2.3.4, 203.0.113.7")).to_http_request();
        assert_eq!(trusted.client_of(ip("10.0.0.1"), &req), ip("203.0.113.7"));
        let req = TestRequest::default()
            .insert_header(("forwarded", "for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=https"))
            .to_http_request();
        assert_eq!(trusted.client_of(ip("10.0.0.1"), &req), ip("2001:db8:cafe::17"));
        let req = TestRequest::default().insert_header(("forwarded", "for=unknown")).to_http_request();
        assert_eq!(trusted.client_of(ip("10.0.0.1"), &req), ip("10.0.0.1"), "nothing usable: the proxy itself");
        let req = TestRequest::default().to_http_request();
        assert_eq!(trusted.client_of(ip("10.0.0.1"), &req), ip("10.0.0.1"));
    }
}
