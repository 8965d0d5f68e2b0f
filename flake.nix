{
  description = "privai: deploy a fully private AI system (Headscale, Tailscale, Ollama, OpenClaw) from one declarative spec";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    flake-utils.url = "github:numtide/flake-utils";
  };

  outputs = { self, nixpkgs, flake-utils }:
    flake-utils.lib.eachSystem [ "aarch64-darwin" "x86_64-darwin" "x86_64-linux" "aarch64-linux" ] (system:
      let
        pkgs = nixpkgs.legacyPackages.${system};
        manifest = (pkgs.lib.importTOML ./Cargo.toml).package;
        privai = pkgs.rustPlatform.buildRustPackage {
          pname = manifest.name;
          version = manifest.version;
          src = pkgs.lib.cleanSource ./.;
          # Every dependency is pinned by Cargo.lock; no hashes to maintain here.
          cargoLock.lockFile = ./Cargo.lock;
          # The test suite needs what Nix's sandbox does not have: podman,
          # systemd-analyze, nix-instantiate, the pinned OpenClaw and the
          # network to install it. It runs with `tests/run.sh` instead, and
          # `nix flake check` runs `privai check` on the examples
          # (checks.examples).
          doCheck = false;
          meta = {
            description = manifest.description;
            license = pkgs.lib.licenses.mit;
            mainProgram = "privai";
          };
        };
      in
      {
        packages.default = privai;
        packages.privai = privai;

        apps.default = {
          type = "app";
          program = "${privai}/bin/privai";
        };

        # `nix flake check` builds privai (without its test suite, see
        # doCheck above) and checks every example with it.
        checks.default = privai;
        checks.examples = pkgs.runCommand "privai-examples" { } ''
          for spec in ${./examples}/*; do
            case "$spec" in
              # The seed taken literally must fail.
              *seed-as-written.ncl) ! ${privai}/bin/privai check "$spec" ;;
              *) ${privai}/bin/privai check "$spec" ;;
            esac
          done
          touch $out
        '';

        devShells.default = pkgs.mkShell {
          inputsFrom = [ privai ];
          packages = [ pkgs.cargo pkgs.rustc pkgs.clippy pkgs.rustfmt pkgs.rust-analyzer pkgs.nickel pkgs.nix ];
        };
      });
}
