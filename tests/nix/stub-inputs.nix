# Stand-ins for the flake's inputs (nixpkgs and flake-utils), which cannot be
# fetched here: just the attributes flake.nix uses, so that evaluating its
# outputs with `nix-instantiate --eval --strict` fails on a misspelt or
# missing attribute. Derivations are attribute sets that record their
# arguments (tests/nix/eval-flake.nix checks some of them).
let
  derivation = name: attrs: attrs // {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  tool = name: derivation name { };
  pkgs = {
    lib = {
      importTOML = path: builtins.fromTOML (builtins.readFile path);
      cleanSource = src: src;
      licenses.mit = { spdxId = "MIT"; };
    };
    rustPlatform.buildRustPackage = args:
      derivation "${args.pname}-${args.version}" args;
    runCommand = name: env: script: derivation name (env // { inherit script; });
    mkShell = args: derivation "shell" args;
    cargo = tool "cargo";
    rustc = tool "rustc";
    clippy = tool "clippy";
    rustfmt = tool "rustfmt";
    rust-analyzer = tool "rust-analyzer";
    nickel = tool "nickel";
    nix = tool "nix";
  };
in
{
  nixpkgs.legacyPackages = {
    x86_64-linux = pkgs;
    aarch64-linux = pkgs;
    x86_64-darwin = pkgs;
    aarch64-darwin = pkgs;
  };
  # flake-utils' eachSystem: { OUTPUT.SYSTEM = (f SYSTEM).OUTPUT; }
  flake-utils.lib.eachSystem = systems: f:
    builtins.foldl'
      (acc: system:
        let outputs = f system; in
        builtins.foldl'
          (acc: name: acc // { ${name} = (acc.${name} or { }) // { ${system} = outputs.${name}; }; })
          acc
          (builtins.attrNames outputs))
      { }
      systems;
}
