#!/bin/sh
# Installs the real Headscale (pinned) from the Go module proxy into the
# tools cache (see lib.sh): $PRIVAI_TOOLS/headscale-VERSION/bin/headscale.
set -eu
VERSION=v0.29.2
. "$(dirname -- "$0")/lib.sh"
name=headscale-$VERSION
lock_tool "$name"
dir=$(tools_root)/$name
if installed "$name"; then finish headscale "$name"; echo "headscale $VERSION already installed in $dir"; exit 0; fi
mkdir -p "$dir/bin"
CGO_ENABLED=0 go_install_pinned "$dir" github.com/juanfont/headscale "$VERSION" github.com/juanfont/headscale/cmd/headscale
"$dir/bin/headscale" version
finish headscale "$name"
echo "headscale $VERSION installed in $dir"
