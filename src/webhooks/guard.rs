//! Where a webhook may be delivered: never to this network's own machines.
//!
//! A subscriber chooses the URL, so without a check it could make the service call its own
//! neighbours (a database, a cloud metadata endpoint). Addresses that are loopback,
//! private, link-local, shared (CGNAT), multicast or otherwise not on the public internet
//! are refused, unless the host is named in `VOV_WEBHOOK_ALLOWED_HOSTS`. The check runs
//! when a subscription is saved and again at every connection ([`GuardedResolver`]
//! resolves and filters in one step), so a name that later resolves elsewhere (DNS
//! rebinding) is refused too.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use url::{Host, Url};

/// The hosts that may be private (`VOV_WEBHOOK_ALLOWED_HOSTS`), lowercased.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Arc<Vec<String>>);

impl AllowedHosts {
    pub fn parse(setting: &str) -> Self {
        Self(Arc::new(
            setting
                .split(',')
                .map(|h| h.trim().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        ))
    }

    pub fn contains(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.0.iter().any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Whether `ip` is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64 to anything, private included
}

/// Why a URL may not be delivered to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the URL is not absolute: {0}")]
    Malformed(String),
    #[error("webhooks are delivered over HTTPS; plain `http` only to this machine (loopback), for development")]
    NotHttps,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL must not carry a fragment (`#...`)")]
    Fragment,
    #[error("`{0}` is a private, loopback or link-local address; webhooks go to public addresses only")]
    Private(String),
    #[error("`{0}` resolves to a private, loopback or link-local address; webhooks go to public addresses only")]
    ResolvesPrivate(String),
    #[error("`{0}` does not resolve")]
    Unresolved(String),
}

/// Checks a URL's form and, for an address written in it, the address: the checks that
/// need no name lookup. Gives the parsed URL.
pub fn check_url(raw: &str, allowed: &AllowedHosts) -> Result<Url, Refused> {
    let url = Url::parse(raw).map_err(|e| Refused::Malformed(e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused::Credentials);
    }
    if url.fragment().is_some() {
        return Err(Refused::Fragment);
    }
    let host = url.host().ok_or_else(|| Refused::Malformed("it names no host".into()))?;
    let loopback = match &host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(Refused::NotHttps),
    }
    let name = url.host_str().unwrap_or_default().to_string();
    if allowed.contains(&name) {
        return Ok(url);
    }
    let ip = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) if loopback => return Err(Refused::Private(name)),
        Host::Domain(_) => None,
    };
    match ip {
        Some(ip) if !is_public(ip) => Err(Refused::Private(name)),
        _ => Ok(url),
    }
}

/// Resolves a URL's host as a connection would, and refuses it when every address it
/// resolves to is private (a subscription is checked when saved, so its owner learns at
/// once; deliveries go through [`GuardedResolver`]).
pub async fn check_resolves(url: &Url, allowed: &AllowedHosts) -> Result<(), Refused> {
    let Some(Host::Domain(name)) = url.host() else { return Ok(()) };
    if allowed.contains(name) {
        return Ok(());
    }
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((name, 443)).await.map_err(|_| Refused::Unresolved(name.to_string()))?.collect();
    if addrs.is_empty() {
        return Err(Refused::Unresolved(name.to_string()));
    }
    if addrs.iter().all(|a| !is_public(a.ip())) {
        return Err(Refused::ResolvesPrivate(name.to_string()));
    }
    Ok(())
}

/// The resolver deliveries connect through: it gives only public addresses, unless the
/// name is allowed, so the address checked is the address connected to.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allowed: AllowedHosts,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allowed = self.allowed.clone();
        let name = name.as_str().to_string();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let keep: Vec<SocketAddr> =
                if allowed.contains(&name) { all } else { all.into_iter().filter(|a| is_public(a.ip())).collect() };
            if keep.is_empty() {
                return Err(Box::new(Refused::ResolvesPrivate(name)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(keep.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} counted as public");
        }
        for ip in ["1.1.1.1", "8.8.8.8", "193.191.245.10", "2a00:1450:4007:80f::200e", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip} counted as private");
        }
    }

    #[test]
    fn urls_are_https_to_public_addresses_unless_allowed() {
        let none = AllowedHosts::parse("");
        assert!(check_url("https://hr.example.com/hooks/vov", &none).is_ok());
        assert!(check_url("https://8.8.8.8/hook", &none).is_ok());
        assert_eq!(check_url("http://hr.example.com/hook", &none), Err(Refused::NotHttps));
        assert_eq!(check_url("ftp://hr.example.com/hook", &none), Err(Refused::NotHttps));
        assert_eq!(check_url("https://user:pw@hr.example.com/", &none), Err(Refused::Credentials));
        assert_eq!(check_url("https://hr.example.com/#x", &none), Err(Refused::Fragment));
        assert!(matches!(check_url("https://169.254.169.254/latest", &none), Err(Refused::Private(_))));
        assert!(matches!(check_url("https://[::ffff:10.0.0.1]/", &none), Err(Refused::Private(_))));
        assert!(matches!(check_url("http://127.0.0.1:9000/hook", &none), Err(Refused::Private(_))));
        assert!(matches!(check_url("http://localhost:9000/hook", &none), Err(Refused::Private(_))));
        assert!(matches!(check_url("not a url", &none), Err(Refused::Malformed(_))));

        let dev = AllowedHosts::parse(" 127.0.0.1 , LocalHost,[::1]");
        assert!(check_url("http://127.0.0.1:9000/hook", &dev).is_ok());
        assert!(check_url("http://localhost:9000/hook", &dev).is_ok());
        assert!(check_url("http://[::1]:9000/hook", &dev).is_ok());
        assert!(matches!(check_url("https://10.0.0.1/", &dev), Err(Refused::Private(_))), "only what is named");
        assert_eq!(check_url("http://10.0.0.1/", &dev), Err(Refused::NotHttps), "plain http to loopback only");
    }

    #[tokio::test]
    async fn a_name_is_checked_where_it_resolves() {
        let none = AllowedHosts::parse("");
        let url = Url::parse("https://localhost/x").unwrap();
        assert!(matches!(check_resolves(&url, &none).await, Err(Refused::ResolvesPrivate(_))));
        let resolver = GuardedResolver { allowed: none };
        let refused = reqwest::dns::Resolve::resolve(&resolver, "localhost".parse().unwrap()).await;
        assert!(refused.is_err(), "a name of this machine is not connected to");
        let resolver = GuardedResolver { allowed: AllowedHosts::parse("localhost") };
        let addrs: Vec<_> =
            reqwest::dns::Resolve::resolve(&resolver, "localhost".parse().unwrap()).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
