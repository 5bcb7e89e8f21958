#!/usr/bin/env bash
# Authentication and authorization per request (issue 14): by-name reads on a server without
# auth and one requiring an API token, on the same 1,000-component catalog, side by side.
#   bench/auth.sh                              # target/release/pave
#   bench/auth.sh --binary /tmp/pave-before --requests 50000
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
exec target/release/auth-bench "$@"
