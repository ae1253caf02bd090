//! Which address a request comes from: the peer of its connection, or, when that peer is one of
//! `LEADHOOK_TRUSTED_PROXIES`, the right-most `X-Forwarded-For` entry that is not itself a trusted
//! proxy. Entries left of that were written by the client and prove nothing, so an untrusted
//! sender cannot choose the address it is throttled and logged under.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::app::AppState;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client address of a request, in its extensions for the request span and the throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Puts the request's [`ClientAddr`] in its extensions.
pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // The serve loop gives every connection its peer; a router driven without it gets 0.0.0.0.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let client = client_of(peer, request.headers(), &state.config.trusted_proxies);
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers count as one list, in order.
    let forwarded = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect::<Vec<_>>();
    let mut client = peer;
    for entry in forwarded.into_iter().rev() {
        // A malformed hop stops the walk at the last proxy we trust.
        let Some(hop) = parse_hop(entry.trim()) else {
            break;
        };
        client = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an IP, or an IP with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn proxies() -> Vec<IpNet> {
        vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ]
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let headers = forwarded(&["198.51.100.1"]);
        assert_eq!(
            client_of(ip("203.0.113.9"), &headers, &proxies()),
            ip("203.0.113.9")
        );
        assert_eq!(client_of(ip("127.0.0.1"), &headers, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let headers = forwarded(&["192.0.2.1, 203.0.113.7", "10.1.2.3"]);
        assert_eq!(
            client_of(ip("127.0.0.1"), &headers, &proxies()),
            ip("203.0.113.7")
        );
        let with_port = forwarded(&["[2001:db8::1]:4711"]);
        assert_eq!(
            client_of(ip("127.0.0.1"), &with_port, &proxies()),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn a_trusted_peer_without_a_usable_header_is_the_client() {
        let proxies = proxies();
        assert_eq!(
            client_of(ip("10.0.0.5"), &HeaderMap::new(), &proxies),
            ip("10.0.0.5")
        );
        let garbage = forwarded(&["192.0.2.1, not-an-ip"]);
        assert_eq!(
            client_of(ip("10.0.0.5"), &garbage, &proxies),
            ip("10.0.0.5")
        );
    }
}
