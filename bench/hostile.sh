#!/usr/bin/env bash
# Hostile requests against pave serve (see bench/src/hostile.rs): a 40 KB facet flood, by-name
# reads under heavy requests, a 5.2 MB AdmissionReview, reads per second during index updates.
#   bench/hostile.sh                              # target/release/pave, 10,000 components
#   bench/hostile.sh --binary /tmp/pave-before    # another build, to compare
#   bench/hostile.sh --components 2000
# Needs wrk (apt-get install -y wrk) for the reads-per-second rows.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
exec target/release/hostile-bench "$@"
