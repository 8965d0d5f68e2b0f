#!/usr/bin/env bash
# The test command of README.md: installs what the tests need on a fresh
# Debian/Ubuntu machine (apt packages, then the pinned tools of
# tests/tools/), then runs rustfmt, clippy and the whole test suite.
# `.ci/run` is this script. Run it from anywhere: `tests/run.sh`.
# Installing needs root (or sudo) the first time; later runs install nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

# Real validators the tests run:
# - nix-instantiate parses flake.nix and evaluates its outputs (tests/nix/);
# - systemd-analyze verifies the generated units and scores their exposure;
# - podman (runc, cgroupfs) runs the generated compose file against a
#   busybox-based stand-in image;
# - unshare runs the real OpenClaw gateway in private namespaces;
# - ip (iproute2) makes the test tailnet's hosts (network namespaces);
# - docker-registry and nginx serve the private model mirror;
# - PostgreSQL holds the homeserver's data in its PostgreSQL test;
# - Go, gcc and these headers build the real Headscale, Tailscale and
#   Ollama (tests/tools/install-*.sh).
need=()
command -v nix-instantiate >/dev/null 2>&1 || need+=(nix-bin)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v runc >/dev/null 2>&1 || need+=(runc)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
[ -f /usr/include/nlohmann/json.hpp ] || need+=(nlohmann-json3-dev)
[ -f /usr/include/stb/stb_image.h ] || need+=(libstb-dev)
command -v rsvg-convert >/dev/null 2>&1 || need+=(librsvg2-bin)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v python3 >/dev/null 2>&1 && python3 -c 'import venv' 2>/dev/null || need+=(python3-venv)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# The monitor's certificate test makes certificates; the real-Headscale
# rotation test moves time on in Headscale's database.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
# The fleet tests run the real OpenSSH (sshd on each host, ssh on the
# laptop) and sudo on a host whose deploy says `sudo = true`.
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v sudo >/dev/null 2>&1 || need+=(sudo)
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The pinned tools the tests run for real, one installer each (each is a
# no-op once its tool is installed).
installers=(
  tests/tools/install-openclaw.sh
  tests/tools/install-openclaw-matrix.sh
  tests/tools/install-headscale.sh
  tests/tools/install-tailscale.sh
  tests/tools/install-ollama.sh
  tests/tools/install-gguf.sh
  tests/tools/install-synapse.sh
)
for installer in "${installers[@]}"; do
  "$installer"
done

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --locked --all-targets -- -D warnings
# The release configuration, without the test hooks the tests build in.
cargo clippy --locked --lib --bins -- -D warnings

echo "== cargo test"
cargo test --locked --tests
