#!/usr/bin/env bash
# Portal benchmark (see bench/src/portal.rs): every kind of portal page at 11.7k entities,
# against the issue's 20 ms ceiling and Backstage's API figures for the same pages.
#   bench/portal.sh            # 10,000 components (about 11,700 entities)
#   bench/portal.sh 50000      # other sizes
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
exec target/release/portal-bench "$@"
