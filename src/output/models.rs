//! The `privai models` report: one table per host, then alternatives.

use crate::sizing::fit::{FactsSource, HostFit, Verdict};
use crate::sizing::gib;
use std::fmt::Write;

/// Version of the JSON report's schema; bumped on any incompatible change
/// (a field removed, renamed, or of another type or meaning). Additions keep
/// it: new fields, such as the top-level `ollama` (whether Ollama was asked
/// for its facts), and new `source.kind` values, such as `ollama`. Readers
/// ignore fields and kinds they do not know. The schema is described in the
/// README (`privai models`).
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Where a model's facts come from, in a word of the `FACTS` column.
pub fn source_word(source: &FactsSource) -> &'static str {
    match source {
        FactsSource::Ollama { .. } => "ollama",
        FactsSource::Catalog { .. } => "catalog",
        FactsSource::StatedSize => "size_gb",
        FactsSource::None => "-",
    }
}

fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Fits => "fits",
        Verdict::Tight => "tight (<10% free)",
        Verdict::TooBig => "DOES NOT FIT",
        Verdict::Unknown => "unknown model",
    }
}

fn role_word(role: crate::model::ModelRole) -> String {
    format!("{role:?}").to_lowercase()
}

/// The human report for one host.
pub fn render(fit: &HostFit) -> String {
    let header = [
        "MODEL", "ROLE", "FACTS", "PARAMS", "QUANT", "DOWNLOAD", "CONTEXT", "NEEDS", "HEADROOM",
        "VERDICT",
    ];
    let mut rows: Vec<[String; 10]> = Vec::new();
    for m in &fit.models {
        let name = match &m.source {
            FactsSource::Catalog { tag: shown } | FactsSource::Ollama { name: shown, .. }
                if *shown != m.name =>
            {
                format!("{} ({shown})", m.name)
            }
            _ => m.name.clone(),
        };
        let dash = || "-".to_owned();
        rows.push([
            name,
            role_word(m.role),
            source_word(&m.source).to_owned(),
            m.parameters_b.map(|b| format!("{b}B")).unwrap_or_else(dash),
            m.quantization.clone().unwrap_or_else(dash),
            m.download_bytes.map(gib).unwrap_or_else(dash),
            m.estimate
                .map(|e| e.context.to_string())
                .unwrap_or_else(|| m.requested_context.to_string()),
            m.estimate.map(|e| gib(e.total)).unwrap_or_else(dash),
            m.headroom
                .map(|h| {
                    if h < 0 {
                        format!("-{}", gib(h.unsigned_abs()))
                    } else {
                        gib(h as u64)
                    }
                })
                .unwrap_or_else(dash),
            verdict_word(m.verdict).to_owned(),
        ]);
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "host {}: {}", fit.budget.host, fit.budget.explain());
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    for m in fit.models.iter().filter(|m| m.verdict == Verdict::TooBig) {
        let _ = writeln!(
            out,
            "\n{} does not fit. Largest {} models that do:",
            m.name,
            role_word(m.role)
        );
        if m.alternatives.is_empty() {
            let _ = writeln!(out, "  (none in the catalog)");
        }
        for a in &m.alternatives {
            let _ = writeln!(
                out,
                "  {:<24} {:>6}  needs {}",
                a.tag,
                format!("{}B", a.parameters_b),
                gib(a.total)
            );
        }
        for fix in &m.fixes {
            let _ = writeln!(out, "  or keep it with {fix}");
        }
    }
    for c in &fit.crowding {
        let names: Vec<&str> = c
            .models
            .iter()
            .map(|&i| fit.models[i].name.as_str())
            .collect();
        let _ = writeln!(
            out,
            "\nloaded together ({:?}): {} need {}, more than {}",
            c.reason,
            names.join(" + "),
            gib(c.total),
            gib(fit.budget.available)
        );
    }
    out
}
