#!/usr/bin/env bash
# Search (issue 16): 10,000 entities and 5,000 docs pages indexed by pave-search, search and
# type-ahead percentiles, and Lunr (Backstage's default search engine) on the same input.
#   bench/search.sh                      # pave and Lunr
#   bench/search.sh --queries 5000
# Lunr is installed once with npm (pinned, PAVE_BENCH_LUNR, default ~/.cache/pave-bench/lunr);
# SKIP_LUNR=1 runs pave alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave-bench --bin search-bench --quiet
dir=${PAVE_BENCH_LUNR:-$HOME/.cache/pave-bench/lunr}
args=()
if [ "${SKIP_LUNR:-0}" != 1 ]; then
  if [ ! -f "$dir/node_modules/lunr/package.json" ]; then
    echo "installing lunr 2.3.9 into $dir (once)" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error lunr@2.3.9
  fi
  args+=(--lunr "$dir")
fi
exec "${CARGO_TARGET_DIR:-target}/release/search-bench" "${args[@]}" "$@"
