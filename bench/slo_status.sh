#!/usr/bin/env bash
# SLO status benchmark (see bench/src/slo_status.rs): `pave slo status` for 500 SLOs against a
# live Prometheus (Debian's prometheus/promtool) with Sloth-shaped rules and synthetic history.
#   bench/slo_status.sh                    # 500 SLOs, 5 runs
#   bench/slo_status.sh --slos 2000 --runs 3
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
target=${CARGO_TARGET_DIR:-target}
exec "$target/release/slo-status-bench" --pave "$target/release/pave" "$@"
