//! `privai build`: render every artifact into a directory tree that mirrors
//! the install paths, write `manifest.json`, print the generation hash.

use super::Exit;
use crate::render::manifest::Manifest;
use crate::render::{Artifact, render};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `privai build`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec (`.ncl`, `.toml` or `.json`). Default: `privai.ncl` or `privai.toml` here.
    pub spec: Option<PathBuf>,
    /// Directory to write the tree into; replaced if it holds an earlier build.
    #[arg(long, default_value = "privai-build")]
    pub out: PathBuf,
}

/// Runs `privai build`.
pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let spec = match super::checked_spec(args.spec.as_deref(), "nothing built")? {
        Ok(spec) => spec,
        Err(exit) => return Ok(exit),
    };
    let rendered = render(&spec);

    let manifest = Manifest::of(&rendered);
    // Every path is placed before anything is touched: one that could land
    // outside `--out` stops the build with `--out` as it was.
    let placed = place(&args.out, &rendered.artifacts)?;
    prepare_out_dir(&args.out)?;
    for (path, artifact) in &placed {
        write_artifact(path, artifact)?;
    }
    crate::state::atomic::write(&args.out.join("manifest.json"), &manifest.to_bytes(), 0o644)
        .with_context(|| format!("writing `{}`", args.out.join("manifest.json").display()))?;
    let hosts = {
        let mut hosts: Vec<&str> = rendered.artifacts.iter().map(|a| a.host.as_str()).collect();
        hosts.dedup();
        hosts.len()
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "built {} files for {} host{} and {} model{} to pull into `{}`",
        rendered.artifacts.len(),
        hosts,
        if hosts == 1 { "" } else { "s" },
        rendered.models.len(),
        if rendered.models.len() == 1 { "" } else { "s" },
        args.out.display()
    )?;
    writeln!(out, "generation {}", manifest.hash())?;
    Ok(Exit::Ok)
}

/// Prints why the spec cannot be used (`nothing`: what was therefore not
/// done, e.g. "nothing built"); returns [`Exit::Error`].
pub(super) fn refuse(
    path: &Path,
    outcome: &crate::check::Outcome,
    nothing: &str,
) -> anyhow::Result<Exit> {
    let mut err = codespan_reporting::term::termcolor::StandardStream::stderr(
        codespan_reporting::term::termcolor::ColorChoice::Never,
    );
    crate::output::diagnostics::write_human(&mut err, &outcome.sources, &outcome.diagnostics)?;
    writeln!(
        err,
        "{}\n{nothing}: fix the errors above (`privai check {}` shows them again)",
        crate::output::diagnostics::summary(&outcome.spec, &outcome.diagnostics),
        path.display()
    )?;
    Ok(Exit::Error)
}

/// Empties `out` if it holds an earlier build; refuses to touch a directory
/// with anything else in it.
fn prepare_out_dir(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        let earlier_build = out.join("manifest.json").is_file();
        let empty = std::fs::read_dir(out)?.next().is_none();
        if !earlier_build && !empty {
            anyhow::bail!(
                "`{}` exists and is not an earlier privai build (no manifest.json); choose another `--out` or remove it",
                out.display()
            );
        }
        std::fs::remove_dir_all(out)
            .with_context(|| format!("removing the earlier build in `{}`", out.display()))?;
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating `{}`", out.display()))?;
    Ok(())
}

/// Where each artifact goes under `out`; refuses, before anything is
/// written, a path that could land outside `out`.
fn place<'a>(
    out: &Path,
    artifacts: &'a [Artifact],
) -> anyhow::Result<Vec<(PathBuf, &'a Artifact)>> {
    artifacts
        .iter()
        .map(|artifact| -> anyhow::Result<_> { Ok((out.join(artifact.tree_path()?), artifact)) })
        .collect()
}

fn write_artifact(path: &Path, artifact: &Artifact) -> anyhow::Result<()> {
    crate::state::atomic::write(path, &artifact.contents, artifact.mode)
        .with_context(|| format!("writing `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Owner;

    fn artifact(host: &str, path: &str) -> Artifact {
        Artifact {
            host: host.into(),
            path: path.into(),
            contents: b"x\n".to_vec(),
            mode: 0o644,
            owner: Owner::Root,
            secret: false,
            restarts: Vec::new(),
            reloads: Vec::new(),
        }
    }

    #[test]
    fn every_artifact_is_placed_inside_the_out_directory() {
        let artifacts = [artifact("box", "/etc/a"), artifact("box", "~/b")];
        let placed = place(Path::new("/tmp/out"), &artifacts).unwrap();
        let paths: Vec<_> = placed.iter().map(|(p, _)| p.as_path()).collect();
        assert_eq!(
            paths,
            [
                Path::new("/tmp/out/box/etc/a"),
                Path::new("/tmp/out/box/HOME/b")
            ]
        );
    }

    #[test]
    fn an_artifact_that_would_land_outside_the_out_directory_stops_the_build() {
        for (host, path) in [("box", "/../../../x"), ("box", "~/../../x"), ("..", "/x")] {
            let refused = place(
                Path::new("/tmp/out"),
                &[artifact("box", "/etc/a"), artifact(host, path)],
            )
            .unwrap_err();
            assert!(
                refused.to_string().contains("refusing the install path"),
                "{refused}"
            );
        }
    }
}
