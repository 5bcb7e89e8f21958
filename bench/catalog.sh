#!/usr/bin/env bash
# Catalog benchmark (see bench/src/catalog.rs): pave vs Backstage's measured figures.
#   bench/catalog.sh            # N = 10000 and 50000 components
#   bench/catalog.sh 1000       # other sizes
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
exec target/release/catalog-bench "$@"
