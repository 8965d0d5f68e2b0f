//! `privai rotate-keys`: replaces the keys that are due (see
//! [`crate::plan::rotation`]) through the apply engine — journaled, with a
//! new generation and a rollback if the gateway fails its health check with
//! a new token. The scheduled job runs it without a spec: it then rotates
//! for the spec the current generation was applied from, and refuses when
//! that spec changed since or the system differs from it.

use super::Exit;
use super::plan::{Prepared, observe_and_plan, prepare};
use super::target::{self, TargetArgs};
use crate::output::sink::Sink;
use crate::plan::Plan;
use crate::plan::rotation::{Facts, rotation};
use crate::state::StateDir;
use crate::state::generations::{Origin, Store};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `privai rotate-keys`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec. Default: the spec the current generation was applied from.
    pub spec: Option<PathBuf>,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Say what is due, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds a restarted service may take to pass its health check
    /// (default: the service's own, 60 s).
    #[arg(long, value_name = "SECS")]
    pub health_timeout: Option<u64>,
}

/// Runs `privai rotate-keys`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let spec = match &args.spec {
        Some(spec) => Some(spec.clone()),
        None => applied_spec(&target::install_without_spec(&args.target)?)?,
    };
    let mut prepared = match prepare(spec.as_deref(), &args.target, "no key was rotated")? {
        Ok(prepared) => prepared,
        Err(exit) => return Ok(exit),
    };
    if let Some(secs) = args.health_timeout {
        for unit in &mut prepared.desired.services {
            unit.health_timeout_secs = secs;
        }
    }
    let install = &prepared.install;
    let command = target::command_line();
    let mut services = target::services(install, args.health_timeout, &prepared.desired)?;
    let _lock = target::lock(install, &command)?;
    target::recover(
        install,
        services
            .as_deref_mut()
            .map(|s| s as &mut dyn crate::apply::Services),
    )?;
    let (observed, plan, prepared) = observe_and_plan(&prepared, false)?;
    if observed.generation.is_none() {
        anyhow::bail!(
            "nothing was applied here yet, so there are no keys to rotate: run `privai apply` first"
        );
    }
    // Expiring keys a killed rotation replaced on record is the rotation's
    // own unfinished work: the rotation below does it.
    let pending: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| !is_retired_expiry(a, &observed))
        .collect();
    if !pending.is_empty() {
        anyhow::bail!(
            "the system differs from `{}` ({} change{} pending; `privai plan` shows them): run `privai apply` first; no key was rotated",
            prepared.spec.display(),
            pending.len(),
            if pending.len() == 1 { "" } else { "s" }
        );
    }
    let mut out = Sink::new(std::io::stdout().lock());
    for note in &plan.notes {
        writeln!(out, "Note: {note}")?;
    }
    let facts = Facts {
        now: std::time::SystemTime::now(),
        written: written(&prepared)?,
        interval_days: prepared
            .model
            .as_ref()
            .map_or(30, |spec| spec.monitoring.key_rotation.interval_days),
    };
    let mut rotation = rotation(&prepared.desired, &observed, &facts);
    let api = api_key(&prepared, &observed, &facts, &mut out)?;
    if let Some(api) = &api {
        rotation.verdicts.push(api.verdict.clone());
    }
    let api_due = api.as_ref().filter(|api| api.verdict.due);
    writeln!(out, "Keys:")?;
    for verdict in &rotation.verdicts {
        let mark = if verdict.due { "↻" } else { "·" };
        writeln!(out, "  {mark} {}: {}", verdict.key, verdict.why)?;
    }
    if rotation.verdicts.is_empty() {
        writeln!(
            out,
            "  (none: no pre-auth key on record{})",
            if !matches!(
                observed.headscale,
                crate::observe::live::HeadscaleState::NotObserved
            ) {
                ""
            } else {
                ", and Headscale was not asked"
            }
        )?;
    }
    if rotation.actions.is_empty() && api_due.is_none() {
        writeln!(out, "\nNothing to rotate.")?;
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let due = rotation.verdicts.iter().filter(|v| v.due).count();
    if args.dry_run {
        writeln!(out, "\n{due} due; nothing changed (--dry-run).")?;
        out.flush()?;
        return Ok(Exit::Changes);
    }
    writeln!(out, "\nRotating:")?;
    let engine = !rotation.actions.is_empty();
    let exit = match rotation.actions.is_empty() {
        true => Exit::Ok,
        false => run_engine(
            &prepared,
            rotation.actions,
            services
                .as_deref_mut()
                .map(|s| s as &mut dyn crate::apply::Services),
            command,
            due - usize::from(api_due.is_some()),
            &mut out,
        )?,
    };
    if exit == Exit::Ok
        && let Some(api) = api_due
    {
        let interval = crate::plan::rotation::DAY * facts.interval_days;
        let lifetime = (interval * 3).max(crate::plan::rotation::DAY * 90);
        match crate::apply::api_key::rotate(
            prepared
                .desired
                .control
                .as_ref()
                .expect("an API key means a Headscale"),
            install,
            &api.client,
            &api.current,
            facts.now + lifetime,
        ) {
            Ok(()) => writeln!(
                out,
                "  ↻ Headscale API key: a new one in `{}`, valid {}; the old one expired",
                api.current.reference(),
                humantime::format_duration(lifetime)
            )?,
            Err(e) => {
                writeln!(out, "  ✗ Headscale API key: {e}")?;
                out.flush()?;
                return Ok(Exit::Error);
            }
        }
        if !engine {
            writeln!(out, "\nRotated the API key.")?;
        }
    }
    out.flush()?;
    if let Some(e) = out.error() {
        let _ = writeln!(
            std::io::stderr(),
            "error: privai's output was lost while it rotated keys ({e}); `privai generations` shows what is current"
        );
        return Ok(Exit::Error);
    }
    Ok(exit)
}

/// The keys' actions through the apply engine: journaled, a generation.
fn run_engine(
    prepared: &Prepared,
    actions: Vec<crate::plan::Action>,
    services: Option<&mut dyn crate::apply::Services>,
    command: String,
    due: usize,
    out: &mut Sink<std::io::StdoutLock<'static>>,
) -> anyhow::Result<Exit> {
    let install = &prepared.install;
    let plan = Plan {
        actions,
        notes: Vec::new(),
    };
    let options = crate::apply::Options {
        adopt: false,
        command,
        failpoint: target::failpoint()?,
        lock: None,
    };
    let outcome = crate::apply::apply(
        install,
        &prepared.desired,
        &plan,
        Origin::RotateKeys {
            spec: prepared.spec.display().to_string(),
            spec_sha256: prepared.spec_sha256.clone(),
        },
        services,
        &options,
        &mut crate::output::events::Printer::new(&mut *out, crate::output::events::Format::Human),
    )?;
    let exit = match &outcome {
        crate::apply::Outcome::Applied { generation, .. } => {
            writeln!(
                out,
                "\nRotated {due} key{}; generation {generation} is current. `privai enroll DEVICE --show-key` shows a device's new key.",
                if due == 1 { "" } else { "s" }
            )?;
            Exit::Ok
        }
        crate::apply::Outcome::RolledBack {
            failure,
            restored,
            kept,
            current,
        } => {
            writeln!(out, "\nRotation failed: {failure}")?;
            writeln!(out, "Rolled back:")?;
            for line in restored.iter().chain(kept) {
                writeln!(out, "  {line}")?;
            }
            if let Some(n) = current {
                writeln!(out, "Generation {n} is still current; the old keys work.")?;
            }
            Exit::RolledBack
        }
    };
    Ok(exit)
}

/// The API key privai uses, and whether it is due.
struct ApiKeyState {
    client: crate::api::headscale::Client,
    current: crate::secret::ApiKey,
    verdict: crate::plan::rotation::Verdict,
}

/// Looks at the API key privai uses (finishing a rotation a crash
/// interrupted first); `None` when privai talks to no Headscale.
fn api_key(
    prepared: &Prepared,
    observed: &crate::observe::Observed,
    facts: &Facts,
    out: &mut dyn Write,
) -> anyhow::Result<Option<ApiKeyState>> {
    use crate::observe::api_key::{SystemSecrets, resolve_api_key};
    use crate::observe::headscale::api_key_prefix;
    use crate::plan::rotation::Verdict;
    let (Some(control), crate::observe::live::HeadscaleState::Running { .. }) =
        (&prepared.desired.control, &observed.headscale)
    else {
        return Ok(None);
    };
    let Some(reference) = &control.api_key else {
        return Ok(None);
    };
    let client = crate::observe::live::headscale_client(control, &prepared.install)
        .map_err(|e| anyhow::anyhow!(e))?;
    let current = resolve_api_key(reference, &mut SystemSecrets::default())?;
    if crate::apply::api_key::key_file(reference).is_none() {
        return Ok(Some(ApiKeyState {
            client,
            current,
            verdict: Verdict {
                key: "Headscale API key".to_owned(),
                due: false,
                why: format!(
                    "`{}` is not a file privai can write: rotate it at its source",
                    reference.as_str()
                ),
            },
        }));
    }
    if let Some(note) =
        crate::apply::api_key::recover(&prepared.install.state_dir(), &client, current.expose())
            .map_err(|e| anyhow::anyhow!(e))?
    {
        writeln!(out, "Note: {note}")?;
    }
    let prefix = api_key_prefix(current.expose());
    let created = client
        .list_api_keys()?
        .into_iter()
        .find(|k| prefix.is_some() && api_key_prefix(&k.prefix) == prefix)
        .and_then(|k| k.created_at)
        .map(|at| at.0);
    let verdict = crate::plan::rotation::api_key(created, facts.now, facts.interval_days);
    Ok(Some(ApiKeyState {
        client,
        current,
        verdict,
    }))
}

/// When each secret file of the spec was last written (missing ones left
/// out).
fn written(
    prepared: &Prepared,
) -> anyhow::Result<std::collections::BTreeMap<crate::observe::FileKey, std::time::SystemTime>> {
    let mut written = std::collections::BTreeMap::new();
    for secret in &prepared.desired.secrets {
        let path = prepared.install.path(&secret.host, &secret.path)?;
        if let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified()) {
            written.insert(
                crate::observe::FileKey::new(&secret.host, &secret.path),
                modified,
            );
        }
    }
    Ok(written)
}

/// The spec the current generation was applied from (through rollbacks and
/// rotations), for the scheduled job, which names none.
pub(super) fn applied_spec(install: &crate::state::Install) -> anyhow::Result<Option<PathBuf>> {
    let store = Store::new(StateDir::new(install.state_dir()));
    let Some(mut number) = store.current()? else {
        anyhow::bail!(
            "nothing was applied here yet (no generation in `{}`), so there are no keys to rotate",
            install.state_dir().display()
        );
    };
    loop {
        match store.load(number)?.info.origin {
            Origin::Apply { spec, .. } | Origin::RotateKeys { spec, .. } => {
                return Ok(Some(PathBuf::from(spec)));
            }
            Origin::Rollback { to } if to < number => number = to,
            Origin::Rollback { .. } => {
                anyhow::bail!("generation {number} names no spec: pass the spec to rotate for")
            }
        }
    }
}

/// Whether `action` expires a key retired on record ([`crate::state::keys`]).
fn is_retired_expiry(action: &crate::plan::Action, observed: &crate::observe::Observed) -> bool {
    matches!(
        action,
        crate::plan::Action::Headscale(crate::plan::HeadscaleAction::ExpireKey { device, key, .. })
            if observed.retired_keys.contains(&(device.clone(), *key))
    )
}
