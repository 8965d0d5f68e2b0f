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
