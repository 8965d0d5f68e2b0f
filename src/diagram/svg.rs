//! The diagram as a standalone SVG: people and their devices on the left,
//! hosts and their services on the right, the open ACL edges between them.

use super::{Diagram, LegendRule, service_label};
use std::fmt::Write as _;

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

/// `text` escaped for XML, cut to `max` characters.
fn text(value: &str, max: usize) -> String {
    let mut cut: String = value
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    if value.chars().count() > max {
        cut.pop();
        cut.push('…');
    }
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn colour(rule: usize) -> &'static str {
    PALETTE[rule % PALETTE.len()]
}

/// The diagram as SVG; `title` heads it, `rules` are the legend
/// ([`Diagram::legend`]).
pub fn svg(diagram: &Diagram, title: &str, rules: &[LegendRule]) -> String {
    let mut body = String::new();
    // People and their devices; where each device's edge starts.
    let mut device_y = std::collections::BTreeMap::new();
    let mut y = TOP;
    for person in &diagram.users {
        let height = 52 + 42 * person.devices.len() as i32 + 6;
        let _ = writeln!(
            body,
            r##"<rect x="{LEFT_X}" y="{y}" width="{LEFT_W}" height="{height}" rx="10" fill="#f7fafc" stroke="#4a5568" stroke-width="1.5"/>"##
        );
        let _ = writeln!(
            body,
            r##"<text x="{}" y="{}" font-size="16" font-weight="bold" fill="#1a202c">{}</text>"##,
            LEFT_X + 14,
            y + 22,
            text(&person.name, MAX_TEXT),
        );
        let mut sub = person.display_name.clone().unwrap_or_default();
        if !person.groups.is_empty() {
            if !sub.is_empty() {
                sub.push_str(" · ");
            }
            sub.push_str(&person.groups.join(", "));
        }
        let _ = writeln!(
            body,
            r##"<text x="{}" y="{}" font-size="12" fill="#4a5568">{}</text>"##,
            LEFT_X + 14,
            y + 40,
            text(&sub, MAX_TEXT),
        );
        for (i, device) in person.devices.iter().enumerate() {
            let dy = y + 52 + 42 * i as i32;
            let (stroke, width) = match device.online {
                Some(true) => ("#38a169", 2.5),
                Some(false) => ("#e53e3e", 2.5),
                None => ("#a0aec0", 1.0),
            };
            let _ = writeln!(
                body,
                r##"<rect x="{}" y="{dy}" width="{}" height="34" rx="6" fill="#ffffff" stroke="{stroke}" stroke-width="{width}"/>"##,
                LEFT_X + 14,
                LEFT_W - 28,
            );
            if let Some(online) = device.online {
                let _ = writeln!(
                    body,
                    r##"<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{stroke}">{}</text>"##,
                    LEFT_X + LEFT_W - 22,
                    dy + 22,
                    if online { "● online" } else { "○ offline" },
                );
            }
            let _ = writeln!(
                body,
                r##"<text x="{}" y="{}" font-size="14" fill="#1a202c">{} <tspan font-size="11" fill="#718096">{}</tspan></text>"##,
                LEFT_X + 26,
                dy + 22,
                text(&device.name, 28),
                text(&device.what, 24),
            );
            device_y.insert(device.name.clone(), dy + 17);
        }
        y += height + 18;
    }
    if diagram.users.is_empty() {
        let _ = writeln!(
            body,
            r##"<text x="{LEFT_X}" y="{}" font-size="13" fill="#718096">No people yet: add `users` and `devices` to the spec.</text>"##,
            TOP + 20
        );
        y += 40;
    }
    let left_bottom = y;
    // Hosts and their services; where each service's edges end.
    let mut service_y = std::collections::BTreeMap::new();
    let mut y = TOP;
    for host in &diagram.hosts {
        let height = 62 + 66 * host.services.len() as i32 + 4;
        let _ = writeln!(
            body,
            r##"<rect x="{RIGHT_X}" y="{y}" width="{RIGHT_W}" height="{height}" rx="10" fill="#fffaf0" stroke="#4a5568" stroke-width="1.5"/>"##
        );
        let ip = host
            .tailnet_ip
            .as_deref()
            .map(str::to_owned)
            .unwrap_or_default();
        let _ = writeln!(
            body,
            r##"<text x="{}" y="{}" font-size="16" font-weight="bold" fill="#1a202c">{}<tspan dx="10" font-weight="normal" font-size="13" fill="#4a5568">{}</tspan></text>"##,
            RIGHT_X + 14,
            y + 24,
            text(&host.name, 30),
            text(&ip, 18),
        );
        let _ = writeln!(
            body,
            r##"<text x="{}" y="{}" font-size="12" fill="#4a5568">{}</text>"##,
            RIGHT_X + 14,
            y + 44,
            text(&host.what, 50),
        );
        for (i, service) in host.services.iter().enumerate() {
            let sy = y + 58 + 66 * i as i32;
            let _ = writeln!(
                body,
                r##"<rect x="{}" y="{sy}" width="{}" height="58" rx="6" fill="#ffffff" stroke="#a0aec0"/>"##,
                RIGHT_X + 14,
                RIGHT_W - 28,
            );
            let _ = writeln!(
                body,
                r##"<text x="{}" y="{}" font-size="14" font-weight="bold" fill="#1a202c">{}</text>"##,
                RIGHT_X + 26,
                sy + 19,
                text(&service_label(service.what, service.port), MAX_TEXT),
            );
            let _ = writeln!(
                body,
                r##"<text x="{}" y="{}" font-size="11" fill="#4a5568">listens {}</text>"##,
                RIGHT_X + 26,
                sy + 35,
                text(&service.listen, MAX_TEXT),
            );
            if let Some(detail) = &service.detail {
                let _ = writeln!(
                    body,
                    r##"<text x="{}" y="{}" font-size="11" fill="#718096">{}</text>"##,
                    RIGHT_X + 26,
                    sy + 50,
                    text(detail, 48),
                );
            }
            service_y.insert((host.name.clone(), service.what), sy + 29);
        }
        y += height + 18;
    }
    let right_bottom = y;
    // The open edges, then the service-to-service ones.
    let x1 = LEFT_X + LEFT_W - 14;
    let x2 = RIGHT_X + 14;
    let mut edges = String::new();
    for edge in &diagram.edges {
        let (Some(&y1), Some(&y2)) = (
            device_y.get(&edge.device),
            service_y.get(&(edge.host.clone(), edge.what)),
        ) else {
            continue;
        };
        let c = colour(edge.rule);
        let _ = writeln!(
            edges,
            r##"<path d="M{x1},{y1} C{},{y1} {},{y2} {},{y2}" fill="none" stroke="{c}" stroke-width="2" marker-end="url(#arrow{})"><title>{} → {}:{} (acl.rules[{}])</title></path>"##,
            x1 + 140,
            x2 - 140,
            x2 - 2,
            edge.rule % PALETTE.len(),
            text(&edge.device, MAX_TEXT),
            text(&edge.host, MAX_TEXT),
            edge.port,
            edge.rule,
        );
    }
    for local in &diagram.local_edges {
        let (Some(&y1), Some(&y2)) = (
            service_y.get(&(local.host.clone(), local.from)),
            service_y.get(&(local.host.clone(), local.to)),
        ) else {
            continue;
        };
        let x = RIGHT_X + RIGHT_W - 14;
        let _ = writeln!(
            edges,
            r##"<path d="M{x},{y1} C{},{y1} {},{y2} {x},{y2}" fill="none" stroke="#718096" stroke-width="1.5" stroke-dasharray="5,4" marker-end="url(#arrowlocal)"/>"##,
            x + 36,
            x + 36,
        );
        let _ = writeln!(
            edges,
            r##"<text x="{}" y="{}" font-size="10" fill="#718096" transform="rotate(90 {} {})" text-anchor="middle">on the host</text>"##,
            x + 24,
            (y1 + y2) / 2,
            x + 24,
            (y1 + y2) / 2,
        );
    }
    // The legend: the rules that are open; everything else is denied.
    let mut y = left_bottom.max(right_bottom) + 10;
    let mut legend = String::new();
    let _ = writeln!(
        legend,
        r##"<text x="{LEFT_X}" y="{y}" font-size="14" font-weight="bold" fill="#1a202c">Open by the ACL</text>"##
    );
    y += 22;
    if !rules.iter().any(|r| r.drawn) {
        let _ = writeln!(
            legend,
            r##"<text x="{LEFT_X}" y="{y}" font-size="13" fill="#4a5568">No rule lets a device reach a service.</text>"##
        );
        y += 20;
    }
    for rule in rules {
        let (c, note) = if rule.drawn {
            (colour(rule.index), "")
        } else {
            (
                "#cbd5e0",
                " (opens nothing drawn here; `privai acl` lists it)",
            )
        };
        let _ = writeln!(
            legend,
            r##"<line x1="{LEFT_X}" y1="{}" x2="{}" y2="{}" stroke="{c}" stroke-width="3"/><text x="{}" y="{y}" font-size="13" fill="#1a202c">acl.rules[{}]: {}<tspan dx="6" fill="#718096">{note}</tspan></text>"##,
            y - 4,
            LEFT_X + 30,
            y - 4,
            LEFT_X + 40,
            rule.index,
            text(&rule.text, 70),
        );
        y += 20;
    }
    let _ = writeln!(
        legend,
        r##"<text x="{LEFT_X}" y="{y}" font-size="12" fill="#718096">Everything else is denied. Dashed: services talking on the host itself.</text>"##
    );
    if diagram
        .users
        .iter()
        .flat_map(|u| &u.devices)
        .any(|d| d.online.is_some())
    {
        y += 18;
        let _ = writeln!(
            legend,
            r##"<text x="{LEFT_X}" y="{y}" font-size="12" fill="#718096">Devices: green online, red off the VPN or not joined (as Headscale reports now).</text>"##
        );
    }
    let height = y + 24;
    let mut markers = String::new();
    for (i, c) in PALETTE.iter().enumerate() {
        let _ = write!(
            markers,
            r##"<marker id="arrow{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>"##
        );
    }
    let _ = write!(
        markers,
        r##"<marker id="arrowlocal" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#718096"/></marker>"##
    );
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<defs>{markers}</defs>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{LEFT_X}" y="38" font-size="20" font-weight="bold" fill="#1a202c">{}</text>
<text x="{LEFT_X}" y="62" font-size="13" fill="#4a5568">People and their devices</text>
<text x="{RIGHT_X}" y="62" font-size="13" fill="#4a5568">Hosts and their services</text>
{body}{edges}{legend}</svg>
"##,
        text(title, 80)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
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
