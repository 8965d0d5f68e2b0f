//! Records the commit privai is built from, for `privai --version`:
//! `git rev-parse --short HEAD`, or "unknown" outside a git checkout (a
//! crate download, a Nix build of a cleaned source tree).

use std::process::Command;

fn main() {
    // Only privai's own checkout: a crate unpacked inside some other git
    // repository must not report that repository's commit.
    let checkout = std::path::Path::new(".git").exists();
    let git = |args: &[&str]| {
        if !checkout {
            return None;
        }
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=PRIVAI_COMMIT={commit}");
    // Build again when HEAD moves: HEAD itself (a branch switch) and the
    // branch it points at (a commit), wherever the worktree keeps them.
    for path in ["HEAD", "packed-refs"] {
        if let Some(file) = git(&["rev-parse", "--git-path", path])
            && std::path::Path::new(&file).exists()
        {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(file) = git(&["rev-parse", "--git-path", &branch])
        && std::path::Path::new(&file).exists()
    {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
