#!/bin/sh
# Builds a real OpenClaw gateway image locally (no image registry is
# reachable from the tests), idempotently:
#
#   localhost/privai-openclaw:2026.9.6
#
# from what tests/tools/install-openclaw.sh installed: the pinned `openclaw`
# npm package with its dependency tree, and Node 24 (the PyPI wheel's
# binary, with the shared libraries it and the packages' native addons
# load), and OpenClaw's Matrix channel plugin `@openclaw/matrix` of the same
# version, installed as OpenClaw installs plugins: `openclaw plugins install
# @openclaw/matrix@VERSION`, from the npm cache tests/tools/
# install-openclaw-matrix.sh filled in the tools cache (offline), run at build time with the
# paths of the image (in a private mount namespace). The container has no
# egress, so nothing can be installed at run time. Its layout is the
# official image's, as privai's compose file expects it (see
# /work/shared/reference/openclaw.md §3.1):
#
#   /usr/local/bin/node                 Node 24 (the compose file's health
#                                       checks and the relay run `node -e`)
#   /usr/local/lib/node_modules/        the npm tree: openclaw and its deps
#   /usr/local/lib/openclaw-seed/       the state `openclaw plugins install`
#                                       left: npm/projects/openclaw-matrix-*
#                                       (the plugin, its bundled deps) and
#                                       state/openclaw.sqlite (its install
#                                       record: npm, official, that path)
#   /usr/local/lib/privai/gateway-start.mjs
#                                       the command: copies the seed database
#                                       into the (tmpfs) state directory, then
#                                       runs `openclaw gateway` (see it)
#   /app -> /usr/local/lib/node_modules/openclaw
#   /usr/local/bin/openclaw -> /app/openclaw.mjs
#   /home/node/.openclaw, /home/node/.openclaw/workspace,
#   /home/node/.config/openclaw         0700, owned by node (uid 1000)
#   WORKDIR /app, USER node, NODE_ENV=production,
#   CMD ["node", "/usr/local/lib/privai/gateway-start.mjs"]
#
# No shell, no package manager: only Node and OpenClaw.
#
#   CONTAINERS_CONF=... tests/tools/gateway-image.sh [PODMAN]
#
# The image carries the label net.privai.inputs=<sha256 of this script, the
# start script, the Node binary and the npm lock files of the two installs>;
# when it exists with the current label nothing is rebuilt. Prints the image's name on its last line.
# Concurrent runs serialize on a lock file.
set -eu

podman=${1:-podman}
OPENCLAW_VERSION=2026.9.6
IMAGE=localhost/privai-openclaw:$OPENCLAW_VERSION

crate=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
. "$crate/tests/tools/lib.sh"
install=$(tools_root)/openclaw
node=$install/bin/node
[ -x "$node" ] || { echo "$node is missing: run tests/tools/install-openclaw.sh" >&2; exit 1; }
install=$(readlink -f "$install")
node=$(readlink -f "$node")
lockfile=$install/package-lock.json
[ -f "$lockfile" ] || { echo "$lockfile is missing: run tests/tools/install-openclaw.sh" >&2; exit 1; }
grep -q "\"version\": \"$OPENCLAW_VERSION\"" "$install/node_modules/openclaw/package.json" \
    || { echo "$install does not hold openclaw $OPENCLAW_VERSION: run tests/tools/install-openclaw.sh" >&2; exit 1; }
matrix=$(tools_root)/openclaw-matrix
[ -f "$matrix/package-lock.json" ] || { echo "$matrix is missing: run tests/tools/install-openclaw-matrix.sh" >&2; exit 1; }
matrix=$(readlink -f "$matrix")
grep -q "\"version\": \"$OPENCLAW_VERSION\"" "$matrix/node_modules/@openclaw/matrix/package.json" \
    || { echo "$matrix does not hold @openclaw/matrix $OPENCLAW_VERSION: run tests/tools/install-openclaw-matrix.sh" >&2; exit 1; }

start=$crate/tests/tools/gateway-start.mjs
inputs=$(cat "$0" "$start" "$node" "$lockfile" "$matrix/package-lock.json" | sha256sum | cut -c1-16)

current() {
    [ "$("$podman" image inspect --format '{{index .Labels "net.privai.inputs"}}' "$IMAGE" 2>/dev/null)" = "$inputs" ]
}

lock=${TMPDIR:-/tmp}/privai-openclaw-image.lock
exec 9>"$lock"
command -v flock >/dev/null 2>&1 && flock 9

if current; then
    echo "$IMAGE is current ($inputs)"
    echo "$IMAGE"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/etc" "$root/tmp" "$root/run" "$root/usr/local/bin" "$root/usr/local/lib" \
    "$root/home/node/.openclaw/workspace" "$root/home/node/.config/openclaw"
chmod 1777 "$root/tmp"
chmod 0700 "$root/home/node/.openclaw" "$root/home/node/.openclaw/workspace" \
    "$root/home/node/.config/openclaw"
chown -R 1000:1000 "$root/home/node"
printf 'root:x:0:0::/root:/sbin/nologin\nnode:x:1000:1000::/home/node:/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"

cp "$node" "$root/usr/local/bin/node"
ln -s /usr/local/lib/node_modules/openclaw "$root/app"
ln -s /app/openclaw.mjs "$root/usr/local/bin/openclaw"

# The shared libraries Node and the Linux x64 native addons load (those
# the host lacks are left out: the addon was never loadable there either).
copy_libs() {
    ldd "$1" 2>/dev/null | while read -r first second third _; do
        case "$second" in
            "=>") lib=$third ;;
            *) lib=$first ;;
        esac
        case "$lib" in
            /*)
                [ -e "$root$lib" ] && continue
                mkdir -p "$root$(dirname "$lib")"
                cp -L "$lib" "$root$lib"
                ;;
        esac
    done
}
copy_libs "$node"
find "$install/node_modules" -name '*.node' -path '*linux*x64*' ! -path '*musl*' | while read -r addon; do
    copy_libs "$addon"
done

# The Matrix plugin, installed by the real `openclaw plugins install` with
# the image's paths: in a private mount namespace, /usr/local/lib holds
# OpenClaw's npm tree (so the plugin's peer link to `openclaw` is the
# image's) and the seed state directory; npm (which OpenClaw runs from
# beside Node) installs offline from the npm cache.
seed=$work/seed
mkdir -p "$seed" "$work/home"
echo '{}' > "$work/seed-config.json"
wheel=$(dirname "$(dirname "$node")")
printf '#!/bin/sh\nexec "%s" "%s/lib/node_modules/npm/bin/npm-cli.js" "$@"\n' "$node" "$wheel" > "$work/npm"
chmod 755 "$work/npm"
npm_cache=$(tools_root)/openclaw-matrix/npm-cache
[ -d "$npm_cache" ] || { echo "$npm_cache is missing: run tests/tools/install-openclaw-matrix.sh" >&2; exit 1; }
unshare -m sh -eu -c '
    mount -t tmpfs tmpfs /usr/local/lib
    mkdir /usr/local/lib/node_modules /usr/local/lib/openclaw-seed
    mount --bind "$1/node_modules" /usr/local/lib/node_modules
    mount --bind "$2" /usr/local/lib/openclaw-seed
    mount --bind "$3" "$(dirname "$4")/npm"
    env -i PATH=/usr/bin:/bin HOME="$5/home" OPENCLAW_STATE_DIR=/usr/local/lib/openclaw-seed \
        OPENCLAW_CONFIG_PATH="$5/seed-config.json" npm_config_offline=true npm_config_cache="$6" \
        "$4" /usr/local/lib/node_modules/openclaw/openclaw.mjs plugins install "@openclaw/matrix@$7"
' sh "$install" "$seed" "$work/npm" "$node" "$work" "$npm_cache" "$OPENCLAW_VERSION" \
    || { echo "openclaw plugins install @openclaw/matrix@$OPENCLAW_VERSION failed (offline): run tests/tools/install-openclaw-matrix.sh, which fills the npm cache" >&2; exit 1; }
ls "$seed"/npm/projects/openclaw-matrix-*/node_modules/@openclaw/matrix/package.json >/dev/null
[ -f "$seed/state/openclaw.sqlite" ]
# Only the plugin and its record: no journal key, no scratch files.
rm -rf "$seed/tmp" "$seed/config-journal-fingerprint.key" "$seed"/state/openclaw.sqlite-*
# OpenClaw made it 0700/0600 for root; the gateway (uid 1000) reads it.
chmod -R a+rX "$seed"
mkdir -p "$root/usr/local/lib/privai"
cp "$start" "$root/usr/local/lib/privai/gateway-start.mjs"

# The root file system, then the npm tree appended under
# /usr/local/lib/node_modules and the seed under /usr/local/lib/openclaw-seed
# (streamed, not copied), owned by root.
tar -C "$root" -cf "$work/rootfs.tar" .
tar -C "$install" -rf "$work/rootfs.tar" --owner=0 --group=0 \
    --transform 's,^node_modules,usr/local/lib/node_modules,' node_modules
tar -C "$work" -rf "$work/rootfs.tar" --owner=0 --group=0 \
    --transform 's,^seed,usr/local/lib/openclaw-seed,' seed
old=$("$podman" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
"$podman" import --quiet \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
    --change "ENV NODE_ENV=production" \
    --change "ENV HOME=/home/node" \
    --change "WORKDIR /app" \
    --change "USER node" \
    --change "LABEL net.privai.inputs=$inputs" \
    --change "LABEL org.opencontainers.image.version=$OPENCLAW_VERSION" \
    --change 'CMD ["node", "/usr/local/lib/privai/gateway-start.mjs"]' \
    "$work/rootfs.tar" "$IMAGE" >/dev/null
# The image this one replaces, unless a container still uses it.
[ -n "$old" ] && "$podman" rmi "$old" >/dev/null 2>&1 || true
echo "built $IMAGE ($inputs)"
echo "$IMAGE"
