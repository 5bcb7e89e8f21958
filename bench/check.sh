#!/usr/bin/env bash
# Guardrails benchmark (see bench/src/check.rs): pave check vs Checkov on the same generated
# Deployments, the admission webhook under a paced load, Rego cost per document.
#   bench/check.sh                          # N = 500 and 10000, 500 requests/s for 10 s
#   bench/check.sh --sizes 1000 --rate 1000
#   bench/check.sh --single-file-mb 50      # one 50 MB file of ~111,000 objects (0 skips it)
# Checkov is installed once into a venv (PAVE_BENCH_VENV, default ~/.cache/pave-bench/checkov);
# SKIP_CHECKOV=1 runs pave alone.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
venv=${PAVE_BENCH_VENV:-$HOME/.cache/pave-bench/checkov}
args=()
if [ "${SKIP_CHECKOV:-0}" != 1 ]; then
  if [ ! -x "$venv/bin/checkov" ]; then
    echo "installing Checkov into $venv (once)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet checkov
  fi
  args+=(--checkov "$venv/bin/checkov")
fi
exec target/release/check-bench "${args[@]}" "$@"
