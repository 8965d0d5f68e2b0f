#!/bin/sh
# Installs Synapse, the reference Matrix homeserver (PyPI's matrix-synapse,
# pinned), into a venv in the tools cache (see lib.sh), for the homeserver
# tests (tests/it/homeserver.rs): $PRIVAI_TOOLS/synapse/bin/python -m
# synapse.app.homeserver. The wheel is abi3 (CPython >= 3.10) with its Rust
# parts prebuilt, so no compiler is needed. With psycopg2 (the prebuilt
# psycopg2-binary wheel, which provides the `psycopg2` module Synapse's
# `postgres` extra asks for) for the PostgreSQL database option.
set -eu
VERSION=1.163.2
PSYCOPG2_VERSION=2.9.13
. "$(dirname -- "$0")/lib.sh"
name=synapse-$VERSION-psycopg2-$PSYCOPG2_VERSION
lock_tool "$name"
dir=$(tools_root)/$name
if installed "$name"; then finish synapse "$name"; echo "synapse $VERSION already installed in $dir"; exit 0; fi
rm -rf "$dir"
python3 -m venv "$dir"
"$dir/bin/pip" install --quiet --disable-pip-version-check "matrix-synapse==$VERSION" \
    "psycopg2-binary==$PSYCOPG2_VERSION"
"$dir/bin/python" -c 'import psycopg2, synapse, sys; sys.exit(synapse.__version__ != sys.argv[1])' "$VERSION"
finish synapse "$name"
echo "synapse $VERSION installed in $dir"
