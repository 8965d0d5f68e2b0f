# Evaluates every output of flake.nix against tests/nix/stub-inputs.nix and
# returns a summary of them; run with
#   nix-instantiate --eval --strict --json --readonly-mode \
#     tests/nix/eval-flake.nix --arg flake ./flake.nix
# (tests/it/flake.rs does, and evaluates broken copies of flake.nix too).
{ flake ? ../../flake.nix }:
let
  flake' = import flake;
  stubs = import ./stub-inputs.nix;
  outputs = flake'.outputs {
    self = outputs;
    inherit (stubs) nixpkgs flake-utils;
  };
  forSystem = system: {
    package = outputs.packages.${system}.default.name;
    same = outputs.packages.${system}.privai.name == outputs.packages.${system}.default.name;
    doCheck = outputs.packages.${system}.default.doCheck or true;
    license = outputs.packages.${system}.default.meta.license.spdxId;
    mainProgram = outputs.packages.${system}.default.meta.mainProgram;
    app = outputs.apps.${system}.default.program;
    checks = builtins.attrNames outputs.checks.${system};
    examples = outputs.checks.${system}.examples.script;
    shell = builtins.length outputs.devShells.${system}.default.packages;
  };
in
builtins.listToAttrs (map (system: { name = system; value = forSystem system; })
  (builtins.attrNames outputs.packages))
