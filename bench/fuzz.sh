#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted input (crates/fuzz) with AFL++ through
# cargo-afl, on the stable toolchain. Prints one row per target: executions, speed, paths
# found, edge coverage, crashes and hangs.
#   bench/fuzz.sh                          # every target, 1,000,000 executions each
#   bench/fuzz.sh --execs 200000 yaml webhook
#   bench/fuzz.sh --keep                   # copy new crashes into crates/fuzz/corpus/<target>/
#   bench/fuzz.sh --seconds 300            # stop a target after 5 minutes (default 600)
# Needs cargo-afl (`cargo install cargo-afl --locked`, then `cargo afl config --build`). A crash
# found becomes a regression test: keep it (--keep), fix the parser, and `cargo test -p
# pave-fuzz` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."

execs=1000000
seconds=600
keep=false
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --execs) execs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls crates/fuzz/corpus)
fi
command -v cargo-afl >/dev/null || { echo "cargo-afl is missing: cargo install cargo-afl --locked && cargo afl config --build" >&2; exit 2; }

target_dir="${PAVE_AFL_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/afl}"
(cd crates/fuzz/afl && CARGO_TARGET_DIR="$target_dir" cargo afl build --release --locked --quiet)
binary="$target_dir/release/pave-fuzz-afl"
out="$(mktemp -d /tmp/pave-fuzz.XXXXXX)"

export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_QUIET=1
printf '%-18s %12s %10s %8s %9s %8s %6s %8s\n' target executions "execs/s" paths coverage crashes hangs seconds
for target in "${targets[@]}"; do
  dir="$out/$target"
  # -E stops after that many executions, -V after that many seconds; -t is the per-input
  # limit in ms (a hang past it).
  PAVE_FUZZ_TARGET="$target" cargo afl fuzz -i "crates/fuzz/corpus/$target" -o "$dir" \
    -E "$execs" -V "$seconds" -t 1000 -- "$binary" >"$dir.log" 2>&1 || true
  stats="$dir/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    printf '%-18s %s\n' "$target" "did not run; see $dir.log"
    continue
  fi
  get() { sed -n "s/^$1 *: *//p" "$stats"; }
  printf '%-18s %12s %10s %8s %9s %8s %6s %8s\n' "$target" "$(get execs_done)" "$(get execs_per_sec)" \
    "$(get corpus_count)" "$(get bitmap_cvg)" "$(get saved_crashes)" "$(get saved_hangs)" \
    "$(get run_time)"
  if $keep; then
    for crash in "$dir"/default/crashes/id:*; do
      [ -f "$crash" ] || continue
      cp "$crash" "crates/fuzz/corpus/$target/crash-$(sha256sum "$crash" | cut -c1-16)"
    done
  fi
done
echo "outputs in $out"
