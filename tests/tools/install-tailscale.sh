#!/bin/sh
# Installs the real Tailscale client and daemon (pinned) from the Go module
# proxy into the tools cache (see lib.sh):
# $PRIVAI_TOOLS/tailscale-VERSION/bin/{tailscale,tailscaled}.
set -eu
VERSION=v1.102.5
. "$(dirname -- "$0")/lib.sh"
name=tailscale-$VERSION
lock_tool "$name"
dir=$(tools_root)/$name
if installed "$name"; then finish tailscale "$name"; echo "tailscale $VERSION already installed in $dir"; exit 0; fi
mkdir -p "$dir/bin"
go_install_pinned "$dir" tailscale.com "$VERSION" tailscale.com/cmd/tailscaled tailscale.com/cmd/tailscale
"$dir/bin/tailscale" version
finish tailscale "$name"
echo "tailscale $VERSION installed in $dir"
