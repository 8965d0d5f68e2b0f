//! `privai plan` and `privai apply` across the fleet: without `--host` and
//! `--root`, on a spec whose hosts say how to reach them (`deploy`), every
//! host of the spec. privai and the spec's compiled input go to each host
//! ([`crate::fleet::remote`]); each host plans and applies on its own state
//! (`privai plan|apply --host NAME --json` there); this command combines
//! the plans grouped by host, and applies in dependency order
//! ([`crate::fleet::order`]), independent hosts at once up to
//! `--parallel`, each host's events as they come, a summary per host.

use super::Exit;
use crate::fleet::order::{Graph, Scheduler};
use crate::fleet::remote::{self, Binary, Reach, Ready, Refused};
use crate::model::Spec;
use crate::sys::RunOutput;
use crate::sys::ssh::{self, CONNECTION_FAILED};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// What the fleet run takes from `plan`'s and `apply`'s arguments.
#[derive(Debug, Clone, Default)]
pub(super) struct Options {
    /// `--json`.
    pub json: bool,
    /// `--prune`, passed to each host.
    pub prune: bool,
    /// `--adopt`, passed to each host.
    pub adopt: bool,
    /// `--health-timeout`, passed to each host.
    pub health_timeout: Option<u64>,
    /// `--auto-approve`.
    pub auto_approve: bool,
    /// `--parallel N`.
    pub parallel: usize,
    /// `--host-root DIR`: each host stages its part under DIR there.
    pub host_root: Option<PathBuf>,
    /// `--detailed-exitcode`.
    pub detailed_exitcode: bool,
}

/// The flags `plan` and `apply` have for the fleet.
#[derive(Debug, Clone, clap::Args)]
pub struct FleetArgs {
    /// Across the fleet: each host stages its part under DIR on itself
    /// (relative: in the SSH user's home) instead of installing it, as
    /// `--root DIR --host NAME` there; services are not started.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["root", "host"])]
    pub host_root: Option<PathBuf>,
    /// Set by a fleet run on each host: who runs it (`USER@MACHINE`), so
    /// that the state lock names the operator to a second one.
    #[arg(long, value_name = "WHO", hide = true)]
    pub fleet_operator: Option<String>,
}

impl FleetArgs {
    /// The spec, when `plan`/`apply` with these flags go to the fleet: no
    /// `--host`, no `--root`, and some host has `deploy`. A spec that does
    /// not evaluate is left to the single-host path, which says why.
    pub(super) fn spec_for_fleet(
        &self,
        given: Option<&Path>,
        target: &super::target::TargetArgs,
    ) -> anyhow::Result<Option<PathBuf>> {
        if target.host.is_some() || target.root.is_some() {
            return Ok(None);
        }
        let path = std::path::absolute(super::spec_path(given)?)?;
        let fleet = crate::spec::load(&path)
            .is_ok_and(|loaded| loaded.spec.hosts.iter().any(|h| h.deploy.is_some()));
        if !fleet && self.host_root.is_some() {
            anyhow::bail!(
                "--host-root is for a spec whose hosts have `deploy` (a fleet); to stage this spec here, pass --root DIR"
            );
        }
        Ok(fleet.then_some(path))
    }

    /// The fleet run's options with these flags.
    pub(super) fn options(&self, json: bool, prune: bool, detailed_exitcode: bool) -> Options {
        Options {
            json,
            prune,
            host_root: self.host_root.clone(),
            detailed_exitcode,
            parallel: 1,
            ..Options::default()
        }
    }
}

/// How one host ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    /// Applied; `None` generation: nothing to change.
    Applied(Option<u64>),
    /// Its apply failed and it rolled itself back.
    RolledBack(String),
    /// Its apply failed otherwise (refused, an error).
    Failed(String),
    /// Not applied: a host it needs did not apply.
    Skipped(String),
    /// It did not answer.
    Unreachable(String),
}

impl Ended {
    fn word(&self) -> &'static str {
        match self {
            Self::Applied(_) => "applied",
            Self::RolledBack(_) => "rolled back",
            Self::Failed(_) => "failed",
            Self::Skipped(_) => "skipped",
            Self::Unreachable(_) => "unreachable",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::Applied(Some(g)) => format!("generation {g}"),
            Self::Applied(None) => "no changes".to_owned(),
            Self::RolledBack(m) | Self::Failed(m) | Self::Skipped(m) | Self::Unreachable(m) => {
                m.clone()
            }
        }
    }
}

/// The checked spec, its graph and each host's way in; `Err(exit)` after
/// printing why the spec cannot be used.
pub(super) struct Fleet {
    pub spec: Spec,
    pub graph: Graph,
    pub reach: BTreeMap<String, Reach>,
}

pub(super) fn fleet(spec_path: &Path, nothing: &str) -> anyhow::Result<Result<Fleet, Exit>> {
    let spec = match super::checked_spec(Some(spec_path), nothing)? {
        Ok(spec) => spec,
        Err(exit) => return Ok(Err(exit)),
    };
    let graph = Graph::of(&spec).map_err(|e| anyhow::anyhow!("{e}; {nothing}"))?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let reach = spec
        .hosts
        .iter()
        .map(|h| (h.name.clone(), Reach::of(h, spec_path, home.as_deref())))
        .collect();
    Ok(Ok(Fleet { spec, graph, reach }))
}

/// Gets privai and the spec onto every host at once.
pub(super) fn ready_all(fleet: &Fleet) -> anyhow::Result<BTreeMap<String, Result<Ready, Refused>>> {
    let binary = Binary::current()
        .map_err(|e| anyhow::anyhow!("cannot read privai's own binary to copy it: {e}"))?;
    let compiled = remote::compiled(&fleet.spec);
    let ready = std::thread::scope(|s| {
        let handles: Vec<_> = fleet
            .reach
            .iter()
            .map(|(name, reach)| {
                let (binary, compiled) = (&binary, &compiled);
                s.spawn(move || {
                    let ready = match reach {
                        Reach::Local { spec } => Ok(Ready {
                            reach: reach.clone(),
                            program: binary.path.display().to_string(),
                            spec: spec.display().to_string(),
                        }),
                        Reach::Ssh(destination) => {
                            remote::install(name, destination, binary, compiled)
                        }
                    };
                    (name.clone(), ready)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a host's setup does not panic"))
            .collect()
    });
    Ok(ready)
}

/// privai's command line on a host: `VERB SPEC --host NAME [--root DIR]
/// [--prune] --fleet-operator WHO ARGS`.
fn words(ready: &Ready, verb: &str, host: &str, options: &Options, extra: &[&str]) -> Vec<String> {
    let mut words = base_words(ready, verb, host, options.host_root.as_deref());
    if options.prune {
        words.push("--prune".to_owned());
    }
    words.extend(["--fleet-operator".to_owned(), operator()]);
    words.extend(extra.iter().map(|w| (*w).to_owned()));
    words
}

/// `PROGRAM VERB SPEC --host NAME [--root DIR]` on a host.
pub(super) fn base_words(
    ready: &Ready,
    verb: &str,
    host: &str,
    root: Option<&Path>,
) -> Vec<String> {
    let mut words = vec![
        ready.program.clone(),
        verb.to_owned(),
        ready.spec.clone(),
        "--host".to_owned(),
        host.to_owned(),
    ];
    if let Some(root) = root {
        words.extend(["--root".to_owned(), root.display().to_string()]);
    }
    words
}

/// Who runs this fleet run: `USER@MACHINE` of the operator.
pub(super) fn operator() -> String {
    let user = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|user| !user.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    let machine = gethostname::gethostname().to_string_lossy().into_owned();
    format!("{user}@{machine}")
}

/// Runs `words` on the host (over SSH, or as a child here), each line of
/// its output to `line`.
pub(super) fn run_on(
    ready: &Ready,
    words: &[String],
    line: impl FnMut(&str),
) -> std::io::Result<RunOutput> {
    match &ready.reach {
        Reach::Local { .. } => ssh::stream_argv(words, line),
        Reach::Ssh(destination) => {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            destination.stream(&words, true, line)
        }
    }
}

/// How a command that failed on `host` ended: unreachable when the
/// connection failed, else with its own last words.
fn failure(ready: &Ready, host: &str, output: &RunOutput) -> Ended {
    match &ready.reach {
        Reach::Ssh(d) if output.status == CONNECTION_FAILED => {
            Ended::Unreachable(format!("host `{host}`: {}", ssh::failure(d, output)))
        }
        _ => Ended::Failed(last_words(output)),
    }
}

/// The last line a command wrote to stderr, with its exit status.
fn last_words(output: &RunOutput) -> String {
    let said = output
        .stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message");
    format!("exit status {}: {said}", output.status)
}

/// The hosts in the order they apply, for the plan's header.
fn order_line(graph: &Graph) -> String {
    graph
        .waves()
        .unwrap_or_default()
        .iter()
        .map(|wave| wave.join(" and "))
        .collect::<Vec<_>>()
        .join(", then ")
}

/// For each host that needs others: `GW needs OLLAMA (why), HS (why)`.
fn needs_lines(graph: &Graph) -> Vec<String> {
    graph
        .hosts
        .iter()
        .filter(|h| !graph.needs[*h].is_empty())
        .map(|h| {
            let needs: Vec<String> = graph.needs[h]
                .iter()
                .map(|(other, why)| format!("{other} ({why})"))
                .collect();
            format!("{h} needs {}", needs.join(", "))
        })
        .collect()
}

/// `privai plan` across the fleet.
pub(super) fn plan(spec_path: &Path, options: &Options) -> anyhow::Result<Exit> {
    let fleet = match fleet(spec_path, "nothing planned")? {
        Ok(fleet) => fleet,
        Err(exit) => return Ok(exit),
    };
    let ready = ready_all(&fleet)?;
    let mut out = crate::output::sink::Sink::new(std::io::stdout().lock());
    let (document, changes, failed) = plan_hosts(&fleet, &ready, options, &mut out)?;
    if options.json {
        serde_json::to_writer_pretty(&mut out, &document)?;
        writeln!(out)?;
    }
    out.finish()?;
    Ok(if failed {
        Exit::Error
    } else if options.detailed_exitcode && changes {
        Exit::Changes
    } else {
        Exit::Ok
    })
}

/// Plans every ready host at once; prints the human plan grouped by host
/// (unless `--json`) and returns the JSON document, whether any host has
/// changes and whether any failed.
fn plan_hosts(
    fleet: &Fleet,
    ready: &BTreeMap<String, Result<Ready, Refused>>,
    options: &Options,
    out: &mut dyn Write,
) -> anyhow::Result<(Value, bool, bool)> {
    let outputs: BTreeMap<String, Result<(String, RunOutput), Ended>> = std::thread::scope(|s| {
        let handles: Vec<_> = ready
            .iter()
            .map(|(name, ready)| {
                s.spawn(move || {
                    let result = match ready {
                        Err(refused) if refused.unreachable => {
                            Err(Ended::Unreachable(refused.message.clone()))
                        }
                        Err(refused) => Err(Ended::Failed(refused.message.clone())),
                        Ok(ready) => {
                            let mut extra = vec!["--detailed-exitcode"];
                            if options.json {
                                extra.push("--json");
                            }
                            let mut text = String::new();
                            let words = words(ready, "plan", name, options, &extra);
                            match run_on(ready, &words, |l| {
                                text.push_str(l);
                                text.push('\n');
                            }) {
                                Ok(o) if o.status == 0 || o.status == 2 => Ok((text, o)),
                                Ok(o) => Err(failure(ready, name, &o)),
                                Err(e) => Err(Ended::Failed(format!("cannot run privai: {e}"))),
                            }
                        }
                    };
                    (name.clone(), result)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect()
    });
    let mut changes = false;
    let mut failed = false;
    let mut hosts = Vec::new();
    if !options.json {
        writeln!(
            out,
            "Fleet of {} hosts, applied in this order: {}.",
            fleet.graph.hosts.len(),
            order_line(&fleet.graph)
        )?;
        for line in needs_lines(&fleet.graph) {
            writeln!(out, "  {line}")?;
        }
        writeln!(
            out,
            "A host that fails rolls itself back; the hosts that need it are then skipped."
        )?;
    }
    for name in fleet.graph.waves().unwrap_or_default().concat() {
        let how = fleet.reach[&name].describe();
        let entry = match &outputs[&name] {
            Ok((text, output)) => {
                changes |= output.status == 2;
                if !options.json {
                    writeln!(out, "\n── {name} ({how}) ──\n{}", text.trim_end())?;
                }
                let plan: Value = if options.json {
                    serde_json::from_str(text).unwrap_or(Value::Null)
                } else {
                    Value::Null
                };
                json!({ "host": name, "reach": how, "plan": plan })
            }
            Err(ended) => {
                failed = true;
                if !options.json {
                    writeln!(
                        out,
                        "\n── {name} ({how}) ──\n{}: {}",
                        ended.word(),
                        ended.detail()
                    )?;
                }
                json!({ "host": name, "reach": how, "plan": Value::Null, ended.word(): ended.detail() })
            }
        };
        hosts.push(entry);
    }
    let document = json!({
        "fleet": {
            "order": fleet.graph.waves().unwrap_or_default(),
            "hosts": hosts,
        }
    });
    Ok((document, changes, failed))
}

/// A message from a host's thread.
enum Message {
    /// A line of its `apply --json` events.
    Line(String, String),
    /// It ended.
    Done(String, Ended),
}

/// `privai apply` across the fleet.
pub(super) fn apply(spec_path: &Path, options: &Options) -> anyhow::Result<Exit> {
    if options.json && !options.auto_approve {
        anyhow::bail!(
            "`privai apply --json` across the fleet cannot ask for approval; nothing was changed. Pass --auto-approve"
        );
    }
    let fleet = match fleet(spec_path, "nothing applied")? {
        Ok(fleet) => fleet,
        Err(exit) => return Ok(exit),
    };
    let ready = ready_all(&fleet)?;
    let mut out = crate::output::sink::Sink::new(std::io::stdout().lock());
    if !options.auto_approve {
        let (_, _, failed) = plan_hosts(&fleet, &ready, options, &mut out)?;
        if failed {
            writeln!(
                out,
                "\nSome hosts cannot be planned (above); nothing was changed."
            )?;
            out.finish()?;
            return Ok(Exit::Error);
        }
        if !super::target::confirm(&mut out)? {
            writeln!(out, "Apply cancelled.")?;
            out.finish()?;
            return Ok(Exit::Error);
        }
    }
    let mut scheduler = Scheduler::new(fleet.graph.clone(), options.parallel);
    let mut ended: BTreeMap<String, Ended> = BTreeMap::new();
    // Hosts that did not take privai end before anything starts.
    for (name, result) in &ready {
        if let Err(refused) = result {
            let end = match refused.unreachable {
                true => Ended::Unreachable(refused.message.clone()),
                false => Ended::Failed(refused.message.clone()),
            };
            event(&mut out, options.json, name, &end_event(&end))?;
            for skipped in scheduler.finish(name, false) {
                let end = skipped_because(&skipped, name, &fleet.graph);
                event(&mut out, options.json, &skipped, &end_event(&end))?;
                ended.insert(skipped, end);
            }
            ended.insert(name.clone(), end);
        }
    }
    let (send, receive) = mpsc::channel::<Message>();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let mut running = 0usize;
        loop {
            while let Some(name) = scheduler.start_next() {
                if ended.contains_key(&name) {
                    // Refused before: finished already (never handed out again).
                    continue;
                }
                let Some(Ok(ready)) = ready.get(&name) else {
                    continue;
                };
                running += 1;
                event(
                    &mut out,
                    options.json,
                    &name,
                    &json!({ "event": "host_started" }),
                )?;
                let send = send.clone();
                let options = options.clone();
                s.spawn(move || {
                    let mut extra = vec!["--auto-approve", "--json"];
                    if options.adopt {
                        extra.push("--adopt");
                    }
                    let timeout = options.health_timeout.map(|t| t.to_string());
                    if let Some(t) = &timeout {
                        extra.extend(["--health-timeout", t]);
                    }
                    let words = words(ready, "apply", &name, &options, &extra);
                    let mut generation = None;
                    let mut failed = None;
                    let result = run_on(ready, &words, |line| {
                        if let Ok(v) = serde_json::from_str::<Value>(line) {
                            match v["event"].as_str() {
                                Some("applied") => generation = v["generation"].as_u64(),
                                Some("failed") => {
                                    failed = v["failure"].as_str().map(str::to_owned);
                                }
                                _ => {}
                            }
                        }
                        let _ = send.send(Message::Line(name.clone(), line.to_owned()));
                    });
                    let end = match result {
                        Ok(o) if o.success() => Ended::Applied(generation),
                        Ok(o) if o.status == super::Exit::RolledBack as i32 => {
                            Ended::RolledBack(match failed {
                                Some(failure) => {
                                    format!("{failure}; the host is back where it was")
                                }
                                None => last_words(&o),
                            })
                        }
                        Ok(o) => failure(ready, &name, &o),
                        Err(e) => Ended::Failed(format!("cannot run privai: {e}")),
                    };
                    let _ = send.send(Message::Done(name, end));
                });
            }
            if running == 0 {
                break;
            }
            match receive.recv().expect("a host thread is running") {
                Message::Line(name, line) => host_line(&mut out, options.json, &name, &line)?,
                Message::Done(name, end) => {
                    running -= 1;
                    event(&mut out, options.json, &name, &end_event(&end))?;
                    let applied = matches!(end, Ended::Applied(_));
                    ended.insert(name.clone(), end);
                    for skipped in scheduler.finish(&name, applied) {
                        let end = skipped_because(&skipped, &name, &fleet.graph);
                        event(&mut out, options.json, &skipped, &end_event(&end))?;
                        ended.insert(skipped, end);
                    }
                }
            }
        }
        Ok(())
    })?;
    debug_assert!(scheduler.is_done());
    summary(&mut out, options.json, &fleet.graph, &ended)?;
    out.finish()?;
    let all_applied = ended.values().all(|e| matches!(e, Ended::Applied(_)));
    let rolled_back = ended.values().any(|e| matches!(e, Ended::RolledBack(_)));
    Ok(if all_applied {
        Exit::Ok
    } else if rolled_back {
        Exit::RolledBack
    } else {
        Exit::Error
    })
}

/// `skipped` did not apply because `failed`, which it needs, did not.
fn skipped_because(skipped: &str, failed: &str, graph: &Graph) -> Ended {
    let why = graph.needs[skipped]
        .get(failed)
        .map(|why| format!(" ({why})"))
        .unwrap_or_default();
    Ended::Skipped(format!(
        "not applied: it needs `{failed}`{why}, which did not apply"
    ))
}

/// The event of a host's end.
fn end_event(end: &Ended) -> Value {
    json!({ "event": "host_done", "outcome": end.word(), "detail": end.detail() })
}

/// Prints a fleet event about `host`: a JSON line with `host` added, or
/// one line for a person.
fn event(out: &mut dyn Write, json: bool, host: &str, value: &Value) -> anyhow::Result<()> {
    if json {
        let mut value = value.clone();
        if let Value::Object(map) = &mut value {
            map.insert("host".to_owned(), Value::String(host.to_owned()));
        }
        writeln!(out, "{value}")?;
    } else {
        let line = match value["event"].as_str() {
            Some("host_started") => "applying".to_owned(),
            Some("host_done") => format!(
                "{}: {}",
                value["outcome"].as_str().unwrap_or_default(),
                value["detail"].as_str().unwrap_or_default()
            ),
            _ => human(value),
        };
        writeln!(out, "{host}: {line}")?;
    }
    out.flush()?;
    Ok(())
}

/// A line of a host's `apply --json`: passed on with `host` (JSON), or
/// shown as one line.
fn host_line(out: &mut dyn Write, json: bool, host: &str, line: &str) -> anyhow::Result<()> {
    match serde_json::from_str::<Value>(line) {
        Ok(value) => event(out, json, host, &value),
        Err(_) if json => event(out, json, host, &json!({ "event": "output", "line": line })),
        Err(_) => {
            writeln!(out, "{host}: {line}")?;
            Ok(())
        }
    }
}

/// One line for a person from an apply event (`apply --json`'s shape).
fn human(value: &Value) -> String {
    let s = |k: &str| value[k].as_str().unwrap_or_default().to_owned();
    match value["event"].as_str().unwrap_or_default() {
        "planned" => {
            let summary = &value["plan"]["summary"];
            let count = summary
                .as_object()
                .map(|m| m.values().filter_map(Value::as_u64).sum::<u64>())
                .unwrap_or(0);
            format!("planned, {count} actions")
        }
        "started" => format!("{} {}", s("change"), s("address")),
        "done" => format!("done {} {}", s("change"), s("address")),
        "progress" => s("message"),
        "failed" => format!("failed: {}", s("failure")),
        "rolling_back" => "rolling back".to_owned(),
        "applied" => format!("applied generation {}", value["generation"]),
        "rolled_back" => "rolled back".to_owned(),
        other => other.replace('_', " "),
    }
}

/// The summary: one line per host, in the order they apply.
fn summary(
    out: &mut dyn Write,
    json: bool,
    graph: &Graph,
    ended: &BTreeMap<String, Ended>,
) -> anyhow::Result<()> {
    let order = graph.waves().unwrap_or_default().concat();
    if json {
        let hosts: Vec<Value> = order
            .iter()
            .filter_map(|h| ended.get(h).map(|e| (h, e)))
            .map(|(h, e)| json!({ "host": h, "outcome": e.word(), "detail": e.detail() }))
            .collect();
        writeln!(
            out,
            "{}",
            json!({ "event": "fleet_summary", "hosts": hosts })
        )?;
        return Ok(());
    }
    writeln!(out, "\nFleet summary:")?;
    let width = order.iter().map(String::len).max().unwrap_or(0);
    for host in &order {
        if let Some(end) = ended.get(host) {
            writeln!(out, "  {host:width$}  {}: {}", end.word(), end.detail())?;
        }
    }
    Ok(())
}
