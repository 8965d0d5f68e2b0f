//! The exact text of each format for a diagram with everything in it:
//! people with and without groups, devices online, offline and unknown,
//! hosts with and without an address, services with and without a detail,
//! open and local edges, and names that try to break out of their quotes.

use super::{DeviceBox, Diagram, Edge, HostBox, LegendRule, LocalEdge, Person, ServiceBox};

fn everything() -> Diagram {
    Diagram {
        users: vec![
            Person {
                name: "alice".into(),
                display_name: Some("Alice <A&B>".into()),
                groups: vec!["group:trusted".into(), "group:admins".into()],
                devices: vec![
                    DeviceBox {
                        name: "alice-phone".into(),
                        what: "phone · ios".into(),
                        online: Some(true),
                    },
                    DeviceBox {
                        name: "x\"];evil<script>\\".into(),
                        what: "laptop · \"linux\"".into(),
                        online: Some(false),
                    },
                ],
            },
            Person {
                name: "bob".into(),
                display_name: None,
                groups: vec![],
                devices: vec![DeviceBox {
                    name: "bob-desktop".into(),
                    what:
                        "a very long description of a desktop that goes on and on past every limit"
                            .into(),
                    online: None,
                }],
            },
        ],
        hosts: vec![
            HostBox {
                name: "server".into(),
                tailnet_ip: Some("100.64.0.1".into()),
                what: "darwin · 36 GB · Apple M3 Pro".into(),
                services: vec![
                    ServiceBox {
                        what: "ollama",
                        port: 11434,
                        listen: "127.0.0.1:11434 (loopback)".into(),
                        detail: Some("qwen3:8b, llama3:8b".into()),
                    },
                    ServiceBox {
                        what: "gateway",
                        port: 18789,
                        listen: "100.64.0.1:18789".into(),
                        detail: None,
                    },
                ],
            },
            HostBox {
                name: "vps".into(),
                tailnet_ip: None,
                what: "linux".into(),
                services: vec![ServiceBox {
                    what: "headscale",
                    port: 443,
                    listen: "0.0.0.0:443".into(),
                    detail: Some("https://hs.example".into()),
                }],
            },
        ],
        edges: vec![
            Edge {
                device: "alice-phone".into(),
                host: "server".into(),
                port: 18789,
                what: "gateway",
                rule: 0,
            },
            Edge {
                device: "bob-desktop".into(),
                host: "server".into(),
                port: 11434,
                what: "ollama",
                rule: 7,
            },
        ],
        local_edges: vec![LocalEdge {
            host: "server".into(),
            from: "gateway",
            to: "ollama",
        }],
    }
}

fn rules() -> Vec<LegendRule> {
    vec![
        LegendRule {
            index: 0,
            text: "family -> gateway".into(),
            drawn: true,
        },
        LegendRule {
            index: 3,
            text: "ssh <everyone>".into(),
            drawn: false,
        },
    ]
}

#[test]
fn mermaid_is_exactly_as_drawn() {
    insta::assert_snapshot!(super::mermaid(&everything()));
}

#[test]
fn dot_is_exactly_as_drawn() {
    insta::assert_snapshot!(super::dot(&everything()));
}

#[test]
fn svg_is_exactly_as_drawn() {
    insta::assert_snapshot!(super::svg(&everything(), "Home <AI> & co", &rules()));
}

#[test]
fn an_empty_diagram_is_exactly_as_drawn() {
    let empty = Diagram {
        users: vec![],
        hosts: vec![],
        edges: vec![],
        local_edges: vec![],
    };
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        super::mermaid(&empty),
        super::dot(&empty),
        super::svg(&empty, "t", &[])
    ));
}
