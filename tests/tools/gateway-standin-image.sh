#!/bin/sh
# Builds the gateway stand-in images for the container tests, idempotently,
# from static busybox (busybox-static) and the Node binary that
# tests/tools/install-openclaw.sh installs:
#
#   localhost/privai-gateway-standin:ok       busybox httpd on :18789 answers
#                                             GET /healthz with 200 and
#                                             {"ok":true,"status":"live"}
#   localhost/privai-gateway-standin:failing  answers every request on :18789
#                                             with 500
#
# Both hold Node at /usr/local/bin/node, as OpenClaw's image does: the
# compose file's relay and health checks run `node -e ...`. Both run as
# uid 1000 under a read-only root with tmpfs on /tmp and the node user's
# state directories, as the compose file runs the gateway.
#
#   CONTAINERS_CONF=... tests/tools/gateway-standin-image.sh [PODMAN]
#
# The images carry the label net.privai.standin=<sha256 of this script,
# busybox and node>; when both exist with the current label nothing is
# rebuilt. Concurrent runs serialize on a lock file.
set -eu

podman=${1:-podman}
IMAGE=localhost/privai-gateway-standin
PORT=18789

crate=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}
. "$crate/tests/tools/lib.sh"
node=${NODE:-$(tools_root)/openclaw/bin/node}
[ -x "$busybox" ] || { echo "$busybox is missing: apt-get install -y busybox-static" >&2; exit 1; }
[ -x "$node" ] || { echo "$node is missing: run tests/tools/install-openclaw.sh" >&2; exit 1; }
node=$(readlink -f "$node")

version=$(cat "$0" "$busybox" "$node" | sha256sum | cut -c1-16)

current() {
    [ "$("$podman" image inspect --format '{{index .Labels "net.privai.standin"}}' "$IMAGE:$1" 2>/dev/null)" = "$version" ]
}

lock=${TMPDIR:-/tmp}/privai-gateway-standin.lock
exec 9>"$lock"
command -v flock >/dev/null 2>&1 && flock 9

if current ok && current failing; then
    echo "$IMAGE:ok and :failing are current ($version)"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/bin" "$root/www" "$root/tmp" "$root/etc" "$root/run" "$root/usr/local/bin" \
    "$root/home/node/.openclaw" "$root/home/node/.config/openclaw"
chmod 1777 "$root/tmp"
# The node user's home (the tmpfs mounts over its state directories are
# chowned by podman's `U`; the directories beneath them are the node user's
# as in OpenClaw's image).
chown -R 1000:1000 "$root/home/node" 2>/dev/null || true

cp "$busybox" "$root/bin/busybox"
for applet in sh cat echo grep httpd ls nc printf sleep timeout touch wget; do
    ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"

# ok: what OpenClaw's /healthz answers.
printf '{"ok":true,"status":"live"}\n' > "$root/www/healthz"

# failing: a server that answers every request with 500.
cat > "$root/bin/answer-500" <<'SH'
#!/bin/sh
# Reads one request (up to its blank line) and answers 500.
while IFS= read -r line; do
    case "$line" in "" | "$(printf '\r')") break ;; esac
done
body='{"ok":false,"status":"failing"}'
printf 'HTTP/1.0 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' "${#body}" "$body"
SH
cat > "$root/bin/failing-gateway" <<SH
#!/bin/sh
exec nc -ll -p $PORT -e /bin/answer-500
SH
chmod 755 "$root/bin/answer-500" "$root/bin/failing-gateway"

# The real Node and the shared libraries it loads.
cp "$node" "$root/usr/local/bin/node"
ldd "$node" | while read -r first second third _; do
    case "$second" in
        "=>") lib=$third ;;
        *) lib=$first ;;
    esac
    case "$lib" in
        /*)
            mkdir -p "$root$(dirname "$lib")"
            cp -L "$lib" "$root$lib"
            ;;
    esac
done

tar -C "$root" -cf "$work/rootfs.tar" .
"$podman" import \
    --change "ENV PATH=/usr/local/bin:/bin" \
    --change "LABEL net.privai.standin=$version" \
    --change "CMD [\"/bin/busybox\", \"httpd\", \"-f\", \"-p\", \"$PORT\", \"-h\", \"/www\"]" \
    "$work/rootfs.tar" "$IMAGE:ok" >/dev/null
"$podman" import \
    --change "ENV PATH=/usr/local/bin:/bin" \
    --change "LABEL net.privai.standin=$version" \
    --change "CMD [\"/bin/failing-gateway\"]" \
    "$work/rootfs.tar" "$IMAGE:failing" >/dev/null
echo "built $IMAGE:ok and :failing ($version)"
