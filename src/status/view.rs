//! The report of `privai status` as text: one screen, problems last with
//! their fixes.

use super::{Level, Report};
use std::fmt::Write as _;

fn mark(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "ok",
        Some(false) => "FAILING",
        None => "-",
    }
}

/// The report as text.
pub fn render(report: &Report) -> String {
    let mut s = String::new();
    let verdict = match report.level {
        Level::Healthy => "healthy",
        Level::Degraded => "DEGRADED",
        Level::Down => "DOWN",
    };
    let _ = writeln!(s, "System: {verdict}");
    let _ = writeln!(
        s,
        "Generation: {}{}",
        report
            .generation
            .map(|g| g.to_string())
            .unwrap_or_else(|| "none (nothing applied yet)".into()),
        match (report.pending_changes, report.drift_known) {
            (_, false) => ", drift unknown while a service does not answer".to_owned(),
            (0, true) => ", no drift".to_owned(),
            (n, true) => format!(", {n} change(s) pending"),
        }
    );
    let _ = writeln!(s, "\nServices:");
    for service in &report.services {
        let _ = writeln!(
            s,
            "  {:<14} {:<8} {}{}",
            service.name,
            mark(service.healthy),
            service.managed_by,
            service
                .state
                .as_deref()
                .map(|state| format!(" ({state})"))
                .unwrap_or_default()
        );
    }
    if let Some(h) = &report.headscale {
        let _ = writeln!(
            s,
            "\nHeadscale: {}{}{}",
            h.state,
            h.version
                .as_deref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default(),
            if h.state == "up" {
                format!(
                    ", {} node(s), {} online{}",
                    h.nodes,
                    h.online,
                    match h.policy_is_the_spec_s {
                        Some(true) => ", policy is the spec's",
                        Some(false) => ", policy DIFFERS from the spec's",
                        None => "",
                    }
                )
            } else {
                String::new()
            }
        );
        for key in &h.keys_expiring {
            let _ = writeln!(s, "  {key}");
        }
        for node in &h.unexpected_nodes {
            let _ = writeln!(s, "  NOT IN THE SPEC: {node}");
        }
    }
    if !report.devices.is_empty() {
        let _ = writeln!(s, "\nDevices:");
        for d in &report.devices {
            let state = match (d.joined, d.online) {
                (None, _) | (Some(true), None) => "unknown (Headscale did not answer)".to_owned(),
                (Some(false), _) => "not joined".to_owned(),
                (Some(true), Some(true)) => "online".to_owned(),
                (Some(true), Some(false)) => format!(
                    "OFF the VPN{}",
                    d.last_seen
                        .as_deref()
                        .map(|t| format!(" (last seen {t})"))
                        .unwrap_or_default()
                ),
            };
            let _ = writeln!(
                s,
                "  {:<16} {:<8} {:<16} {state}",
                d.name,
                d.user,
                d.addresses.first().map(String::as_str).unwrap_or("-"),
            );
        }
    }
    if let Some(o) = &report.ollama {
        let _ = writeln!(
            s,
            "\nOllama: {}{}",
            o.state,
            o.version
                .as_deref()
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default()
        );
        for m in &o.models {
            let _ = writeln!(
                s,
                "  {:<24} {:<9} {}{}{}",
                m.name,
                m.role,
                match m.present {
                    Some(true) => "present",
                    Some(false) => "MISSING",
                    None => "unknown",
                },
                match m.matches_lock {
                    Some(true) => ", as locked",
                    Some(false) => ", NOT as locked",
                    None => "",
                },
                m.loaded_bytes
                    .map(|b| format!(", loaded ({})", crate::sizing::gib(b)))
                    .unwrap_or_default()
            );
        }
        if !o.extra.is_empty() {
            let _ = writeln!(s, "  also present: {}", o.extra.join(", "));
        }
    }
    if let Some(g) = &report.gateway {
        let _ = writeln!(
            s,
            "\nGateway: {}{}, answering with {}",
            match g.healthy {
                Some(true) => "healthy",
                Some(false) => "FAILING its health check",
                None => "not probed",
            },
            match g.current_definition {
                Some(true) => ", containers of the current generation",
                Some(false) => ", containers NOT of the current generation",
                None => "",
            },
            match (&g.answering, g.answering_as.as_str()) {
                (Some(model), role) => format!("{model} ({role})"),
                (None, "unknown") => "a model not known here (Ollama was not asked)".to_owned(),
                (None, _) => "no model".to_owned(),
            }
        );
    }
    if report.findings.is_empty() {
        let _ = writeln!(s, "\nNo problems found.");
    } else {
        let _ = writeln!(s, "\nProblems:");
        for f in &report.findings {
            let level = match f.level {
                Level::Down => "down",
                Level::Degraded => "degraded",
                Level::Healthy => "note",
            };
            let _ = writeln!(s, "  [{level}] {}", f.problem);
            let _ = writeln!(s, "      fix: {}", f.fix);
        }
    }
    s
}
