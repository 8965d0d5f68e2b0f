//! The Nix flake parses (`nix-instantiate --parse`, from Debian's nix-bin).

use std::path::Path;
use std::process::Command;

#[test]
fn flake_nix_parses() {
    let flake = Path::new(env!("CARGO_MANIFEST_DIR")).join("flake.nix");
    let output = Command::new("nix-instantiate")
        .arg("--parse")
        .arg(&flake)
        .output()
        .expect(
            "nix-instantiate is needed for this test: `apt-get install nix-bin` (.ci/run does)",
        );
    assert!(
        output.status.success(),
        "flake.nix does not parse:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed = String::from_utf8_lossy(&output.stdout);
    for output_name in ["packages", "apps", "checks", "devShells"] {
        assert!(
            parsed.contains(output_name),
            "flake.nix has no `{output_name}`"
        );
    }
}

/// Evaluates every output of `flake` (a flake.nix beside a Cargo.toml and an
/// `examples/`) against the stub nixpkgs and flake-utils of `tests/nix/`.
fn evaluate_flake(flake: &Path) -> std::process::Output {
    Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "--readonly-mode"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nix/eval-flake.nix"))
        .arg("--arg")
        .arg("flake")
        .arg(flake)
        .output()
        .expect(
            "nix-instantiate is needed for this test: `apt-get install nix-bin` (tests/run.sh does)",
        )
}

#[test]
fn flake_outputs_evaluate_for_every_system_and_the_package_skips_the_test_suite() {
    let output = evaluate_flake(&Path::new(env!("CARGO_MANIFEST_DIR")).join("flake.nix"));
    assert!(
        output.status.success(),
        "the flake's outputs do not evaluate:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let systems: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let systems = systems.as_object().expect("one entry per system");
    let mut names: Vec<&str> = systems.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "aarch64-darwin",
            "aarch64-linux",
            "x86_64-darwin",
            "x86_64-linux"
        ]
    );
    for (system, outputs) in systems {
        assert_eq!(outputs["package"], "privai-0.1.0", "{system}");
        assert_eq!(outputs["same"], true, "packages.privai is packages.default");
        // The test suite needs podman, systemd-analyze, OpenClaw and the
        // network, none of which Nix's sandbox has: tests/run.sh runs it.
        assert_eq!(outputs["doCheck"], false, "{system}");
        assert_eq!(outputs["license"], "MIT");
        assert_eq!(outputs["mainProgram"], "privai");
        assert!(
            outputs["app"].as_str().unwrap().ends_with("/bin/privai"),
            "{outputs}"
        );
        assert_eq!(
            outputs["checks"],
            serde_json::json!(["default", "examples"])
        );
        let examples = outputs["examples"].as_str().unwrap();
        assert!(
            examples.contains("/bin/privai check \"$spec\""),
            "checks.examples runs `privai check` on each example:\n{examples}"
        );
    }
}

#[test]
fn a_misspelt_attribute_in_the_flake_fails_its_evaluation() {
    let flake =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("flake.nix")).unwrap();
    assert!(flake.contains("pkgs.lib.licenses.mit;"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flake.nix"),
        flake.replace("pkgs.lib.licenses.mit;", "pkgs.lib.licenses.mitt;"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
        dir.path().join("Cargo.toml"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("examples")).unwrap();
    let output = evaluate_flake(&dir.path().join("flake.nix"));
    assert!(!output.status.success(), "a broken attribute evaluated");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mitt"), "{stderr}");
}
