//! Models privai pulled: `pulled.json`, each model with the host whose
//! Ollama has it. `--prune` removes these, and never a model privai did not
//! pull. Like the models themselves (and the pre-auth keys of `keys`), the
//! record is data, not configuration: it is written as soon as a pull
//! succeeds or a removal is done, and a rollback leaves it alone, because a
//! rollback leaves the models alone.

use super::atomic;
use crate::render::ModelPull;
use std::io;
use std::path::{Path, PathBuf};

fn path(state: &Path) -> PathBuf {
    state.join("pulled.json")
}

/// The models privai pulled, in the order it pulled them; empty when it
/// pulled none.
pub fn read(state: &Path) -> io::Result<Vec<ModelPull>> {
    match std::fs::read(path(state)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "`{}` is damaged: {e}; it lists the models privai pulled (for --prune): fix or remove it",
                    path(state).display()
                ),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Records that privai pulled `model` (once, however often it is pulled).
pub fn record(state: &Path, model: &ModelPull) -> io::Result<()> {
    let mut pulled = read(state)?;
    if pulled.iter().any(|p| p.same(model)) {
        return Ok(());
    }
    pulled.push(model.clone());
    write(state, &pulled)
}

/// Forgets `model` (privai removed it).
pub fn forget(state: &Path, model: &ModelPull) -> io::Result<()> {
    let mut pulled = read(state)?;
    let before = pulled.len();
    pulled.retain(|p| !p.same(model));
    match pulled.len() == before {
        true => Ok(()),
        false => write(state, &pulled),
    }
}

fn write(state: &Path, pulled: &[ModelPull]) -> io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(pulled).map_err(io::Error::other)?;
    bytes.push(b'\n');
    atomic::write(&path(state), &bytes, 0o644)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(host: &str, name: &str) -> ModelPull {
        ModelPull {
            host: host.to_owned(),
            name: name.to_owned(),
            source: Default::default(),
        }
    }

    #[test]
    fn pulls_are_recorded_once_each_in_order_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), []);
        record(dir.path(), &model("mac", "llama3.2:3b")).unwrap();
        record(dir.path(), &model("mac", "qwen2.5:14b")).unwrap();
        record(dir.path(), &model("mac", "llama3.2:3b")).unwrap();
        record(dir.path(), &model("nas", "llama3.2:3b")).unwrap();
        assert_eq!(
            read(dir.path()).unwrap(),
            [
                model("mac", "llama3.2:3b"),
                model("mac", "qwen2.5:14b"),
                model("nas", "llama3.2:3b"),
            ]
        );
        forget(dir.path(), &model("mac", "llama3.2:3b")).unwrap();
        forget(dir.path(), &model("mac", "never-pulled:1b")).unwrap();
        assert_eq!(
            read(dir.path()).unwrap(),
            [model("mac", "qwen2.5:14b"), model("nas", "llama3.2:3b")]
        );
    }

    #[test]
    fn a_damaged_record_is_an_error_naming_the_file_and_what_it_is_for() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), "{not json").unwrap();
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("pulled.json` is damaged") && err.contains("--prune"),
            "{err}"
        );
    }
}
