#!/usr/bin/env bash
# Golden-path benchmark (see bench/src/golden.rs): `pave new api-service` vs `copier copy` of an
# equivalent copier template, `pave update` across 100 edited repositories, `pave render` of
# 100 workloads.
#   bench/golden.sh                       # 20 runs of new/copy, 100 repos, 100 workloads
#   bench/golden.sh --runs 50 --repos 200
# copier is installed once into a venv (PAVE_BENCH_VENV, default ~/.cache/pave-bench/copier);
# SKIP_COPIER=1 runs pave alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
venv=${PAVE_BENCH_VENV:-$HOME/.cache/pave-bench/copier}
args=()
if [ "${SKIP_COPIER:-0}" != 1 ]; then
  if [ ! -x "$venv/bin/copier" ]; then
    echo "installing copier into $venv (once)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet copier
  fi
  args+=(--copier "$venv/bin/copier")
fi
exec "${CARGO_TARGET_DIR:-target}/release/golden-bench" "${args[@]}" "$@"
