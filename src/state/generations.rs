//! Generations: what each successful apply installed, kept so that
//! `privai rollback` can install it again, like NixOS's system profiles.
//!
//! Generation `N` is the directory `generations/N/` of the state directory:
//! `manifest.json` (what `privai build` writes) and `generation.json`
//! ([`Info`]). The files themselves are kept once each, by content, in
//! `store/SHA256` (like the Nix store), so a generation that changes one
//! file adds one copy, and `gc` removes copies no generation lists. Files
//! holding secrets are listed in the manifest but never copied.
//!
//! A generation is written under `N.partial` and renamed into place, then
//! made current by rewriting `current` atomically: that rename is the
//! moment an apply commits.

use super::{StateDir, atomic};
use crate::render::manifest::{FORMAT, Manifest};
use crate::render::units::ServiceUnit;
use crate::render::{Artifact, Rendered};
use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};

/// Version of `generation.json`.
pub const INFO_FORMAT: u32 = 1;

/// How a generation came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// `privai apply` of a spec.
    Apply {
        /// The spec's path, as given.
        spec: String,
        /// sha256 of the spec file's bytes, hex.
        spec_sha256: String,
    },
    /// `privai rollback` to generation `to`.
    Rollback {
        /// The generation installed again.
        to: u64,
    },
    /// `privai rotate-keys`: keys replaced, files as they were.
    RotateKeys {
        /// The spec's path, absolute.
        spec: String,
        /// sha256 of the spec file's bytes, hex.
        spec_sha256: String,
    },
}

/// `generation.json`: everything about a generation but its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// [`INFO_FORMAT`].
    pub format: u32,
    /// Its number, counting from 1.
    pub number: u64,
    /// When it was made current, RFC 3339.
    pub created: String,
    /// sha256 of its `manifest.json`: the hash `privai build` prints.
    pub manifest_sha256: String,
    /// How it came about.
    pub origin: Origin,
    /// The services it runs.
    pub services: Vec<ServiceUnit>,
}

/// A generation read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// Its `generation.json`.
    pub info: Info,
    /// Its manifest.
    pub manifest: Manifest,
}

/// The generations of a state directory.
#[derive(Debug, Clone)]
pub struct Store {
    state: StateDir,
}

impl Store {
    /// The generations of `state`.
    pub fn new(state: StateDir) -> Self {
        Self { state }
    }

    fn dir(&self, number: u64) -> PathBuf {
        self.state.generations().join(number.to_string())
    }

    /// The current generation's number; `None` before the first apply.
    pub fn current(&self) -> io::Result<Option<u64>> {
        let path = self.state.current();
        match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map(Some).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "`{}` should hold a generation number, not {:?}",
                        path.display(),
                        text.trim()
                    ),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(with_path(e, &path)),
        }
    }

    /// Makes generation `number` current (atomically).
    pub fn set_current(&self, number: u64) -> io::Result<()> {
        atomic::write(
            &self.state.current(),
            format!("{number}\n").as_bytes(),
            0o644,
        )
    }

    /// The numbers of every complete generation, ascending.
    pub fn numbers(&self) -> io::Result<Vec<u64>> {
        let dir = self.state.generations();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(with_path(e, &dir)),
        };
        let mut numbers = Vec::new();
        for entry in entries {
            let entry = entry?;
            if let Some(n) = entry.file_name().to_str().and_then(|s| s.parse().ok()) {
                numbers.push(n);
            }
        }
        numbers.sort_unstable();
        Ok(numbers)
    }

    /// The generation an interrupted or running apply wrote but did not
    /// make current (its journal says so): not installed, never listed nor
    /// rolled back to; recovery removes it.
    pub fn uncommitted(&self) -> io::Result<Option<u64>> {
        let Some(records) = super::journal::read(&self.state.journal())? else {
            return Ok(None);
        };
        match records.first() {
            Some(super::journal::Record::Begin { to, .. }) if self.current()? != Some(*to) => {
                Ok(Some(*to))
            }
            _ => Ok(None),
        }
    }

    /// The numbers of every committed generation, ascending: [`Store::numbers`]
    /// but the [`Store::uncommitted`] one.
    pub fn committed(&self) -> io::Result<Vec<u64>> {
        let uncommitted = self.uncommitted()?;
        let mut numbers = self.numbers()?;
        numbers.retain(|n| Some(*n) != uncommitted);
        Ok(numbers)
    }

    /// The number the next generation gets: one more than any generation
    /// ever written (complete or not).
    pub fn next_number(&self) -> io::Result<u64> {
        let dir = self.state.generations();
        let mut max = 0;
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries {
                let name = entry?.file_name();
                let name = name.to_string_lossy();
                let number = name.strip_suffix(".partial").unwrap_or(&name);
                if let Ok(n) = number.parse::<u64>() {
                    max = max.max(n);
                }
            }
        }
        Ok(max + 1)
    }

    /// Reads generation `number`.
    pub fn load(&self, number: u64) -> io::Result<Generation> {
        let dir = self.dir(number);
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("there is no generation {number} (`privai generations` lists them)"),
            ));
        }
        let info: Info = read_json(&dir.join("generation.json"))?;
        let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
        if info.format != INFO_FORMAT || manifest.format != FORMAT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "generation {number} was written by another version of privai (formats {}/{}); this one reads {INFO_FORMAT}/{FORMAT}",
                    info.format, manifest.format
                ),
            ));
        }
        Ok(Generation { info, manifest })
    }

    /// Everything generation `number` installed, read back from its copies,
    /// as `render` would give it. Fails for a generation with a secret file
    /// (privai keeps no copy of secrets) and when a copy no longer matches
    /// its manifest.
    pub fn rendered(&self, number: u64) -> io::Result<Rendered> {
        let generation = self.load(number)?;
        let mut artifacts = Vec::new();
        for entry in &generation.manifest.files {
            if entry.secret {
                return Err(io::Error::other(format!(
                    "generation {number} installed `{}`, which holds a secret; privai keeps no copy of secrets, so it cannot install that generation again — apply its spec instead",
                    entry.path
                )));
            }
            let copy = self.blob(&entry.sha256);
            let contents = std::fs::read(&copy).map_err(|e| with_path(e, &copy))?;
            if crate::render::manifest::sha256_hex(&contents) != entry.sha256 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "`{}` does not match the sha256 generation {number} recorded; the generation is damaged",
                        copy.display()
                    ),
                ));
            }
            artifacts.push(Artifact {
                host: entry.host.clone(),
                path: entry.path.clone(),
                contents,
                mode: u32::from_str_radix(&entry.mode, 8).unwrap_or(0o644),
                owner: entry.owner,
                secret: false,
                restarts: entry.restarts.clone(),
                reloads: entry.reloads.clone(),
            });
        }
        Ok(Rendered {
            artifacts,
            models: generation.manifest.models,
            services: generation.info.services,
            // Secrets are data, not configuration: installing a generation
            // again leaves them as they are.
            secrets: Vec::new(),
            gateway_models: Vec::new(),
            // Users and keys live in Headscale, not in a generation.
            control: None,
            // So do Matrix accounts, in Synapse: a rollback leaves them.
            matrix: None,
        })
    }

    fn store(&self) -> PathBuf {
        self.state.dir().join("store")
    }

    fn blob(&self, sha256: &str) -> PathBuf {
        self.store().join(sha256)
    }

    /// Writes generation `info.number` from `rendered` (not yet current):
    /// copies of the files the store lacks, then the generation's directory.
    pub fn write(&self, info: &Info, rendered: &Rendered) -> io::Result<()> {
        let store = self.store();
        atomic::create_private_dir(&store)?;
        let mut added = false;
        for artifact in rendered.artifacts.iter().filter(|a| !a.secret) {
            let sha256 = crate::render::manifest::sha256_hex(&artifact.contents);
            let blob = self.blob(&sha256);
            if blob.exists() {
                continue;
            }
            let tmp = atomic::temp_path(&blob, std::process::id());
            let _ = std::fs::remove_file(&tmp);
            atomic::write_new(&tmp, &artifact.contents, 0o644)?;
            atomic::rename(&tmp, &blob)?;
            added = true;
        }
        if added {
            atomic::sync_dir(&store)?;
        }
        let root = self.state.generations();
        atomic::create_private_dir(&root)?;
        let final_dir = self.dir(info.number);
        let partial = root.join(format!("{}.partial", info.number));
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(|e| with_path(e, &partial))?;
        }
        atomic::create_private_dir(&partial)?;
        atomic::write_new(
            &partial.join("manifest.json"),
            &Manifest::of(rendered).to_bytes(),
            0o644,
        )?;
        let mut json = serde_json::to_vec_pretty(info).map_err(io::Error::other)?;
        json.push(b'\n');
        atomic::write_new(&partial.join("generation.json"), &json, 0o644)?;
        atomic::sync_dir(&partial)?;
        atomic::rename(&partial, &final_dir)?;
        atomic::sync_dir(&root)
    }

    /// Removes the copies in the store that no generation lists; returns
    /// how many.
    pub fn collect_garbage(&self) -> io::Result<usize> {
        let mut live = std::collections::BTreeSet::new();
        for number in self.numbers()? {
            for entry in self.load(number)?.manifest.files {
                live.insert(entry.sha256);
            }
        }
        let store = self.store();
        let Ok(entries) = std::fs::read_dir(&store) else {
            return Ok(0);
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !live.contains(&name) {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        if removed > 0 {
            atomic::sync_dir(&store)?;
        }
        Ok(removed)
    }

    /// Removes generation `number` (complete or partial).
    pub fn remove(&self, number: u64) -> io::Result<()> {
        let root = self.state.generations();
        for dir in [self.dir(number), root.join(format!("{number}.partial"))] {
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| with_path(e, &dir))?;
            }
        }
        if root.exists() {
            atomic::sync_dir(&root)?;
        }
        Ok(())
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> io::Result<T> {
    let bytes = std::fs::read(path).map_err(|e| with_path(e, path))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("`{}` is damaged: {e}", path.display()),
        )
    })
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("`{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Owner, ServiceId};

    fn rendered(text: &str, secret: bool) -> Rendered {
        let mut artifact = Artifact {
            host: "mac".into(),
            path: "/etc/privai/a.conf".into(),
            contents: text.as_bytes().to_vec(),
            mode: 0o644,
            owner: Owner::Root,
            secret: false,
            restarts: vec![ServiceId::Ollama],
            reloads: Vec::new(),
        };
        let mut artifacts = vec![artifact.clone()];
        if secret {
            artifact.path = "/etc/privai/key".into();
            artifacts.push(artifact.secret());
        }
        Rendered {
            artifacts,
            ..Rendered::default()
        }
    }

    fn info(number: u64, rendered: &Rendered) -> Info {
        Info {
            format: INFO_FORMAT,
            number,
            created: "2026-11-25T14:00:00Z".into(),
            manifest_sha256: Manifest::of(rendered).hash(),
            origin: Origin::Rollback { to: 1 },
            services: Vec::new(),
        }
    }

    #[test]
    fn a_written_generation_reads_back_as_what_was_rendered() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(StateDir::new(dir.path()));
        let r = rendered("one\n", false);
        store.write(&info(1, &r), &r).unwrap();
        assert_eq!(store.rendered(1).unwrap(), r);
        assert_eq!(store.numbers().unwrap(), vec![1]);
        assert_eq!(store.current().unwrap(), None);
        store.set_current(1).unwrap();
        assert_eq!(store.current().unwrap(), Some(1));
        assert_eq!(store.next_number().unwrap(), 2);
    }

    #[test]
    fn secrets_are_listed_but_never_copied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(StateDir::new(dir.path()));
        let r = rendered("one\n", true);
        store.write(&info(1, &r), &r).unwrap();
        let blobs: Vec<_> = std::fs::read_dir(dir.path().join("store"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(blobs, [crate::render::manifest::sha256_hex(b"one\n")]);
        assert_eq!(store.load(1).unwrap().manifest.files.len(), 2);
        let err = store.rendered(1).unwrap_err().to_string();
        assert!(err.contains("holds a secret"), "{err}");
    }

    #[test]
    fn a_damaged_copy_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(StateDir::new(dir.path()));
        let r = rendered("one\n", false);
        store.write(&info(1, &r), &r).unwrap();
        let blob = dir
            .path()
            .join("store")
            .join(crate::render::manifest::sha256_hex(b"one\n"));
        std::fs::write(blob, "x").unwrap();
        let err = store.rendered(1).unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
    }

    #[test]
    fn a_partial_generation_counts_for_numbering_but_is_not_listed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(StateDir::new(dir.path()));
        std::fs::create_dir_all(dir.path().join("generations/4.partial")).unwrap();
        assert_eq!(store.numbers().unwrap(), Vec::<u64>::new());
        assert_eq!(store.next_number().unwrap(), 5);
        store.remove(4).unwrap();
        assert_eq!(store.next_number().unwrap(), 1);
    }

    #[test]
    fn a_file_shared_by_generations_is_stored_once_and_collected_when_unlisted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(StateDir::new(dir.path()));
        let one = rendered("one\n", false);
        let mut two = rendered("one\n", false);
        two.artifacts[0].path = "/etc/privai/b.conf".into();
        store.write(&info(1, &one), &one).unwrap();
        store.write(&info(2, &two), &two).unwrap();
        let blobs = || std::fs::read_dir(dir.path().join("store")).unwrap().count();
        assert_eq!(blobs(), 1);
        store.remove(1).unwrap();
        assert_eq!(
            store.collect_garbage().unwrap(),
            0,
            "generation 2 still lists it"
        );
        store.remove(2).unwrap();
        assert_eq!(store.collect_garbage().unwrap(), 1);
        assert_eq!(blobs(), 0);
    }

    #[test]
    fn a_generation_whose_run_has_not_made_it_current_is_not_committed() {
        use crate::state::journal::{Journal, Record};
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path());
        let store = Store::new(state.clone());
        let r = rendered("one\n", false);
        store.write(&info(1, &r), &r).unwrap();
        store.set_current(1).unwrap();
        store.write(&info(2, &r), &r).unwrap();
        let mut journal = Journal::create(&state.journal()).unwrap();
        let begin = Record::Begin {
            command: "privai apply".into(),
            from: Some(1),
            to: 2,
            started: "2026-11-25T14:00:00Z".into(),
            pid: None,
        };
        journal.append(&begin).unwrap();

        assert_eq!(store.uncommitted().unwrap(), Some(2));
        assert_eq!(store.committed().unwrap(), [1]);
        store.set_current(2).unwrap();
        assert_eq!(
            store.committed().unwrap(),
            [1, 2],
            "made current: committed"
        );
    }

    #[test]
    fn a_missing_generation_says_how_to_list_them() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::new(StateDir::new(dir.path())).load(7).unwrap_err();
        assert!(err.to_string().contains("privai generations"));
    }
}
