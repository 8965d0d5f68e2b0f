#!/bin/sh
# Installs PyPI's gguf (pinned) into a venv in the tools cache (see lib.sh),
# for tests/tools/tiny-gguf.py: $PRIVAI_TOOLS/gguf/bin/python.
set -eu
VERSION=0.19.0
. "$(dirname -- "$0")/lib.sh"
name=gguf-$VERSION
lock_tool "$name"
dir=$(tools_root)/$name
if installed "$name"; then finish gguf "$name"; echo "gguf $VERSION already installed in $dir"; exit 0; fi
rm -rf "$dir"
python3 -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check "gguf==$VERSION"
finish gguf "$name"
echo "gguf $VERSION installed in $dir"
