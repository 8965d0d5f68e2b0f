# Shared by tests/tools/install-*.sh: the versioned cache directory outside
# the clone where the real programs the tests run are installed.
#
#   PRIVAI_TOOLS   the cache root (default: $XDG_CACHE_HOME/privai-tools,
#                  else ~/.cache/privai-tools)
#
# Each tool goes in "$PRIVAI_TOOLS/NAME-VERSION"; a finished install leaves a
# ".installed" stamp there, so a warm machine reuses it and a half-finished
# one is redone.
tools_root() {
    printf '%s\n' "${PRIVAI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/privai-tools}"
}

# installed NAME-VERSION: true when that tool's install finished before.
installed() {
    [ -f "$(tools_root)/$1/.installed" ]
}

# finish TOOL NAME-VERSION: stamps the install as finished and points
# "$PRIVAI_TOOLS/TOOL" at it, the path the tests use (so the version lives in
# the install script alone).
finish() {
    touch "$(tools_root)/$2/.installed"
    ln -sfn "$2" "$(tools_root)/$1"
}

# Serialize concurrent installs of one tool on a lock file.
lock_tool() {
    mkdir -p "$(tools_root)"
    exec 9>"$(tools_root)/.$1.lock"
    command -v flock >/dev/null 2>&1 && flock 9
    return 0
}

# go_install_pinned DIR MODULE VERSION PKG...: builds each package PKG of
# MODULE@VERSION into DIR/bin. `go install PKG@VERSION` first; when the
# module proxy refuses the module's version list (which go install reads for
# deprecation notices), the same build from a throw-away main module that
# requires only MODULE@VERSION (the same versions by minimal version
# selection, since the module has no replace or exclude directives).
go_install_pinned() {
    dir=$1 module=$2 version=$3
    shift 3
    mkdir -p "$dir/bin"
    pkgs=""
    for p in "$@"; do pkgs="$pkgs $p@$version"; done
    # shellcheck disable=SC2086
    if GOBIN="$dir/bin" go install $pkgs 2>"$dir/go-install.err"; then
        return 0
    fi
    if ! grep -q 'loading deprecation' "$dir/go-install.err"; then
        cat "$dir/go-install.err" >&2
        return 1
    fi
    echo "go install could not list $module's versions; building from a wrapper module"
    wrap="$dir/wrapper"
    rm -rf "$wrap"
    mkdir -p "$wrap"
    (
        cd "$wrap"
        go mod init privai-tools-wrapper >/dev/null 2>&1
        for p in "$@"; do go get "$p@$version"; done
        for p in "$@"; do go build -trimpath -o "$dir/bin/" "$p"; done
    )
}
