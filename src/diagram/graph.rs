//! The diagram as text for other tools: Mermaid (renders in GitHub and
//! GitLab Markdown) and Graphviz DOT.

use super::{Diagram, service_label};
use std::fmt::Write as _;

/// An identifier safe in Mermaid and DOT, unique per `kind` and name
/// (names are DNS labels, but be safe with anything).
fn id(kind: &str, name: &str) -> String {
    let mut out = format!("{kind}_");
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            let _ = write!(out, "_{:x}_", c as u32);
        }
    }
    out
}

/// `text` for a Mermaid label in double quotes (`#quot;` is its escape).
fn mermaid_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect::<String>()
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// `text` for a DOT label in double quotes.
fn dot_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(60)
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

/// ` · online` / ` · offline` when Headscale was asked.
fn presence(online: Option<bool>) -> &'static str {
    match online {
        Some(true) => " · online",
        Some(false) => " · offline",
        None => "",
    }
}

/// The diagram as a Mermaid flowchart.
pub fn mermaid(diagram: &Diagram) -> String {
    let mut s = String::from("flowchart LR\n");
    for person in &diagram.users {
        let mut title = person.name.clone();
        if !person.groups.is_empty() {
            title.push_str(&format!(" ({})", person.groups.join(", ")));
        }
        let _ = writeln!(
            s,
            "  subgraph {}[\"{}\"]",
            id("user", &person.name),
            mermaid_text(&title)
        );
        for device in &person.devices {
            let _ = writeln!(
                s,
                "    {}[\"{}<br/>{}{}\"]",
                id("device", &device.name),
                mermaid_text(&device.name),
                mermaid_text(&device.what),
                presence(device.online)
            );
        }
        let _ = writeln!(s, "  end");
    }
    for host in &diagram.hosts {
        let title = match &host.tailnet_ip {
            Some(ip) => format!("{} {ip}", host.name),
            None => host.name.clone(),
        };
        let _ = writeln!(
            s,
            "  subgraph {}[\"{}\"]",
            id("host", &host.name),
            mermaid_text(&title)
        );
        for service in &host.services {
            let _ = writeln!(
                s,
                "    {}[\"{}<br/>{}\"]",
                id("svc", &format!("{}:{}", host.name, service.what)),
                mermaid_text(&service_label(service.what, service.port)),
                mermaid_text(&service.listen)
            );
        }
        let _ = writeln!(s, "  end");
    }
    for edge in &diagram.edges {
        let _ = writeln!(
            s,
            "  {} -->|\"tcp {} · rule {}\"| {}",
            id("device", &edge.device),
            edge.port,
            edge.rule,
            id("svc", &format!("{}:{}", edge.host, edge.what))
        );
    }
    for local in &diagram.local_edges {
        let _ = writeln!(
            s,
            "  {} -.->|\"on the host\"| {}",
            id("svc", &format!("{}:{}", local.host, local.from)),
            id("svc", &format!("{}:{}", local.host, local.to))
        );
    }
    s
}

/// The diagram as a Graphviz digraph (`dot -Tsvg` draws it).
pub fn dot(diagram: &Diagram) -> String {
    let mut s = String::from(
        "digraph privai {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n",
    );
    for person in &diagram.users {
        let mut title = person.name.clone();
        if !person.groups.is_empty() {
            title.push_str(&format!(" ({})", person.groups.join(", ")));
        }
        let _ = writeln!(
            s,
            "  subgraph cluster_{} {{\n    label=\"{}\";",
            id("user", &person.name),
            dot_text(&title)
        );
        for device in &person.devices {
            let _ = writeln!(
                s,
                "    {} [label=\"{}\\n{}{}\"];",
                id("device", &device.name),
                dot_text(&device.name),
                dot_text(&device.what),
                presence(device.online)
            );
        }
        let _ = writeln!(s, "  }}");
    }
    for host in &diagram.hosts {
        let title = match &host.tailnet_ip {
            Some(ip) => format!("{} {ip}", host.name),
            None => host.name.clone(),
        };
        let _ = writeln!(
            s,
            "  subgraph cluster_{} {{\n    label=\"{}\";",
            id("host", &host.name),
            dot_text(&title)
        );
        for service in &host.services {
            let _ = writeln!(
                s,
                "    {} [label=\"{}\\n{}\"];",
                id("svc", &format!("{}:{}", host.name, service.what)),
                dot_text(&service_label(service.what, service.port)),
                dot_text(&service.listen)
            );
        }
        let _ = writeln!(s, "  }}");
    }
    for edge in &diagram.edges {
        let _ = writeln!(
            s,
            "  {} -> {} [label=\"tcp {} · rule {}\"];",
            id("device", &edge.device),
            id("svc", &format!("{}:{}", edge.host, edge.what)),
            edge.port,
            edge.rule
        );
    }
    for local in &diagram.local_edges {
        let _ = writeln!(
            s,
            "  {} -> {} [style=dashed, label=\"on the host\"];",
            id("svc", &format!("{}:{}", local.host, local.from)),
            id("svc", &format!("{}:{}", local.host, local.to))
        );
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_keep_only_safe_characters_and_stay_distinct() {
        assert_eq!(id("device", "alex-phone"), "device_alex_2d_phone");
        assert_ne!(id("d", "a-b"), id("d", "a_b"));
        assert!(
            id("d", "x\"];evil")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
    }

    #[test]
    fn labels_cannot_close_their_quotes() {
        assert_eq!(dot_text("a\"b\\"), "a\\\"b\\\\");
        assert_eq!(mermaid_text("a\"b<c>"), "a#quot;b#lt;c#gt;");
    }
}
