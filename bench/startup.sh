#!/usr/bin/env bash
# bench/startup.sh: time from exec to the first answered request, for the samples
# (samples/server.toml on a free loopback port), repeated; prints median and p90.
# The clock starts just before the exec and stops when curl gets the answer to
# URL_PATH (default /app/hello: a mod_python handler, so the time includes making
# its interpreter on that first request; interpreters are lazy except `import`).
#
#   bench/startup.sh [SUBHTTPD_BIN]     (default build/reactor/subhttpd)
#
# Environment (optional): RUNS=20, URL_PATH=/app/hello, CONFIG=samples/server.toml,
# POLL_SLEEP=0.002 (seconds between curl attempts), PROFILE=1 (also print the
# slowest imports of the interpreter set-up: python3 -X importtime style).
# Every server started here is stopped by its PID.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BIN=${1:-${SUBHTTPD_BIN:-$ROOT/build/reactor/subhttpd}}
RUNS=${RUNS:-20}
URL_PATH=${URL_PATH:-/app/hello}
CONFIG=${CONFIG:-$ROOT/samples/server.toml}
POLL_SLEEP=${POLL_SLEEP:-0.002}
PY=/usr/bin/python3

[ -x "$BIN" ] || { echo "startup.sh: no binary at $BIN (build first, or pass its path)" >&2; exit 1; }
command -v curl >/dev/null || { echo "startup.sh: curl is needed" >&2; exit 1; }

# The build copies interp/python beside the binary (../share/subhttpd/python)
# and byte-compiles it there, as an installed tree has it; nothing is written
# into the source tree.
RUNTIME=$(dirname "$(dirname "$BIN")")/share/subhttpd/python

PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi; }
trap cleanup EXIT INT TERM

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

LOG=$(mktemp /tmp/subhttpd-startup.XXXXXX)
declare -a TIMES=()
for ((i = 1; i <= RUNS; i++)); do
  port=$(free_port)
  url="http://127.0.0.1:$port$URL_PATH"
  t0=$EPOCHREALTIME
  "$BIN" -c "$CONFIG" --listen "127.0.0.1:$port" >"$LOG" 2>&1 &
  PID=$!
  ok=0
  for ((n = 0; n < 5000; n++)); do
    if curl -s -o /dev/null -m 5 -f "$url" 2>/dev/null; then ok=1; break; fi
    kill -0 "$PID" 2>/dev/null || break
    sleep "$POLL_SLEEP"
  done
  t1=$EPOCHREALTIME
  kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=""
  if [ "$ok" != 1 ]; then
    echo "startup.sh: run $i: no answer from $url; server log:" >&2
    cat "$LOG" >&2
    rm -f "$LOG"
    exit 1
  fi
  ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
  TIMES+=("$ms")
done
rm -f "$LOG"

printf '%s\n' "${TIMES[@]}" | sort -n | awk -v runs="$RUNS" -v path="$URL_PATH" -v bin="$BIN" '
  { t[NR] = $1 }
  END {
    n = NR
    med = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
    p90 = t[int(0.9 * n + 0.999999)]
    printf "startup (exec -> first answer to %s), %d runs of %s\n", path, n, bin
    printf "  median %.1f ms   p90 %.1f ms   min %.1f ms   max %.1f ms\n", med, p90, t[1], t[n]
  }'

if [ "${PROFILE:-0}" = 1 ]; then
  # What a new interpreter imports at set-up (the embedded one imports the same
  # subhttpd_runtime and mod_python modules): cumulative microseconds, slowest first.
  echo "slowest imports of the interpreter set-up (python3 -X importtime):"
  PYTHONPATH="$RUNTIME" "$PY" -X importtime -c 'import subhttpd_runtime, mod_python.apache' 2>&1 >/dev/null |
    awk -F'|' 'NR > 1 { gsub(/ /, "", $2); print $2 "\t" $3 }' | sort -rn | head -15
fi
