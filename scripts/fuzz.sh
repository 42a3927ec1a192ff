#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with Debian's clang into ./build-fuzz
# (or $FUZZ_BUILD_DIR) and runs each one for SECONDS (default 60), starting from the
# seed corpora. Exits non-zero on any crash, sanitizer report, leak, timeout or OOM;
# the input that did it is kept as build-fuzz/artifacts/<target>-crash-*.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${FUZZ_BUILD_DIR:-$here/build-fuzz}
targets=(fuzz_config fuzz_route fuzz_http_parser fuzz_http_connection)

"$here/scripts/deps.sh" fuzz

start=$SECONDS
CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSUBHTTPD_PYTHON=/usr/bin/python3 -DSUBHTTPD_FUZZ=ON -DBUILD_TESTING=OFF -DSUBHTTPD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
echo "fuzz: built in $((SECONDS - start)) s" >&2

# libFuzzer stops a run that hangs on one input (-timeout) or grows too big
# (-rss_limit_mb) by itself; `timeout` is the backstop that keeps CI's budget.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/artifacts"
failed=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t"  # new inputs land here; the checked-in seeds stay untouched
  mkdir -p "$work"
  log="$build/$t.log"
  echo "fuzz: $t for ${seconds} s" >&2
  status=0
  timeout -k 10 $((seconds + 120)) "$build/tests/fuzz/$t" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
    "$work" "$here/tests/fuzz/corpus/${t#fuzz_}" >"$log" 2>&1 || status=$?
  if ((status != 0)) || grep -qE "ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$log"; then
    echo "fuzz: $t FAILED (exit $status); last lines of $log:" >&2
    tail -n 60 "$log" >&2
    failed+=("$t")
  else
    grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)" "$log" | sed "s/^/fuzz: $t: /" >&2 || true
  fi
done
if ((${#failed[@]} > 0)); then
  echo "fuzz: failures in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all targets clean" >&2
