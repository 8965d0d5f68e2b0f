//! `privai status` across the fleet: each host reports on itself
//! (`privai status --host NAME` there, on its own state and services), all
//! at once; the report is grouped by host and the exit status is the worst
//! of theirs (0 healthy, 1 degraded, 2 down, 3 unknown). A host that does
//! not answer, or cannot report, is unknown.

use super::fleet::{Fleet, base_words, fleet, ready_all, run_on};
use crate::fleet::remote::{Ready, Refused};
use crate::sys::ssh::{self, CONNECTION_FAILED};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// What one host said: its exit status and output, or why it did not.
type Said = Result<(i32, String), String>;

/// Reports on every host of the fleet; the exit status (0 to 3).
pub(super) fn status(spec_path: &Path, json: bool, root: Option<&Path>) -> anyhow::Result<u8> {
    let fleet = match fleet(spec_path, "no status")? {
        Ok(fleet) => fleet,
        Err(_) => return Ok(super::status::UNKNOWN),
    };
    let ready = ready_all(&fleet)?;
    let said = ask_all(&ready, json, root);
    let mut out = std::io::stdout().lock();
    let mut worst = 0u8;
    let mut hosts = Vec::new();
    for name in order(&fleet) {
        let how = fleet.reach[&name].describe();
        match &said[&name] {
            Ok((code, text)) => {
                let code = u8::try_from(*code).unwrap_or(super::status::UNKNOWN);
                worst = worst.max(code.min(super::status::UNKNOWN));
                if json {
                    let report: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                    hosts.push(
                        json!({ "host": name, "reach": how, "exit": code, "report": report }),
                    );
                } else {
                    writeln!(out, "── {name} ({how}) ──\n{}\n", text.trim_end())?;
                }
            }
            Err(why) => {
                worst = super::status::UNKNOWN;
                if json {
                    hosts.push(json!({ "host": name, "reach": how, "exit": worst, "report": Value::Null, "unknown": why }));
                } else {
                    writeln!(out, "── {name} ({how}) ──\nunknown: {why}\n")?;
                }
            }
        }
    }
    if json {
        serde_json::to_writer_pretty(&mut out, &json!({ "fleet": { "hosts": hosts } }))?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(worst)
}

/// The hosts in the order they apply.
fn order(fleet: &Fleet) -> Vec<String> {
    fleet.graph.waves().unwrap_or_default().concat()
}

/// Asks every ready host at once.
fn ask_all(
    ready: &BTreeMap<String, Result<Ready, Refused>>,
    json: bool,
    root: Option<&Path>,
) -> BTreeMap<String, Said> {
    std::thread::scope(|s| {
        let handles: Vec<_> = ready
            .iter()
            .map(|(name, ready)| {
                s.spawn(move || {
                    let said = match ready {
                        Err(refused) => Err(refused.message.clone()),
                        Ok(ready) => ask(ready, name, json, root),
                    };
                    (name.clone(), said)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a host's report does not panic"))
            .collect()
    })
}

/// `privai status --host NAME [--json]` on the host.
fn ask(ready: &Ready, name: &str, json: bool, root: Option<&Path>) -> Said {
    let mut words = base_words(ready, "status", name, root);
    words.extend(["--fleet-operator".to_owned(), super::fleet::operator()]);
    if json {
        words.push("--json".to_owned());
    }
    let mut text = String::new();
    let output = run_on(ready, &words, |line| {
        text.push_str(line);
        text.push('\n');
    })
    .map_err(|e| format!("cannot run privai: {e}"))?;
    match (&ready.reach, output.status) {
        (crate::fleet::remote::Reach::Ssh(d), CONNECTION_FAILED) => {
            Err(format!("host `{name}`: {}", ssh::failure(d, &output)))
        }
        (_, status) if text.trim().is_empty() => Err(format!(
            "no report (exit status {status}): {}",
            output.stderr.lines().next_back().unwrap_or("no message")
        )),
        (_, status) => Ok((status, text)),
    }
}
