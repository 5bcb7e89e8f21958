//! `net.cidr_merge(addrs)`: OPA's merge of IPv4/IPv6 networks and addresses into the smallest
//! set of CIDRs covering the same addresses. The aggregation is ipnet's (already built for
//! regorus's `net` feature); what is OPA's own is how an element is read.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};
use regorus::Value as RegoValue;

pub(crate) fn cidr_merge(params: Vec<RegoValue>) -> anyhow::Result<RegoValue> {
    let items: Vec<&RegoValue> = match params.first() {
        Some(RegoValue::Array(a)) => a.iter().collect(),
        Some(RegoValue::Set(s)) => s.iter().collect(),
        _ => anyhow::bail!("net.cidr_merge: operand 1 must be an array or a set of strings"),
    };
    let networks = items
        .into_iter()
        .map(network)
        .collect::<anyhow::Result<Vec<IpNet>>>()?;
    let merged: BTreeSet<RegoValue> = IpNet::aggregate(&networks)
        .iter()
        .map(|n| RegoValue::from(n.to_string()))
        .collect();
    Ok(RegoValue::from(merged))
}

/// As OPA reads an element: an address first, else a CIDR (host bits cleared). An IPv4
/// address takes its classful default mask (Go's `IP.DefaultMask`: 192.0.2.112 is
/// 192.0.2.0/24); an IPv6 address without a prefix length is an error, as in OPA.
fn network(item: &RegoValue) -> anyhow::Result<IpNet> {
    let RegoValue::String(text) = item else {
        anyhow::bail!("net.cidr_merge: element must be string");
    };
    let text: &str = text.as_ref();
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            let prefix = match ip.octets()[0] {
                0..=127 => 8,
                128..=191 => 16,
                192..=223 => 24,
                _ => anyhow::bail!("net.cidr_merge: {text}: no default mask for this IPv4 class"),
            };
            Ok(IpNet::V4(Ipv4Net::new(ip, prefix)?.trunc()))
        }
        Ok(IpAddr::V6(_)) => anyhow::bail!("net.cidr_merge: IPv6 invalid: needs prefix length"),
        Err(_) => match text.parse::<IpNet>() {
            Ok(net) => Ok(net.trunc()),
            Err(_) => anyhow::bail!("net.cidr_merge: invalid CIDR address: {text}"),
        },
    }
}
