#!/usr/bin/env bash
# The audit trail (issue 14): the pure core in process (audit-bench: append, verify 1M
# records, evidence pack of 100k) and through the store and the binary (audit-store-bench:
# appends inside SQLite write transactions, `pave audit verify` of 1M stored records,
# `pave evidence` over 100k).
#   bench/audit.sh                      # both
#   bench/audit.sh --records 200000     # a smaller log for the store rows
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p pave -p pave-bench --quiet
echo "## pave-audit, in process"
target/release/audit-bench
echo
echo "## through SQLite and the pave binary"
exec target/release/audit-store-bench --binary target/release/pave "$@"
