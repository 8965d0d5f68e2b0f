//! `privai acl`: who can reach what, as a matrix of devices × services.

use super::Exit;
use crate::acl::eval::Policy;
use crate::acl::matrix::{Matrix, matrix};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai acl`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    /// Only this device's row.
    #[arg(long, value_name = "DEVICE")]
    pub from: Option<String>,
    /// Only this service's column, as `HOST:PORT`.
    #[arg(long, value_name = "HOST:PORT")]
    pub to: Option<String>,
    /// Name the rule behind each allowed cell.
    #[arg(long)]
    pub rules: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Version of the JSON report's schema.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    matrix: &'a Matrix,
}

/// Keeps only the row of `from` and the column of `to`.
fn filter(mut m: Matrix, from: Option<&str>, to: Option<&str>) -> anyhow::Result<Matrix> {
    if let Some(device) = from {
        let row = m.sources.iter().position(|s| s == device).ok_or_else(|| {
            anyhow::anyhow!(
                "no device `{device}`; the devices are: {}",
                m.sources.join(", ")
            )
        })?;
        m.sources = vec![m.sources.swap_remove(row)];
        m.cells = vec![m.cells.swap_remove(row)];
    }
    if let Some(target) = to {
        let column = m
            .services
            .iter()
            .position(|s| format!("{}:{}", s.host, s.port) == target)
            .ok_or_else(|| {
                let known: Vec<String> = m
                    .services
                    .iter()
                    .map(|s| format!("{}:{}", s.host, s.port))
                    .collect();
                anyhow::anyhow!(
                    "no service `{target}`; the services are: {}",
                    known.join(", ")
                )
            })?;
        m.services = vec![m.services.swap_remove(column)];
        for row in &mut m.cells {
            *row = vec![row.swap_remove(column)];
        }
    }
    Ok(m)
}

/// The matrix as a table: `yes` / `-`, or the rule index with `--rules`.
pub fn render_table(m: &Matrix, with_rules: bool) -> String {
    let headers: Vec<String> = m
        .services
        .iter()
        .map(|s| format!("{}:{} ({})", s.host, s.port, s.what))
        .collect();
    let first = m
        .sources
        .iter()
        .map(String::len)
        .chain(["DEVICE".len()])
        .max()
        .unwrap_or(6);
    let mut out = format!("{:<first$}", "DEVICE");
    for h in &headers {
        out.push_str(&format!("  {h}"));
    }
    out.push('\n');
    for (source, row) in m.sources.iter().zip(&m.cells) {
        out.push_str(&format!("{source:<first$}"));
        for (cell, h) in row.iter().zip(&headers) {
            let text = match (cell, with_rules) {
                (Some(rule), true) => format!("yes (acl.rules[{rule}])"),
                (Some(_), false) => "yes".to_owned(),
                (None, _) => "-".to_owned(),
            };
            out.push_str(&format!("  {text:<width$}", width = h.len()));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

/// Runs `privai acl`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let loaded = super::load_spec(args.spec.as_deref())?;
    let policy = Policy::compile(&loaded.spec);
    let m = filter(
        matrix(&loaded.spec, &policy),
        args.from.as_deref(),
        args.to.as_deref(),
    )?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer_pretty(
            &mut out,
            &JsonReport {
                version: JSON_SCHEMA_VERSION,
                matrix: &m,
            },
        )?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render_table(&m, args.rules))?;
        if args.rules {
            let used: std::collections::BTreeSet<usize> =
                m.cells.iter().flatten().flatten().copied().collect();
            for r in used {
                let rule = &loaded.spec.acl.rules[r];
                writeln!(
                    out,
                    "acl.rules[{r}]: {} -> {}",
                    rule.src.join(", "),
                    rule.dst.join(", ")
                )?;
            }
        }
    }
    Ok(Exit::Ok)
}
