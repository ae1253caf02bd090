//! Where the server's clients and its metrics scraper come from: the trusted reverse proxies and
//! the metrics listen address.

use std::net::SocketAddr;

use ipnet::IpNet;

use super::ConfigError;

/// The metrics listener unless `LEADHOOK_METRICS_ADDR` says otherwise: loopback only.
pub const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9464";

/// `LEADHOOK_TRUSTED_PROXIES`: comma-separated IPs (a single host) or CIDRs.
pub(super) fn parse_trusted_proxies(value: Option<String>) -> Result<Vec<IpNet>, ConfigError> {
    const VAR: &str = "LEADHOOK_TRUSTED_PROXIES";
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::invalid(
                        VAR,
                        format!("\"{entry}\" is not an IP address or CIDR like 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

/// `LEADHOOK_METRICS_ADDR`: an address to listen on, or `off`.
pub(super) fn parse_metrics_addr(value: Option<String>) -> Result<Option<SocketAddr>, ConfigError> {
    let text = value.unwrap_or_else(|| DEFAULT_METRICS_ADDR.to_string());
    let text = text.trim();
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        ConfigError::invalid(
            "LEADHOOK_METRICS_ADDR",
            format!("\"{text}\" is not an address like {DEFAULT_METRICS_ADDR}, nor \"off\""),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_ips_or_cidrs() {
        let proxies = parse_trusted_proxies(Some(" 127.0.0.1, 10.0.0.0/8,,::1 ".into())).unwrap();
        let shown: Vec<String> = proxies.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]);
        assert_eq!(parse_trusted_proxies(None).unwrap(), Vec::<IpNet>::new());
        let error = parse_trusted_proxies(Some("10.0.0.0/8,caddy".into())).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("LEADHOOK_TRUSTED_PROXIES is invalid: \"caddy\""),
            "{error}"
        );
    }

    #[test]
    fn the_metrics_address_defaults_to_loopback_and_can_be_off() {
        assert_eq!(
            parse_metrics_addr(None).unwrap(),
            Some(DEFAULT_METRICS_ADDR.parse().unwrap())
        );
        assert_eq!(parse_metrics_addr(Some("OFF".into())).unwrap(), None);
        assert_eq!(
            parse_metrics_addr(Some("0.0.0.0:9100".into())).unwrap(),
            Some("0.0.0.0:9100".parse().unwrap())
        );
        let error = parse_metrics_addr(Some("9464".into())).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("LEADHOOK_METRICS_ADDR is invalid"),
            "{error}"
        );
    }
}
