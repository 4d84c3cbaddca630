//! The client's address: the peer's, or, when the peer is a trusted proxy, the one the
//! proxies say they forwarded for (`Forwarded`, RFC 7239, else `X-Forwarded-For`). The
//! authentication-failure limit counts by it and the access log names it, so clients behind
//! one proxy are told apart, and a client cannot pick its address by sending the header
//! itself: only trusted proxies' headers count, read from the right, past every trusted hop.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use forwarded_header_value::ForwardedHeaderValue;
use ipnet::IpNet;

use crate::state::Server;

/// The address a request came from, as far as this server can trust it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The client address of a request from `peer` with `headers`, given the trusted proxies.
pub fn client_addr(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let text = |name: &str| {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let parsed = match (text("forwarded"), text("x-forwarded-for")) {
        (Some(f), _) => ForwardedHeaderValue::from_forwarded(&f).ok(),
        (None, Some(x)) => ForwardedHeaderValue::from_x_forwarded_for(&x).ok(),
        (None, None) => None,
    };
    let Some(hops) = parsed else {
        return peer;
    };
    // From the nearest hop outwards: the first address no trusted proxy vouches for is the
    // client. A hop without an address (`unknown`, obfuscated) ends the walk there.
    let mut client = peer;
    for stanza in hops.iter().collect::<Vec<_>>().into_iter().rev() {
        match stanza.forwarded_for_ip() {
            Some(ip) if is_trusted(&ip) => client = ip,
            Some(ip) => return ip,
            None => return client,
        }
    }
    client
}

/// Middleware: puts the request's [`ClientAddr`] in its extensions.
pub(crate) async fn layer(State(server): State<Server>, mut req: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let ip = client_addr(
            peer.ip(),
            req.headers(),
            &server.app.config().trusted_proxies,
        );
        req.extensions_mut().insert(ClientAddr(ip));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    #[test]
    fn only_trusted_proxies_say_who_the_client_is() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.7")]);
        // A direct client's header is ignored.
        assert_eq!(
            client_addr(ip("198.51.100.1"), &xff, &trusted),
            ip("198.51.100.1")
        );
        // Through two trusted proxies: the first untrusted hop from the right.
        assert_eq!(
            client_addr(ip("10.0.0.2"), &xff, &trusted),
            ip("203.0.113.9")
        );
        // A client that sends its own header cannot pick its address: the proxy appends.
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        assert_eq!(
            client_addr(ip("10.0.0.2"), &spoofed, &trusted),
            ip("203.0.113.9")
        );
        // Forwarded wins over X-Forwarded-For; IPv6 in brackets with a port.
        let fwd = headers(&[
            ("forwarded", "for=\"[2001:db8::17]:4711\", for=10.0.0.7"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(
            client_addr(ip("10.0.0.2"), &fwd, &trusted),
            ip("2001:db8::17")
        );
        // Nothing forwarded, or unparseable: the peer.
        assert_eq!(
            client_addr(ip("10.0.0.2"), &headers(&[]), &trusted),
            ip("10.0.0.2")
        );
        let bad = headers(&[("forwarded", "for=\"[not an address")]);
        assert_eq!(client_addr(ip("10.0.0.2"), &bad, &trusted), ip("10.0.0.2"));
    }
}
