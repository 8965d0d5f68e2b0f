//! `privai generations --host H` and `privai rollback --host H` for a host
//! of the fleet: when the spec here (or `--spec`) gives host H a `deploy`
//! and this machine is not H, the command runs on H over SSH, on H's own
//! state, after the same version check as a fleet apply
//! ([`crate::fleet::remote::install`]). Its output is passed through.

use super::Exit;
use super::target::TargetArgs;
use crate::fleet::remote::{self, Binary, Reach, Ready};
use crate::sys::ssh::{self, CONNECTION_FAILED};
use std::io::Write;
use std::path::PathBuf;

/// How `generations`/`rollback --host NAME` reach a host of the fleet.
#[derive(Debug, Clone, clap::Args)]
pub struct RemoteArgs {
    /// With --host NAME: the spec in which host NAME has `deploy`, so the
    /// command runs there over SSH. Default: `privai.ncl`, `.toml` or
    /// `.json` here, if there is one.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Over SSH: the host's state is the one staged under DIR there (what
    /// `apply --host-root DIR` made).
    #[arg(long, value_name = "DIR", conflicts_with = "root", requires = "host")]
    pub host_root: Option<PathBuf>,
    /// Set by a fleet run on each host: who runs it.
    #[arg(long, value_name = "WHO", hide = true)]
    pub fleet_operator: Option<String>,
}

/// The host to run on over SSH, ready, when these flags ask for one.
fn remote_host(args: &RemoteArgs, target: &TargetArgs) -> anyhow::Result<Option<(String, Ready)>> {
    // On the host itself (a fleet run), or staged here: never onwards.
    if args.fleet_operator.is_some() || target.root.is_some() {
        return Ok(None);
    }
    let Some(name) = &target.host else {
        return Ok(None);
    };
    let cwd = std::env::current_dir()?;
    let path = match crate::spec::find_spec(args.spec.as_deref(), &cwd) {
        Ok(path) => std::path::absolute(path)?,
        Err(_) if args.spec.is_none() && args.host_root.is_none() => return Ok(None),
        Err(d) => anyhow::bail!("{}", d.message),
    };
    let loaded = crate::spec::load(&path).map_err(|_| {
        anyhow::anyhow!(
            "`{}` does not evaluate; `privai check {}` shows why",
            path.display(),
            path.display()
        )
    })?;
    let spec = loaded.spec;
    let Some(host) = spec.hosts.iter().find(|h| &h.name == name) else {
        if args.spec.is_some() || args.host_root.is_some() {
            anyhow::bail!("`{}` has no host `{name}`", path.display());
        }
        return Ok(None);
    };
    let this = gethostname::gethostname().to_string_lossy().into_owned();
    let here = this == *name || this.split('.').next() == Some(name.as_str());
    let destination = match Reach::of(
        host,
        &path,
        std::env::var_os("HOME").map(PathBuf::from).as_deref(),
    ) {
        Reach::Ssh(destination) if !here => destination,
        _ if args.host_root.is_some() => anyhow::bail!(
            "--host-root is for a host privai reaches over SSH; host `{name}` has no `deploy` (or is this machine): pass --root DIR"
        ),
        _ => return Ok(None),
    };
    let binary =
        Binary::current().map_err(|e| anyhow::anyhow!("cannot read privai's own binary: {e}"))?;
    let ready = remote::install(name, &destination, &binary, &remote::compiled(&spec))
        .map_err(|refused| anyhow::anyhow!("{}", refused.message))?;
    Ok(Some((name.clone(), ready)))
}

/// Runs privai's `words` on the host, its output passed through; the exit
/// status it ended with.
fn run_there(
    name: &str,
    ready: &Ready,
    args: &RemoteArgs,
    words: Vec<String>,
) -> anyhow::Result<i32> {
    let mut words = words;
    words.insert(0, ready.program.clone());
    if let Some(root) = &args.host_root {
        words.extend(["--root".to_owned(), root.display().to_string()]);
    }
    words.extend(["--fleet-operator".to_owned(), super::fleet::operator()]);
    let Reach::Ssh(destination) = &ready.reach else {
        unreachable!("a host reached over SSH");
    };
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let mut out = std::io::stdout().lock();
    let output = destination.stream(&refs, true, |line| {
        let _ = writeln!(out, "{line}");
    })?;
    if output.status == CONNECTION_FAILED {
        anyhow::bail!("host `{name}`: {}", ssh::failure(destination, &output));
    }
    if !output.stderr.is_empty() {
        let _ = std::io::stderr().write_all(output.stderr.as_bytes());
    }
    Ok(output.status)
}

/// `privai generations --host H` on H over SSH; `None` when H is here.
pub(super) fn generations(args: &RemoteArgs, target: &TargetArgs) -> anyhow::Result<Option<Exit>> {
    let Some((name, ready)) = remote_host(args, target)? else {
        return Ok(None);
    };
    let words = vec!["generations".to_owned(), "--host".to_owned(), name.clone()];
    Ok(Some(match run_there(&name, &ready, args, words)? {
        0 => Exit::Ok,
        _ => Exit::Error,
    }))
}

/// `privai rollback --host H` on H over SSH; `None` when H is here.
pub(super) fn rollback(
    args: &RemoteArgs,
    target: &TargetArgs,
    to: Option<u64>,
    auto_approve: bool,
    health_timeout: Option<u64>,
) -> anyhow::Result<Option<Exit>> {
    let Some((name, ready)) = remote_host(args, target)? else {
        return Ok(None);
    };
    if !auto_approve {
        anyhow::bail!(
            "privai cannot ask for approval on host `{name}` over SSH; nothing was changed. `privai generations --host {name}` lists its generations; pass --auto-approve to roll back"
        );
    }
    let mut words = vec![
        "rollback".to_owned(),
        "--host".to_owned(),
        name.clone(),
        "--auto-approve".to_owned(),
    ];
    if let Some(n) = to {
        words.extend(["--to".to_owned(), n.to_string()]);
    }
    if let Some(secs) = health_timeout {
        words.extend(["--health-timeout".to_owned(), secs.to_string()]);
    }
    Ok(Some(match run_there(&name, &ready, args, words)? {
        0 => Exit::Ok,
        3 => Exit::RolledBack,
        _ => Exit::Error,
    }))
}
