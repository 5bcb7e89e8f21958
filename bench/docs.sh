#!/usr/bin/env bash
# Docs-as-code (issue 16): each demo docs page served by pave (opened, read, rendered) vs
# `mkdocs build` of the same sites.
#   bench/docs.sh                # 5 runs over every page, MkDocs side by side
#   bench/docs.sh --runs 20
# MkDocs is installed once into a venv (PAVE_BENCH_VENV_MKDOCS, default
# ~/.cache/pave-bench/mkdocs); SKIP_MKDOCS=1 runs pave alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave-bench --quiet
venv=${PAVE_BENCH_VENV_MKDOCS:-$HOME/.cache/pave-bench/mkdocs}
args=()
if [ "${SKIP_MKDOCS:-0}" != 1 ]; then
  if [ ! -x "$venv/bin/mkdocs" ]; then
    echo "installing mkdocs into $venv (once)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet mkdocs
  fi
  args+=(--mkdocs "$venv/bin/mkdocs")
fi
exec target/release/docs-bench "${args[@]}" "$@"
