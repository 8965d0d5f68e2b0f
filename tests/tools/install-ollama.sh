#!/bin/sh
# Installs the real Ollama (pinned, CPU only, its engine compiled with cgo)
# from the Go module proxy into the tools cache (see lib.sh):
# $PRIVAI_TOOLS/ollama-VERSION/bin/ollama.
#
# The module zip of v0.24.0 lacks three vendored headers (golang.org/x/mod/zip
# drops nested vendor/ directories): nlohmann/json.hpp and stb/stb_image.h come
# from Debian (nlohmann-json3-dev, libstb-dev), miniaudio/miniaudio.h from the
# source distribution of PyPI's miniaudio.
set -eu
VERSION=v0.24.0
MINIAUDIO_SDIST=1.61
. "$(dirname -- "$0")/lib.sh"
name=ollama-$VERSION
lock_tool "$name"
dir=$(tools_root)/$name
if installed "$name"; then finish ollama "$name"; echo "ollama $VERSION already installed in $dir"; exit 0; fi
for h in /usr/include/nlohmann/json.hpp /usr/include/stb/stb_image.h; do
    [ -f "$h" ] || { echo "$h is missing: apt-get install -y nlohmann-json3-dev libstb-dev" >&2; exit 1; }
done
mkdir -p "$dir/bin" "$dir/include/miniaudio"
if [ ! -f "$dir/include/miniaudio/miniaudio.h" ]; then
    work=$(mktemp -d)
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
        --dest "$work" "miniaudio==$MINIAUDIO_SDIST"
    tar -xzf "$work/miniaudio-$MINIAUDIO_SDIST.tar.gz" -C "$work"
    cp "$work/miniaudio-$MINIAUDIO_SDIST/miniaudio/miniaudio.h" "$dir/include/miniaudio/miniaudio.h"
    rm -rf "$work"
fi
CGO_ENABLED=1 CGO_CPPFLAGS="-I$dir/include -I/usr/include/stb" \
    go_install_pinned "$dir" github.com/ollama/ollama "$VERSION" github.com/ollama/ollama
"$dir/bin/ollama" --version 2>&1 | tail -1 || true
finish ollama "$name"
echo "ollama $VERSION installed in $dir"
