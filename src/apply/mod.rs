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
//! Each domain of a plan is carried out by its own module, through a narrow
//! trait of its own: [`files`] (files and secrets, straight to disk),
//! [`service_manager`] ([`ServiceManager`]), [`models`] ([`ModelStore`]),
//! [`headscale`] ([`ControlPlane`]), [`matrix`] ([`AccountDirectory`]).
//! The engine ([`apply`]) is a match over
//! the domains. All I/O of `apply` is in these modules and in
//! [`crate::state`]; [`system::System`] is the real system, and tests
//! record what would run.

pub mod api_key;
pub mod events;
pub mod files;
pub mod headscale;
pub mod matrix;
pub mod models;
pub mod service_manager;
pub mod system;
mod undo;

pub use events::{Event, Progress};
pub use headscale::ControlPlane;
pub use matrix::AccountDirectory;
pub use models::ModelStore;
pub use service_manager::ServiceManager;
pub use undo::{Recovered, Recovery, recover};

use crate::plan::{Action, Plan};
use crate::render::manifest::Manifest;
use crate::render::{Artifact, Rendered};
use crate::state::generations::{INFO_FORMAT, Info, Origin, Store};
use crate::state::journal::{Journal, Record};
use crate::state::{Install, StateDir, atomic};
use anyhow::Context;
use std::collections::BTreeMap;
use std::io::Write;

/// What `apply` needs from the system: a service manager, a model store,
/// a control plane and an account directory, each a narrow trait of its
/// domain's module. [`system::System`] reaches the real ones (launchctl,
/// systemctl or compose through a [`crate::sys::Runner`], Ollama's,
/// Headscale's and Synapse's APIs); tests record what would run.
pub trait Services: ServiceManager + ModelStore + ControlPlane + AccountDirectory {}

impl<T: ServiceManager + ModelStore + ControlPlane + AccountDirectory> Services for T {}

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
    /// `privai.lock` to keep: once the models are in place, the digest of
    /// each model it lacks is added (and those of models the spec dropped
    /// removed), as a journaled step of the run, before it commits.
    pub lock: Option<std::path::PathBuf>,
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
    progress: &mut dyn Progress,
) -> anyhow::Result<Outcome> {
    refuse_unapproved_adoption(plan, options)?;
    let mut run = Run::begin(install, desired, options)?;
    for (step, action) in plan.actions.iter().enumerate() {
        let (address, change) = (action.address(), action.change());
        progress.event(&Event::Started {
            step,
            address: &address,
            change: change.name(),
        })?;
        let staged = match run.step(step, action, services.as_deref_mut(), progress.text()) {
            Ok(ran) => matches!(ran, Ran::Staged),
            Err(failure) => return run.roll_back(services, &failure, progress),
        };
        run.journal.note(&Record::Done { step })?;
        run.records.push(Record::Done { step });
        progress.event(&Event::Done {
            step,
            address: &address,
            change: change.name(),
            symbol: change.symbol(),
            staged,
        })?;
        failpoint(options, step + 1);
    }
    if let Some(services) = services.as_deref_mut()
        && !desired.gateway_models.is_empty()
        && models::touches_ollama(plan)
    {
        match services.check_models(&desired.gateway_models) {
            Ok(report) => progress.event(&Event::Checked { report: &report })?,
            Err(failure) => {
                let failure = format!("checking the gateway's models: {failure}");
                return run.roll_back(Some(services), &failure, progress);
            }
        }
    }
    if let (Some(path), Some(services)) = (&options.lock, services) {
        match run.keep_lock(plan.actions.len(), path, services) {
            Ok(true) => progress.event(&Event::LockWritten {
                path: &path.display().to_string(),
            })?,
            Ok(false) => {}
            Err(failure) => return run.roll_back(Some(services), &failure, progress),
        }
    }
    let outcome = run.commit(origin, plan.actions.len(), options)?;
    report(&outcome, progress)?;
    Ok(outcome)
}

/// Reports the outcome of a run as its last event.
fn report(outcome: &Outcome, progress: &mut dyn Progress) -> std::io::Result<()> {
    progress.event(&match outcome {
        Outcome::Applied {
            generation,
            staged_services,
        } => Event::Applied {
            generation: *generation,
            staged_services: *staged_services,
        },
        Outcome::RolledBack {
            failure,
            restored,
            kept,
            current,
        } => Event::RolledBack {
            failure,
            restored,
            kept,
            current: *current,
        },
    })
}

/// Refuses a plan that replaces a file privai did not write, unless
/// `--adopt` approves it.
fn refuse_unapproved_adoption(plan: &Plan, options: &Options) -> anyhow::Result<()> {
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
    Ok(())
}

/// How one step went.
enum Ran {
    /// Carried out.
    Done,
    /// Not carried out: the install is staged (no services to reach).
    Staged,
}

/// A run in progress: its journal, what it did (for undoing), and the
/// generation it commits.
struct Run<'a> {
    install: &'a Install,
    desired: &'a Rendered,
    state: StateDir,
    store: Store,
    from: Option<u64>,
    to: u64,
    journal: Journal,
    records: Vec<Record>,
    contents: BTreeMap<(&'a str, &'a str), &'a Artifact>,
    staged_services: usize,
}

impl<'a> Run<'a> {
    /// Starts the journal (the state directory first), then makes the
    /// directories recovery removes.
    fn begin(
        install: &'a Install,
        desired: &'a Rendered,
        options: &Options,
    ) -> anyhow::Result<Self> {
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
        let contents = desired
            .artifacts
            .iter()
            .map(|a| ((a.host.as_str(), a.path.as_str()), a))
            .collect();
        Ok(Self {
            install,
            desired,
            state,
            store,
            from,
            to,
            journal,
            records: Vec::new(),
            contents,
            staged_services: 0,
        })
    }

    /// Carries out one action, by its domain.
    fn step(
        &mut self,
        step: usize,
        action: &Action,
        services: Option<&mut (dyn Services + '_)>,
        out: &mut dyn Write,
    ) -> Result<Ran, String> {
        match (action, services) {
            (Action::File(file), _) => {
                let key = (file.file().host.as_str(), file.file().path.as_str());
                let artifact = self.contents.get(&key).copied();
                files::file_step(
                    self.install,
                    &self.state,
                    step,
                    file,
                    artifact,
                    &mut self.journal,
                )
                .map(|record| self.records.push(record))
                .map_err(|e| format!("{}: {e:#}", action.address()))?;
            }
            (Action::Secret(secret), _) => {
                files::secret_step(self.install, &self.state, step, secret, &mut self.journal)
                    .map(|written| self.records.extend(written))
                    .map_err(|e| format!("{}: {e:#}", action.address()))?;
            }
            (Action::Service(_), None) => {
                self.staged_services += 1;
                return Ok(Ran::Staged);
            }
            (Action::Model(_) | Action::Headscale(_) | Action::Matrix(_), None) => {
                return Ok(Ran::Staged);
            }
            (Action::Service(service), Some(services)) => service_manager::service_step(
                step,
                service,
                self.desired,
                services,
                &mut self.journal,
                &mut self.records,
            )?,
            (Action::Model(model), Some(services)) => models::model_step(
                &self.state,
                step,
                model,
                services,
                &mut self.journal,
                &mut self.records,
                out,
            )?,
            (Action::Headscale(change), Some(services)) => headscale::control_step(
                &self.state,
                step,
                change,
                self.desired,
                services,
                &mut self.journal,
                &mut self.records,
            )?,
            (Action::Matrix(change), Some(services)) => matrix::matrix_step(
                self.install,
                &self.state,
                step,
                change,
                self.desired.matrix.as_ref(),
                services,
                &mut self.journal,
                &mut self.records,
            )?,
        }
        Ok(Ran::Done)
    }

    /// Records in `privai.lock` at `path` the digest of each of the spec's
    /// models it lacks (as Ollama has it now) and drops the models the spec
    /// no longer names; a pin is never changed here (a tag that moved
    /// upstream stays flagged until `privai lock --update` accepts it): a file step of the run (`step`, after the plan's),
    /// journaled with its pre-image, so a rollback or a recovery puts the
    /// old lock back. Whether the lock changed.
    fn keep_lock(
        &mut self,
        step: usize,
        path: &std::path::Path,
        models: &mut dyn ModelStore,
    ) -> Result<bool, String> {
        use crate::lockfile::LockFile;
        let failed = |e: &dyn std::fmt::Display| format!("keeping `{}`: {e}", path.display());
        let mut lock = LockFile::read(path)
            .map_err(|e| failed(&e))?
            .unwrap_or_default();
        let before = lock.clone();
        let names: Vec<&str> = self
            .desired
            .models
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        for name in &names {
            if lock.digest(name).is_none()
                && let Some(digest) = models.local_model(name).map_err(|e| failed(&e))?
            {
                lock.set(name, &digest);
            }
        }
        lock.retain(&names);
        if lock == before {
            return Ok(false);
        }
        files::write_outside_root(
            &self.state,
            step,
            path,
            lock.render().as_bytes(),
            &mut self.journal,
        )
        .map(|record| self.records.push(record))
        .map_err(|e| failed(&format!("{e:#}")))?;
        Ok(true)
    }

    /// Undoes what the run did, after `failure`.
    fn roll_back(
        self,
        services: Option<&mut dyn Services>,
        failure: &str,
        progress: &mut dyn Progress,
    ) -> anyhow::Result<Outcome> {
        progress.event(&Event::Failed { failure })?;
        progress.event(&Event::RollingBack)?;
        let outcome = undo::roll_back(
            &self.state,
            self.from,
            self.to,
            self.journal,
            &self.records,
            services,
            failure,
        )?;
        report(&outcome, progress)?;
        Ok(outcome)
    }

    /// Makes every rename durable, writes generation `to` and makes it
    /// current, then ends the journal.
    fn commit(
        mut self,
        origin: Origin,
        steps: usize,
        options: &Options,
    ) -> anyhow::Result<Outcome> {
        // Files were renamed into place without a directory fsync each; make
        // every rename durable once, before the generation commits.
        let mut dirs = std::collections::BTreeSet::new();
        for record in &self.records {
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
            number: self.to,
            created: now(),
            manifest_sha256: Manifest::of(self.desired).hash(),
            origin,
            services: self.desired.services.clone(),
        };
        self.store.write(&info, self.desired)?;
        failpoint(options, steps + 1);
        self.store.set_current(self.to)?;
        failpoint(options, steps + 2);
        self.journal.append(&Record::Committed {
            generation: self.to,
        })?;
        undo::clean_up(&self.state, self.journal, &self.records)?;
        Ok(Outcome::Applied {
            generation: self.to,
            staged_services: self.staged_services,
        })
    }
}

/// Aborts the process at checkpoint `n` when the test failpoint says so
/// (only in builds with test hooks).
fn failpoint(options: &Options, n: usize) {
    if cfg!(feature = "test-hooks") && options.failpoint == Some(n) {
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
