#!/usr/bin/env bash
# Mixed load against pave serve (see bench/src/load.rs): 90 % catalog reads of every kind,
# 9 % signed webhook writes, 1 % portal pages, open-loop at a fixed rate; latency from each
# request's due time, errors, the server's RSS every 10 s and its CPU.
#   bench/load.sh                                   # 1,000/s for 10 minutes, 5,000 components
#   bench/load.sh --rate 500 --seconds 60 --components 2000
#   bench/load.sh --binary /tmp/pave-before         # another build, to compare
#   bench/load.sh --writes no                       # reads only: RSS without stored deliveries
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
exec target/release/load-bench "$@"
