//! The diagram as a standalone SVG: people and their devices on the left,
//! hosts and their services on the right, the open ACL edges between them.
//! This module lays the picture out; `templates/diagram.svg.j2` draws it.

use super::template::render;
use super::{Diagram, LegendRule, service_label};
use serde::Serialize;
use std::collections::BTreeMap;

const WIDTH: i32 = 1000;
const LEFT_X: i32 = 30;
const LEFT_W: i32 = 300;
const RIGHT_X: i32 = 610;
const RIGHT_W: i32 = 340;
const TOP: i32 = 90;
/// Colours of the rules' edges, in turn.
const PALETTE: &[&str] = &[
    "#2b6cb0", "#2f855a", "#b7791f", "#9b2c2c", "#6b46c1", "#2c7a7b",
];
/// Longest text drawn from the spec, in characters.
const MAX_TEXT: usize = 44;

fn colour(rule: usize) -> &'static str {
    PALETTE[rule % PALETTE.len()]
}

/// The picture, laid out: what the template prints where.
#[derive(Serialize)]
struct Picture<'a> {
    width: i32,
    height: i32,
    left_x: i32,
    left_w: i32,
    right_x: i32,
    right_w: i32,
    top: i32,
    max_text: usize,
    palette: &'static [&'static str],
    title: &'a str,
    people: Vec<PersonBox<'a>>,
    hosts: Vec<HostFrame<'a>>,
    edges: Vec<EdgePath<'a>>,
    locals: Vec<LocalPath>,
    legend: Legend<'a>,
}

#[derive(Serialize)]
struct PersonBox<'a> {
    y: i32,
    height: i32,
    name: &'a str,
    /// Display name and groups.
    sub: String,
    devices: Vec<DeviceRow<'a>>,
}

#[derive(Serialize)]
struct DeviceRow<'a> {
    y: i32,
    stroke: &'static str,
    stroke_width: &'static str,
    online: Option<bool>,
    name: &'a str,
    what: &'a str,
}

#[derive(Serialize)]
struct HostFrame<'a> {
    y: i32,
    height: i32,
    name: &'a str,
    ip: &'a str,
    what: &'a str,
    services: Vec<ServiceRow<'a>>,
}

#[derive(Serialize)]
struct ServiceRow<'a> {
    y: i32,
    label: String,
    listen: &'a str,
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct EdgePath<'a> {
    x1: i32,
    y1: i32,
    x2: i32,
    y2: i32,
    colour: &'static str,
    marker: usize,
    device: &'a str,
    host: &'a str,
    port: u16,
    rule: usize,
}

#[derive(Serialize)]
struct LocalPath {
    x: i32,
    y1: i32,
    y2: i32,
    middle: i32,
}

#[derive(Serialize)]
struct Legend<'a> {
    /// Its heading.
    y: i32,
    /// "No rule lets a device reach a service", when none is drawn.
    nothing_drawn: Option<i32>,
    rules: Vec<RuleLine<'a>>,
    /// "Everything else is denied."
    denied: i32,
    /// What the devices' colours mean, when Headscale was asked.
    presence: Option<i32>,
}

#[derive(Serialize)]
struct RuleLine<'a> {
    y: i32,
    colour: &'static str,
    index: usize,
    text: &'a str,
    drawn: bool,
}

/// The diagram as SVG; `title` heads it, `rules` are the legend
/// ([`Diagram::legend`]).
pub fn svg(diagram: &Diagram, title: &str, rules: &[LegendRule]) -> String {
    // People and their devices; where each device's edge starts.
    let mut device_y = BTreeMap::new();
    let mut people = Vec::new();
    let mut y = TOP;
    for person in &diagram.users {
        let height = 52 + 42 * person.devices.len() as i32 + 6;
        let mut sub = person.display_name.clone().unwrap_or_default();
        if !person.groups.is_empty() {
            if !sub.is_empty() {
                sub.push_str(" · ");
            }
            sub.push_str(&person.groups.join(", "));
        }
        let mut devices = Vec::new();
        for (i, device) in person.devices.iter().enumerate() {
            let dy = y + 52 + 42 * i as i32;
            let (stroke, stroke_width) = match device.online {
                Some(true) => ("#38a169", "2.5"),
                Some(false) => ("#e53e3e", "2.5"),
                None => ("#a0aec0", "1"),
            };
            devices.push(DeviceRow {
                y: dy,
                stroke,
                stroke_width,
                online: device.online,
                name: &device.name,
                what: &device.what,
            });
            device_y.insert(device.name.clone(), dy + 17);
        }
        people.push(PersonBox {
            y,
            height,
            name: &person.name,
            sub,
            devices,
        });
        y += height + 18;
    }
    if diagram.users.is_empty() {
        y += 40;
    }
    let left_bottom = y;
    // Hosts and their services; where each service's edges end.
    let mut service_y = BTreeMap::new();
    let mut hosts = Vec::new();
    let mut y = TOP;
    for host in &diagram.hosts {
        let height = 62 + 66 * host.services.len() as i32 + 4;
        let mut services = Vec::new();
        for (i, service) in host.services.iter().enumerate() {
            let sy = y + 58 + 66 * i as i32;
            services.push(ServiceRow {
                y: sy,
                label: service_label(service.what, service.port),
                listen: &service.listen,
                detail: service.detail.as_deref(),
            });
            service_y.insert((host.name.clone(), service.what), sy + 29);
        }
        hosts.push(HostFrame {
            y,
            height,
            name: &host.name,
            ip: host.tailnet_ip.as_deref().unwrap_or_default(),
            what: &host.what,
            services,
        });
        y += height + 18;
    }
    let right_bottom = y;
    // The open edges, then the service-to-service ones.
    let edges = diagram
        .edges
        .iter()
        .filter_map(|edge| {
            Some(EdgePath {
                x1: LEFT_X + LEFT_W - 14,
                y1: *device_y.get(&edge.device)?,
                x2: RIGHT_X + 14,
                y2: *service_y.get(&(edge.host.clone(), edge.what))?,
                colour: colour(edge.rule),
                marker: edge.rule % PALETTE.len(),
                device: &edge.device,
                host: &edge.host,
                port: edge.port,
                rule: edge.rule,
            })
        })
        .collect();
    let locals = diagram
        .local_edges
        .iter()
        .filter_map(|local| {
            let y1 = *service_y.get(&(local.host.clone(), local.from))?;
            let y2 = *service_y.get(&(local.host.clone(), local.to))?;
            Some(LocalPath {
                x: RIGHT_X + RIGHT_W - 14,
                y1,
                y2,
                middle: (y1 + y2) / 2,
            })
        })
        .collect();
    // The legend: the rules that are open; everything else is denied.
    let heading = left_bottom.max(right_bottom) + 10;
    let mut y = heading + 22;
    let nothing_drawn = (!rules.iter().any(|r| r.drawn)).then(|| {
        y += 20;
        y - 20
    });
    let rules = rules
        .iter()
        .map(|rule| {
            let line = RuleLine {
                y,
                colour: if rule.drawn {
                    colour(rule.index)
                } else {
                    "#cbd5e0"
                },
                index: rule.index,
                text: &rule.text,
                drawn: rule.drawn,
            };
            y += 20;
            line
        })
        .collect();
    let denied = y;
    let presence = diagram
        .users
        .iter()
        .flat_map(|u| &u.devices)
        .any(|d| d.online.is_some())
        .then(|| {
            y += 18;
            y
        });
    let picture = Picture {
        width: WIDTH,
        height: y + 24,
        left_x: LEFT_X,
        left_w: LEFT_W,
        right_x: RIGHT_X,
        right_w: RIGHT_W,
        top: TOP,
        max_text: MAX_TEXT,
        palette: PALETTE,
        title,
        people,
        hosts,
        edges,
        locals,
        legend: Legend {
            y: heading,
            nothing_drawn,
            rules,
            denied,
            presence,
        },
    };
    render("diagram.svg.j2", &picture)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::template::{cut, xml_text};

    /// `value` cut to `max` characters, then escaped, as the template prints it.
    fn text(value: &str, max: usize) -> String {
        xml_text(&cut(value, max))
    }
    use crate::diagram::{DeviceBox, Diagram, Person};

    #[test]
    fn text_from_the_spec_is_escaped_and_cut() {
        assert_eq!(
            text("<a href=\"x\">&'", 40),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(text("abcdef", 4), "abc…");
    }

    #[test]
    fn a_hostile_user_name_cannot_break_out_of_its_text_element() {
        let diagram = Diagram {
            users: vec![Person {
                name: "</text><script>alert(1)</script>".into(),
                display_name: None,
                groups: vec![],
                devices: vec![DeviceBox {
                    name: "d".into(),
                    what: "phone · ios".into(),
                    online: None,
                }],
            }],
            hosts: vec![],
            edges: vec![],
            local_edges: vec![],
        };
        let out = svg(&diagram, "t", &[]);
        assert!(!out.contains("<script>"));
        assert!(out.contains("&lt;/text&gt;&lt;script&gt;"));
    }
}
