#!/usr/bin/env bash
# Builds subhttpd with AddressSanitizer + UBSan into ./build-asan (or $ASAN_BUILD_DIR)
# and runs the whole ctest suite (unit, e2e, python) against it. Any sanitizer
# report fails the run: the instrumented test binaries exit non-zero, and the e2e
# harness fails a test whose server log holds a report (SUBHTTPD_SANITIZE_CHECK=1).
# Extra arguments go to ctest (e.g. -R e2e).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${ASAN_BUILD_DIR:-$here/build-asan}
supp=$here/tests/sanitize

"$here/scripts/deps.sh" test
start=$SECONDS
BUILD_DIR=$build "$here/scripts/build.sh" -DSUBHTTPD_SANITIZE=ON -DSUBHTTPD_BENCH=OFF
echo "sanitize: built in $((SECONDS - start)) s" >&2

# CPython's own allocator hides heap errors from ASan: route it through malloc.
export PYTHONMALLOC=malloc
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=0
export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp
export SUBHTTPD_SANITIZE_CHECK=1

cd "$build"
start=$SECONDS
status=0
ctest --output-on-failure -j"$(nproc)" --timeout 1800 "$@" || status=$?
echo "sanitize: ctest took $((SECONDS - start)) s (exit $status)" >&2
exit "$status"
