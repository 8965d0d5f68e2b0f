#!/usr/bin/env bash
# Fuzzes privai's spec loaders (Nickel, TOML, JSON) with proptest for a few
# minutes: mutated real specs and hostile fragments must give diagnostics,
# never a panic, crash or hang. Not run in CI.
#
#   tests/fuzz/run.sh [CASES]     # default 3000 cases
set -euo pipefail
cd "$(dirname "$0")/../.."
cases="${1:-3000}"
start=$(date +%s)
PROPTEST_CASES="$cases" cargo test --test it fuzz_loaders -- --ignored --nocapture
echo "fuzz: $cases cases in $(( $(date +%s) - start ))s, no crash"
