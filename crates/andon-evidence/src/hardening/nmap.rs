//! Nmap's XML output (`nmap -oX`): `<nmaprun>` with one `<host>` per host scanned, its
//! `<status>`, `<address>`es, `<hostnames>` and `<ports>`. Nmap writes `<!DOCTYPE nmaprun>`,
//! which names no DTD and is read past. `<hosthint>`s (hosts seen while the scan ran) are not
//! hosts of the report.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use quick_xml::events::Event;

use super::{HardeningSummary, MAX_PORTS_LISTED, sorted_targets};
use crate::ParseError;
use crate::xml::{Xml, attr};

const FORMAT: &str = "Nmap XML";
/// Hosts read at most.
const MAX_HOSTS: usize = 1 << 20;
/// Open ports read at most.
const MAX_OPEN_PORTS: usize = 1_000_000;

/// A host being read.
#[derive(Default)]
struct Host {
    ip: Option<String>,
    mac: Option<String>,
    hostname: Option<String>,
    up: bool,
    /// (protocol, port, service) of its open ports.
    open: Vec<(String, u32, Option<String>)>,
}

impl Host {
    /// How the summary names the host: its IP address, else its MAC address, else its name.
    fn name(&self) -> String {
        self.ip
            .clone()
            .or_else(|| self.mac.clone())
            .or_else(|| self.hostname.clone())
            .map(|n| word(&n))
            .unwrap_or_else(|| "(no-address)".to_owned())
    }
}

/// A port being read.
struct Port {
    protocol: String,
    number: u32,
    open: bool,
    service: Option<String>,
}

/// Sort key of an open port: host (names, then addresses in order), protocol, number.
type PortKey = ((Option<IpAddr>, String), String, u32);

/// Parses Nmap XML.
pub(super) fn parse(doc: &[u8]) -> Result<HardeningSummary, ParseError> {
    let mut xml = Xml::new(doc, FORMAT)?;
    let mut s = HardeningSummary {
        format: "nmap".into(),
        tool: "nmap".into(),
        ..Default::default()
    };
    let mut root = false;
    let mut closed = false;
    let mut hosts = 0usize;
    let mut targets = BTreeSet::new();
    let mut open: BTreeMap<PortKey, Option<String>> = BTreeMap::new();
    let mut host: Option<Host> = None;
    let mut port: Option<Port> = None;
    loop {
        let event = xml.next()?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name();
                let name = name.as_ref();
                if !root {
                    if name != "nmaprun" {
                        return Err(
                            xml.malformed(format!("the root element is <{name}>, not <nmaprun>"))
                        );
                    }
                    root = true;
                    s.tool = attr(e, "scanner").unwrap_or_else(|| "nmap".into());
                    s.tool_version = attr(e, "version");
                    continue;
                }
                match (name, host.as_mut()) {
                    ("host", None) => {
                        hosts += 1;
                        if hosts > MAX_HOSTS {
                            return Err(xml.refused(format!("more than {MAX_HOSTS} hosts")));
                        }
                        if !empty {
                            host = Some(Host::default());
                        }
                    }
                    ("host", Some(_)) => return Err(xml.malformed("a <host> inside a <host>")),
                    ("status", Some(h)) => h.up = attr(e, "state").as_deref() == Some("up"),
                    ("address", Some(h)) => {
                        let addr = attr(e, "addr")
                            .ok_or_else(|| xml.malformed("an <address> without addr"))?;
                        match attr(e, "addrtype").as_deref() {
                            Some("mac") => {
                                h.mac.get_or_insert(addr);
                            }
                            _ => {
                                h.ip.get_or_insert(addr);
                            }
                        }
                    }
                    ("hostname", Some(h)) => {
                        if let Some(n) = attr(e, "name") {
                            h.hostname.get_or_insert(n);
                        }
                    }
                    ("port", Some(_)) => {
                        let protocol = attr(e, "protocol")
                            .ok_or_else(|| xml.malformed("a <port> without protocol"))?;
                        let number = attr(e, "portid")
                            .and_then(|p| p.parse().ok())
                            .ok_or_else(|| xml.malformed("a <port> without a numeric portid"))?;
                        if !empty {
                            port = Some(Port {
                                protocol: word(&protocol),
                                number,
                                open: false,
                                service: None,
                            });
                        }
                    }
                    ("state", Some(_)) => {
                        if let Some(p) = port.as_mut() {
                            p.open = attr(e, "state").as_deref() == Some("open");
                        }
                    }
                    ("service", Some(_)) => {
                        if let Some(p) = port.as_mut() {
                            p.service = service_name(e);
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref e) => match e.local_name().as_ref() {
                "port" => {
                    if let (Some(p), Some(h)) = (port.take(), host.as_mut())
                        && p.open
                    {
                        h.open.push((p.protocol, p.number, p.service));
                    }
                }
                "host" => {
                    if let Some(h) = host.take() {
                        let name = h.name();
                        s.hosts_up += u64::from(h.up);
                        targets.insert(name.clone());
                        for (protocol, number, service) in h.open {
                            let key = ((name.parse().ok(), name.clone()), protocol, number);
                            open.entry(key).or_insert(service);
                            if open.len() > MAX_OPEN_PORTS {
                                return Err(
                                    xml.refused(format!("more than {MAX_OPEN_PORTS} open ports"))
                                );
                            }
                        }
                    }
                }
                "nmaprun" => closed = true,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    if !root {
        return Err(xml.malformed("the document has no root element"));
    }
    if !closed {
        return Err(xml.malformed("the document ends before </nmaprun> (an interrupted scan?)"));
    }
    s.targets = sorted_targets(targets);
    s.open_ports_total = open.len() as u64;
    s.open_ports = open
        .into_iter()
        .take(MAX_PORTS_LISTED)
        .map(|(((_, host), protocol, number), service)| match service {
            Some(svc) => format!("{host} {protocol}/{number} {svc}"),
            None => format!("{host} {protocol}/{number}"),
        })
        .collect();
    Ok(s)
}

/// The service's name as Nmap shows it (`ssl/https` when tunnelled); none for `unknown`.
fn service_name(e: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    let name = attr(e, "name").filter(|n| !n.trim().is_empty() && n != "unknown")?;
    let name = word(&name);
    Some(match attr(e, "tunnel").as_deref() {
        Some("ssl") => format!("ssl/{name}"),
        _ => name,
    })
}

/// `text` as one word: the summary's entries are split on spaces, so white space inside a
/// host name, protocol or service name becomes `_`.
fn word(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("_")
}
