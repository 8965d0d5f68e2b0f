//! Carrying out the models domain through a [`ModelStore`] (Ollama):
//! models are data, so a rollback never undoes a pull or a removal; privai
//! records at once which models it pulled.

use crate::plan::{Action, ModelAction, Plan};
use crate::render::ModelPull;
use crate::state::StateDir;
use crate::state::journal::{Journal, Record};
use std::io::Write;

/// What the models domain needs from Ollama.
pub trait ModelStore {
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
    /// Checks that the gateway's models (primary first, then fallbacks)
    /// answer a one-token generation; says which one the gateway will use,
    /// or fails when none answers.
    fn check_models(&mut self, models: &[String]) -> Result<String, String>;
}

/// Whether the plan pulls a model or starts, restarts or stops Ollama:
/// then the gateway's models are checked before the generation commits.
pub(super) fn touches_ollama(plan: &Plan) -> bool {
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
pub(super) fn model_step(
    state: &StateDir,
    step: usize,
    action: &ModelAction,
    models: &mut dyn ModelStore,
    journal: &mut Journal,
    records: &mut Vec<Record>,
    out: &mut dyn Write,
) -> Result<(), String> {
    if let ModelAction::Pull { name, .. } = action
        && let Some(digest) = models
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
        ModelAction::Pull {
            host,
            name,
            locked_digest,
            source,
            ..
        } => {
            let digest = models
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
        ModelAction::Remove { host, name } => {
            models
                .remove_model(name)
                .map_err(|e| format!("removing {name}: {e}"))?;
            let model = ModelPull {
                host: host.clone(),
                name: name.clone(),
                source: Default::default(),
            };
            crate::state::pulled::forget(state.dir(), &model).map_err(keep)
        }
    }
}
