#!/usr/bin/env bash
# Webhook intake under load (issue 15): signed GitHub deliveries at 2,000/s for 60 s into
# `pave serve` on SQLite, latency from each delivery's due time, then kill -9 and count
# what survived.
#   bench/events.sh                                   # target/release/pave
#   bench/events.sh --rate 3000 --seconds 30 --connections 64
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
exec target/release/events-bench "$@"
