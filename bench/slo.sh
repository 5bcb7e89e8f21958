#!/usr/bin/env bash
# SLO benchmark (see bench/src/slo.rs): `pave slo generate` on 1,000 SLOs in 100 spec files.
#   bench/slo.sh                         # 100 files × 10 SLOs, 7 runs
#   bench/slo.sh --files 500 --per-file 10
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
exec "${CARGO_TARGET_DIR:-target}/release/slo-bench" "$@"
