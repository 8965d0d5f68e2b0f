//! Applying a plan: every action journaled before and after it runs, files
//! written atomically, services activated in dependency order and
//! health-checked, and a new generation committed only once all of that
//! has passed. On any failure the run is undone ([`undo`]): every file the
//! run touched gets its pre-image back byte for byte, the services it
//! touched are put back as they were, and the previous generation stays
//! current.
//!
//! A run killed at any point leaves its journal behind; [`recover`] finishes
//! it (if it had committed) or undoes it before anything else runs.
//!
//! All I/O of `apply` is here and in [`crate::state`]; the service manager
//! is reached only through [`Services`], so tests record what would run.

pub mod api_key;
pub mod services;
mod undo;

pub use undo::{Recovered, Recovery, recover};

use crate::observe::FileState;
use crate::observe::files::read_file;
use crate::plan::{
    Action, FileAction, HeadscaleAction, ModelAction, Plan, SecretAction, ServiceAction,
};
use crate::render::manifest::{Manifest, sha256_hex};
use crate::render::secrets::SecretSource;
use crate::render::units::ServiceUnit;
use crate::render::{Artifact, ModelPull, Owner, Rendered, ServiceId};
use crate::state::generations::{INFO_FORMAT, Info, Origin, Store};
use crate::state::journal::{Backup, Journal, Record, Verb};
use crate::state::{Install, StateDir, atomic};
use anyhow::Context;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `apply` needs from the service manager. [`services::System`] runs
/// launchctl, systemctl or compose through a [`crate::sys::Runner`].
pub trait Services {
    /// Starts `unit`.
    fn start(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Restarts `unit`, so that it reads its changed files.
    fn restart(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Stops `unit`.
    fn stop(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Has the running `unit` re-read its changed files (SIGHUP).
    fn reload(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Waits until `unit` is healthy, up to its timeout.
    fn health(&mut self, unit: &ServiceUnit) -> Result<(), String>;
    /// Has Ollama pull `model` from `source` (or create it from its file),
    /// reporting progress on `out`; returns the digest of its manifest once
    /// Ollama has it under the name `model`.
    fn pull_model(
        &mut self,
        model: &str,
        source: &crate::render::ModelSource,
        out: &mut dyn Write,
    ) -> Result<String, String>;
    /// Has Ollama remove `model`.
    fn remove_model(&mut self, model: &str) -> Result<(), String>;
    /// The digest of the manifest of `model` if Ollama has it.
    fn local_model(&mut self, model: &str) -> Result<Option<String>, String>;
    /// Creates a Headscale user, unless Headscale has one of that name.
    fn create_user(&mut self, user: &crate::plan::headscale::NewUser) -> Result<(), String>;
    /// Creates a pre-auth key of `user` with `tags` (ephemeral, reusable
    /// or not), valid for `days`; returns its id and the key itself.
    fn create_key(
        &mut self,
        user: &str,
        tags: &[String],
        ephemeral: bool,
        reusable: bool,
        days: u32,
    ) -> Result<(u64, String), String>;
    /// Expires pre-auth key `id`.
    fn expire_key(&mut self, id: u64) -> Result<(), String>;
    /// Sets the tags of node `node`.
    fn set_node_tags(&mut self, node: u64, tags: &[String]) -> Result<(), String>;
    /// Deletes Headscale user `id`.
    fn delete_user(&mut self, id: u64) -> Result<(), String>;
    /// The ACL policy Headscale holds (`None`: none).
    fn get_policy(&mut self) -> Result<Option<String>, String>;
    /// Has Headscale check `policy` against its users and nodes, its
    /// `tests` included, without setting it.
    fn check_policy(&mut self, policy: &str) -> Result<(), String>;
    /// Sets Headscale's ACL policy (database mode).
    fn set_policy(&mut self, policy: &str) -> Result<(), String>;
    /// Checks that the gateway's models (primary first, then fallbacks)
    /// answer a one-token generation; says which one the gateway will use,
    /// or fails when none answers.
    fn check_models(&mut self, models: &[String]) -> Result<String, String>;
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Replace files privai did not write, saving each as `<name>.before-privai`.
    pub adopt: bool,
    /// The command line, for the journal.
    pub command: String,
    /// Test only: abort the process (as abruptly as kill -9) at checkpoint
    /// N: 0 after the journal starts, k after the k-th action, then after
    /// the generation is written, then after it is made current.
    pub failpoint: Option<usize>,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The plan was carried out; generation `generation` is current.
    Applied {
        /// The new generation.
        generation: u64,
        /// Service actions not carried out because the install is staged.
        staged_services: usize,
    },
    /// A step or a health check failed and the run was undone.
    RolledBack {
        /// What failed.
        failure: String,
        /// What undoing did, one line each.
        restored: Vec<String>,
        /// What the run did that a rollback does not undo: models pulled or
        /// removed, Headscale users and keys created or expired.
        kept: Vec<String>,
        /// The generation current again (`None`: nothing was installed before).
        current: Option<u64>,
    },
}

/// The suffix of the copy `--adopt` keeps of a file privai did not write.
pub const BEFORE_PRIVAI: &str = ".before-privai";

/// Carries out `plan`, which was computed for `desired` against the system
/// as `install` lays it out, and commits generation N+1 recording
/// `desired` and `origin`. The caller holds the state lock and has run
/// [`recover`]. `services` is `None` for a staged install (nothing is
/// started). Progress goes to `out`, one line per step.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    install: &Install,
    desired: &Rendered,
    plan: &Plan,
    origin: Origin,
    mut services: Option<&mut dyn Services>,
    options: &Options,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    if let Some(adoption) = plan.adoptions().next()
        && !options.adopt
    {
        let file = adoption.file().expect("adoptions are file actions");
        anyhow::bail!(
            "`{}` on {} exists and privai did not write it; nothing was changed. Pass --adopt to save it as `{}{BEFORE_PRIVAI}` and replace it, or move it away",
            file.path,
            file.host,
            file.path
        );
    }
    let state = StateDir::new(install.state_dir());
    let store = Store::new(state.clone());
    let from = store.current()?;
    let to = store.next_number()?;
    // The state directory itself (the lock made it already, when taken).
    atomic::create_private_dir(state.dir())
        .with_context(|| format!("creating `{}`", state.dir().display()))?;
    let mut journal = Journal::create(&state.journal())?;
    journal.append(&Record::Begin {
        command: options.command.clone(),
        from,
        to,
        started: now(),
        pid: Some(std::process::id()),
    })?;
    // Made only once the journal says so: recovery removes it.
    atomic::create_private_dir(&state.run())?;
    atomic::create_private_dir(&state.backups())?;
    failpoint(options, 0);

    let contents: BTreeMap<(&str, &str), &Artifact> = desired
        .artifacts
        .iter()
        .map(|a| ((a.host.as_str(), a.path.as_str()), a))
        .collect();
    let mut records = Vec::new();
    let mut staged_services = 0;
    for (step, action) in plan.actions.iter().enumerate() {
        let mut staged = false;
        let result = if let Action::Headscale(HeadscaleAction::CreateUser { .. })
        | Action::Headscale(HeadscaleAction::DeleteUser { .. })
        | Action::Headscale(HeadscaleAction::SetPolicy { .. })
        | Action::Headscale(HeadscaleAction::CreateKey { .. })
        | Action::Headscale(HeadscaleAction::ExpireKey { .. })
        | Action::Headscale(HeadscaleAction::SetNodeTags { .. }) = action
        {
            match services.as_deref_mut() {
                Some(services) => control_step(
                    &state,
                    step,
                    action,
                    desired,
                    services,
                    &mut journal,
                    &mut records,
                ),
                None => {
                    staged = true;
                    Ok(())
                }
            }
        } else if let Action::Model(ModelAction::Pull { .. })
        | Action::Model(ModelAction::Remove { .. }) = action
        {
            match services.as_deref_mut() {
                Some(services) => model_step(
                    &state,
                    step,
                    action,
                    services,
                    &mut journal,
                    &mut records,
                    out,
                ),
                None => {
                    staged = true;
                    Ok(())
                }
            }
        } else if let Action::Secret(SecretAction::Write { .. }) = action {
            secret_step(install, &state, step, action, &mut journal)
                .map(|written| records.extend(written))
                .map_err(|e| format!("{}: {e:#}", action.address()))
        } else if let Some(file) = action.file() {
            let artifact = contents.get(&(file.host.as_str(), file.path.as_str()));
            file_step(
                install,
                &state,
                step,
                action,
                artifact.copied(),
                &mut journal,
            )
            .map(|record| records.push(record))
            .map_err(|e| format!("{}: {e:#}", action.address()))
        } else if let Some(services) = services.as_deref_mut() {
            service_step(step, action, desired, services, &mut journal, &mut records)
        } else {
            staged_services += 1;
            staged = true;
            Ok(())
        };
        if let Err(failure) = result {
            writeln!(out, "  failed: {failure}")?;
            return undo::roll_back(&state, from, to, journal, &records, services, &failure, out);
        }
        journal.note(&Record::Done { step })?;
        records.push(Record::Done { step });
        let status = if staged { "not run (staged)" } else { "done" };
        writeln!(
            out,
            "  {} {}: {status}",
            action.change().symbol(),
            action.address()
        )?;
        failpoint(options, step + 1);
    }

    let check = match services.as_deref_mut() {
        Some(services) if !desired.gateway_models.is_empty() && touches_ollama(plan) => {
            Some(services.check_models(&desired.gateway_models))
        }
        _ => None,
    };
    match check {
        Some(Ok(report)) => writeln!(out, "  {report}")?,
        Some(Err(failure)) => {
            let failure = format!("checking the gateway's models: {failure}");
            writeln!(out, "  failed: {failure}")?;
            return undo::roll_back(&state, from, to, journal, &records, services, &failure, out);
        }
        None => {}
    }

    // Files were renamed into place without a directory fsync each; make
    // every rename durable once, before the generation commits.
    let mut dirs = std::collections::BTreeSet::new();
    for record in &records {
        if let Record::File { path, .. } = record
            && let Some(dir) = path.parent()
            && dir.exists()
        {
            dirs.insert(dir.to_owned());
        }
    }
    for dir in &dirs {
        atomic::sync_dir(dir)?;
    }
    let info = Info {
        format: INFO_FORMAT,
        number: to,
        created: now(),
        manifest_sha256: Manifest::of(desired).hash(),
        origin,
        services: desired.services.clone(),
    };
    store.write(&info, desired)?;
    failpoint(options, plan.actions.len() + 1);
    store.set_current(to)?;
    failpoint(options, plan.actions.len() + 2);
    journal.append(&Record::Committed { generation: to })?;
    undo::clean_up(&state, journal, &records)?;
    Ok(Outcome::Applied {
        generation: to,
        staged_services,
    })
}

/// Runs one file action: saves the pre-image, journals the step, writes or
/// removes the file. Returns the journal record (for undoing).
fn file_step(
    install: &Install,
    state: &StateDir,
    step: usize,
    action: &Action,
    artifact: Option<&Artifact>,
    journal: &mut Journal,
) -> anyhow::Result<Record> {
    let file = action.file().expect("a file action");
    let path = install.path(&file.host, &file.path)?;
    let pre_image = read_pre_image(state, step, &path, file.secret)?;
    let backup = pre_image.as_ref().map(|(backup, _)| backup.clone());
    let saved_as = matches!(action, Action::File(FileAction::Adopt { .. }))
        .then(|| PathBuf::from(format!("{}{BEFORE_PRIVAI}", path.display())));
    let created_dirs = missing_parents(&path);
    let record = Record::File {
        step,
        action: format!("{} {}", action.change().name(), action.address()),
        path: path.clone(),
        backup: backup.clone(),
        saved_as: saved_as.clone(),
        created_dirs,
    };
    journal.append(&record)?;
    save(pre_image)?;
    match action {
        Action::File(FileAction::Delete { .. }) => {
            atomic::unlink(&path)?;
        }
        _ => {
            let artifact = artifact.with_context(|| {
                format!(
                    "the plan names `{}`, which the spec does not render",
                    file.path
                )
            })?;
            if let (Some(saved_as), Some(backup)) = (&saved_as, &backup) {
                let bytes = std::fs::read(&backup.copy)?;
                atomic::write(saved_as, &bytes, backup.mode)?;
            }
            atomic::replace(&path, &artifact.contents, artifact.mode)?;
            if let (Owner::User, Some(owner)) = (file.owner, install.operator()) {
                give_to_operator(&path, &record, owner)?;
            }
        }
    }
    Ok(record)
}

/// The pre-image of `path` (if it exists) that step `step` saves before
/// it changes the file, and where: under the state directory's
/// `run/backup`, or — for a secret — next to the file itself, so that a
/// secret never enters privai's state directory. The step journals where
/// first, then [`save`]s it: a copy, of a secret above all, exists only
/// once the journal names it, and recovery removes it.
fn read_pre_image(
    state: &StateDir,
    step: usize,
    path: &Path,
    secret: bool,
) -> anyhow::Result<Option<(Backup, Vec<u8>)>> {
    let FileState::Present { contents, mode } = read_file(path)? else {
        return Ok(None);
    };
    let copy = if secret {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        path.with_file_name(format!(".{name}.privai-pre-{step}"))
    } else {
        state.backups().join(step.to_string())
    };
    Ok(Some((Backup { copy, mode }, contents)))
}

/// Writes the pre-image [`read_pre_image`] read (0600), once it is journaled.
fn save(pre_image: Option<(Backup, Vec<u8>)>) -> anyhow::Result<()> {
    if let Some((backup, contents)) = pre_image {
        atomic::write(&backup.copy, &contents, 0o600)?;
    }
    Ok(())
}

/// Runs one secret action: saves the pre-image (0600, removed when the run
/// ends), journals the step (path only), writes the value 0600 — and, for
/// a self-signed key, its certificate (0644) the same way. Returns the
/// journal records (for undoing).
fn secret_step(
    install: &Install,
    state: &StateDir,
    step: usize,
    action: &Action,
    journal: &mut Journal,
) -> anyhow::Result<Vec<Record>> {
    let Action::Secret(SecretAction::Write {
        secret, new_sha256, ..
    }) = action
    else {
        unreachable!("a secret action")
    };
    let mut certificate = None;
    let value = match &secret.source {
        SecretSource::Generate => generate_token()?,
        SecretSource::Env { var } => {
            let value = crate::observe::secrets::env_value(secret, var)?;
            if Some(sha256_hex(&value)) != *new_sha256 {
                anyhow::bail!("the value of {var} changed since the plan was made");
            }
            value
        }
        SecretSource::SelfSigned {
            certificate: path,
            names,
        } => {
            let made = rcgen::generate_simple_self_signed(names.clone())
                .with_context(|| format!("making a certificate for {}", names.join(", ")))?;
            certificate = Some((path, made.cert.pem()));
            made.signing_key.serialize_pem().into_bytes()
        }
    };
    let path = install.path(&secret.host, &secret.path)?;
    let pre_image = read_pre_image(state, step, &path, true)?;
    let record = Record::File {
        step,
        action: format!("{} {}", action.change().name(), action.address()),
        path: path.clone(),
        backup: pre_image.as_ref().map(|(backup, _)| backup.clone()),
        saved_as: None,
        created_dirs: missing_parents(&path),
    };
    journal.append(&record)?;
    save(pre_image)?;
    atomic::replace(&path, &value, 0o600)?;
    if let Some(owner) = install.operator()
        && secret.path.starts_with("~/")
    {
        give_to_operator(&path, &record, owner)?;
    }
    let mut records = vec![record];
    if let Some((certificate, pem)) = certificate {
        let path = install.path(&secret.host, certificate)?;
        let pre_image = read_pre_image(state, step, &path, false)?;
        let record = Record::File {
            step,
            action: format!("create file {}:{certificate}", secret.host),
            path: path.clone(),
            backup: pre_image.as_ref().map(|(backup, _)| backup.clone()),
            saved_as: None,
            created_dirs: missing_parents(&path),
        };
        journal.append(&record)?;
        save(pre_image)?;
        atomic::replace(&path, pem.as_bytes(), 0o644)?;
        records.push(record);
    }
    Ok(records)
}

/// A new random token: 32 bytes from the OS, as 64 hex digits.
fn generate_token() -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom to generate a token")?;
    Ok(bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes())
}

/// Makes `path`, and the directories the step created for it, the
/// operator's (privai runs as root under sudo).
fn give_to_operator(path: &Path, record: &Record, (uid, gid): (u32, u32)) -> anyhow::Result<()> {
    let dirs = match record {
        Record::File { created_dirs, .. } => created_dirs.as_slice(),
        _ => &[],
    };
    for target in std::iter::once(path).chain(dirs.iter().map(PathBuf::as_path)) {
        std::os::unix::fs::chown(target, Some(uid), Some(gid))
            .with_context(|| format!("giving `{}` to uid {uid}", target.display()))?;
    }
    Ok(())
}

/// Directories above `path` that do not exist yet, innermost first.
fn missing_parents(path: &Path) -> Vec<PathBuf> {
    path.ancestors()
        .skip(1)
        .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
        .map(Path::to_path_buf)
        .collect()
}

/// Whether the plan pulls a model or starts, restarts or stops Ollama:
/// then the gateway's models are checked before the generation commits.
fn touches_ollama(plan: &Plan) -> bool {
    plan.actions.iter().any(|a| {
        matches!(a, Action::Model(ModelAction::Pull { .. }))
            || a.unit()
                .is_some_and(|u| u.id == crate::render::ServiceId::Ollama)
    })
}

/// Runs one model action: journals it (a model is data: rollback never
/// undoes it), pulls or removes it, and records at once in the state
/// directory that privai pulled it, or no longer has it. A model Ollama
/// has by then (the plan was made while Ollama did not answer) is left
/// alone.
#[allow(clippy::too_many_arguments)]
fn model_step(
    state: &StateDir,
    step: usize,
    action: &Action,
    services: &mut dyn Services,
    journal: &mut Journal,
    records: &mut Vec<Record>,
    out: &mut dyn Write,
) -> Result<(), String> {
    if let Action::Model(ModelAction::Pull { name, .. }) = action
        && let Some(digest) = services
            .local_model(name)
            .map_err(|e| format!("asking Ollama for {name}: {e}"))?
    {
        let _ = writeln!(
            out,
            "    {name}: Ollama has it already ({digest}), not pulled"
        );
        return Ok(());
    }
    let record = Record::Model {
        step,
        action: format!("{} {}", action.change().name(), action.address()),
    };
    journal.append(&record).map_err(|e| e.to_string())?;
    records.push(record);
    let keep = |e: std::io::Error| format!("recording the models privai pulled: {e}");
    match action {
        Action::Model(ModelAction::Pull {
            host,
            name,
            locked_digest,
            source,
            ..
        }) => {
            let digest = services
                .pull_model(name, source, out)
                .map_err(|e| format!("pulling {name}: {e}"))?;
            let model = ModelPull {
                host: host.clone(),
                name: name.clone(),
                source: source.clone(),
            };
            crate::state::pulled::record(state.dir(), &model).map_err(keep)?;
            if let Some(locked) = locked_digest
                && crate::model::model_name::canonical_digest(&digest) != *locked
            {
                return Err(format!(
                    "{name} was pulled as {digest}, but privai.lock pins {locked}: the tag moved upstream. The new weights stay in Ollama; `privai lock --update` accepts them"
                ));
            }
            Ok(())
        }
        Action::Model(ModelAction::Remove { host, name }) => {
            services
                .remove_model(name)
                .map_err(|e| format!("removing {name}: {e}"))?;
            let model = ModelPull {
                host: host.clone(),
                name: name.clone(),
                source: Default::default(),
            };
            crate::state::pulled::forget(state.dir(), &model).map_err(keep)
        }
        _ => unreachable!("a model action"),
    }
}

/// Runs one Headscale action: journals it (users and keys are not undone
/// by a rollback: a user is harmless, a key expires; a policy is, so its
/// record keeps the previous one), calls the API, keeps a new key 0600 in
/// the state directory.
#[allow(clippy::too_many_arguments)]
fn control_step(
    state: &StateDir,
    step: usize,
    action: &Action,
    desired: &Rendered,
    services: &mut dyn Services,
    journal: &mut Journal,
    records: &mut Vec<Record>,
) -> Result<(), String> {
    let address = action.address();
    if let Action::Headscale(HeadscaleAction::SetPolicy { .. }) = action {
        let policy = desired
            .control
            .as_ref()
            .map(|c| c.policy.as_str())
            .ok_or_else(|| format!("{address}: the spec runs no Headscale"))?;
        // Checked first, as a reload in file mode is: nothing is set
        // unless Headscale accepts the policy against its users and nodes.
        services
            .check_policy(policy)
            .map_err(|e| format!("{address}: checking the new policy: {e}"))?;
        let previous = services
            .get_policy()
            .map_err(|e| format!("{address}: reading the policy it replaces: {e}"))?;
        let record = Record::Policy { step, previous };
        journal.append(&record).map_err(|e| e.to_string())?;
        // Kept even when setting fails: undoing checks what Headscale holds.
        records.push(record);
        return services
            .set_policy(policy)
            .map_err(|e| format!("{address}: {e}"));
    }
    let record = Record::Control {
        step,
        action: format!("{} {address}", action.change().name()),
    };
    journal.append(&record).map_err(|e| e.to_string())?;
    records.push(record);
    let keys = |e: std::io::Error| format!("keeping the pre-auth key: {e}");
    match action {
        Action::Headscale(HeadscaleAction::CreateUser { user, .. }) => services.create_user(user),
        Action::Headscale(HeadscaleAction::DeleteUser { id, .. }) => services.delete_user(*id),
        Action::Headscale(HeadscaleAction::CreateKey {
            device,
            user,
            tags,
            ephemeral,
            reusable,
            expiry_days,
            ..
        }) => {
            let (id, key) = services.create_key(user, tags, *ephemeral, *reusable, *expiry_days)?;
            crate::state::keys::store(state.dir(), device, id, &key).map_err(keys)
        }
        Action::Headscale(HeadscaleAction::ExpireKey { device, key, .. }) => {
            services.expire_key(*key)?;
            crate::state::keys::forget(state.dir(), device, *key).map_err(keys)
        }
        Action::Headscale(HeadscaleAction::SetNodeTags { node, tags, .. }) => {
            services.set_node_tags(*node, tags)
        }
        _ => unreachable!("a Headscale action"),
    }
    .map_err(|e| format!("{address}: {e}"))
}

/// Runs one service action and, for a start, restart or reload, its health
/// check. Before Headscale reloads its policy file, Headscale checks the
/// new policy, so that a policy it would refuse (and, on SIGHUP, only log)
/// fails the run.
fn service_step(
    step: usize,
    action: &Action,
    desired: &Rendered,
    services: &mut dyn Services,
    journal: &mut Journal,
    records: &mut Vec<Record>,
) -> Result<(), String> {
    let unit = action.unit().expect("a service action");
    let verb = match action {
        Action::Service(ServiceAction::Start { .. }) => Verb::Start,
        Action::Service(ServiceAction::Restart { .. })
        | Action::Service(ServiceAction::Repair { .. }) => Verb::Restart,
        Action::Service(ServiceAction::Reload { .. }) => Verb::Reload,
        _ => Verb::Stop,
    };
    if verb == Verb::Reload
        && unit.id == ServiceId::Headscale
        && let Some(control) = &desired.control
    {
        services
            .check_policy(&control.policy)
            .map_err(|e| format!("checking the new policy before Headscale reloads it: {e}"))?;
    }
    let record = Record::Service {
        step,
        verb,
        unit: unit.clone(),
    };
    journal.append(&record).map_err(|e| e.to_string())?;
    records.push(record);
    let name = format!("{}:{}", unit.host, unit.id.name());
    match verb {
        Verb::Start => services.start(unit),
        Verb::Restart => services.restart(unit),
        Verb::Reload => services.reload(unit),
        Verb::Stop => services.stop(unit),
    }
    .map_err(|e| format!("{} {name}: {e}", verb_name(verb)))?;
    if verb != Verb::Stop && unit.health.is_some() {
        services
            .health(unit)
            .map_err(|e| format!("health check of {name}: {e}"))?;
    }
    Ok(())
}

fn verb_name(verb: Verb) -> &'static str {
    match verb {
        Verb::Start => "starting",
        Verb::Restart => "restarting",
        Verb::Reload => "reloading",
        Verb::Stop => "stopping",
    }
}

/// Aborts the process at checkpoint `n` when the test failpoint says so.
fn failpoint(options: &Options, n: usize) {
    if options.failpoint == Some(n) {
        // As abrupt as kill -9: no destructor runs, nothing is flushed.
        std::process::abort();
    }
}

/// Now, RFC 3339 UTC to the second.
pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests;
