#!/usr/bin/env bash
# DORA metrics benchmark (see bench/src/dora.rs): pave-dora's index and reports on the large
# generated history (1M deployments, 5M changes, 50k incidents, 2,000 services), and DuckDB
# computing the same five metrics with SQL from the same facts (CSV), figures compared team
# by team (the run fails on any mismatch).
#   bench/dora.sh                                       # full size
#   bench/dora.sh --deployments 100000 --changes 500000 --incidents 5000 --services 200
#   bench/dora.sh --runs 3 --keep /tmp/dora-csv         # keep the CSV files
# DuckDB comes from Python: used as is when `python3 -c 'import duckdb'` works, else installed
# once into a venv (PAVE_BENCH_VENV, default /tmp/pave-bench-duckdb). SKIP_DUCKDB=1 times
# pave alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave-bench --bin dora-bench --quiet
args=()
if [ "${SKIP_DUCKDB:-0}" != 1 ]; then
  if python3 -c 'import duckdb' 2>/dev/null; then
    python=python3
  else
    venv=${PAVE_BENCH_VENV:-/tmp/pave-bench-duckdb}
    if ! "$venv/bin/python" -c 'import duckdb' 2>/dev/null; then
      echo "installing DuckDB into $venv (once)" >&2
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet duckdb
    fi
    python=$venv/bin/python
  fi
  args+=(--python "$python")
fi
exec "${CARGO_TARGET_DIR:-target}/release/dora-bench" "${args[@]}" "$@"
