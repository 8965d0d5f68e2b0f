//! [`System`]: the [`Services`] of a real machine — launchctl, systemctl or
//! compose through a [`Runner`], and the health probes of [`crate::sys::health`].

use super::Services;
use crate::render::units::ServiceUnit;
use crate::state::Install;
use crate::sys::Runner;
use crate::sys::activate::{self, Context};
use std::time::Duration;

/// Service manager commands through a runner, with health probes.
pub struct System {
    runner: Box<dyn Runner>,
    install: Install,
    uid: u32,
    health_timeout: Option<Duration>,
}

impl System {
    /// Runs commands through `runner` for `install`. `health_timeout`
    /// overrides each service's own. The operator's uid (the owner of
    /// `$HOME`) names launchd's `gui/<uid>` domain.
    pub fn new(
        runner: Box<dyn Runner>,
        install: Install,
        health_timeout: Option<Duration>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            runner,
            uid: match install.operator() {
                Some((uid, _)) => uid,
                None => operator_uid()?,
            },
            install,
            health_timeout,
        })
    }

    fn run(&mut self, verb: activate::Verb, unit: &ServiceUnit) -> Result<(), String> {
        let install = self.install.clone();
        let host = unit.host.clone();
        let resolve = move |path: &str| install.path(&host, path).display().to_string();
        let cx = Context {
            uid: self.uid,
            resolve: &resolve,
        };
        let steps = activate::steps(verb, unit, &cx);
        activate::run_steps(self.runner.as_mut(), &steps).map_err(|e| format!("{e} ({})", e.hint()))
    }
}

impl Services for System {
    fn start(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.run(activate::Verb::Start, unit)
    }

    fn restart(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.run(activate::Verb::Restart, unit)
    }

    fn stop(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        self.run(activate::Verb::Stop, unit)
    }

    fn health(&mut self, unit: &ServiceUnit) -> Result<(), String> {
        let Some(health) = &unit.health else {
            return Ok(());
        };
        let timeout = self
            .health_timeout
            .unwrap_or(Duration::from_secs(unit.health_timeout_secs));
        crate::sys::health::probe(health, timeout)
    }
}

/// The uid of the operator: the owner of `$HOME`.
fn operator_uid() -> anyhow::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let home = std::env::var_os("HOME")
        .ok_or_else(|| anyhow::anyhow!("$HOME is not set; privai needs the operator's home"))?;
    Ok(std::fs::metadata(&home)
        .map_err(|e| anyhow::anyhow!("reading `{}`: {e}", home.to_string_lossy()))?
        .uid())
}
