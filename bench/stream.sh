#!/usr/bin/env bash
# bench/stream.sh: a streamed WSGI download (issue 12). sites/app/stream_wsgi.py
# yields 1 GiB in 64 KiB blocks from a generator, run inline (no offload); curl
# fetches it once over 127.0.0.1 to /dev/null while the server's RSS is sampled
# every 0.5 s. Reports the RSS growth (max sampled - RSS before the download), the
# peak (VmHWM) after it, the time and the rate. A server that buffers the response,
# or queues blocks faster than the socket drains, shows it as growth.
#
#   bench/stream.sh [BUILD_DIR]          (default bench/build; ~30 s)
#
# Variants (STREAM_ONLY=a,b to choose):
#   subhttpd-length   the app sends Content-Length
#   subhttpd-chunked  no Content-Length: chunked on HTTP/1.1
#   uwsgi             the same app under uwsgi --http11-socket (reference, when installed)
# Environment: STREAM_BYTES (1073741824), STREAM_BLOCK (65536), STREAM_TIMEOUT (120 s
# per download), BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1, BENCH_BUILD=0,
# SUBHTTPD_BIN=path, BENCH_INSTALL=0, BENCH_RESULTS=path (appended).
#
# Only 127.0.0.1; every process started here is stopped by PID on exit (trap EXIT).
set -uo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
BYTES=${STREAM_BYTES:-1073741824}
BLOCK=${STREAM_BLOCK:-65536}
DL_TIMEOUT=${STREAM_TIMEOUT:-120}
VARIANTS=${STREAM_ONLY:-subhttpd-length,subhttpd-chunked,uwsgi}

RESULTS_TSV=""

start_variant() {  # NAME PORT DIR: sets SERVER_PID, STOP_SIGNAL, QUERY; 1 when it cannot run
  local name=$1 port=$2 dir=$3
  STOP_SIGNAL=TERM
  QUERY="bytes=$BYTES&block=$BLOCK"
  case $name in
    subhttpd-*)
      [[ -z $SUBHTTPD_MISSING ]] || { SKIP_REASON=$SUBHTTPD_MISSING; return 1; }
      [[ $name == subhttpd-chunked ]] && QUERY+="&chunked=1"
      spawn "$dir" "$SUBHTTPD" -c "$BENCH_DIR/sites/stream/server.toml" --listen "127.0.0.1:$port"
      ;;
    uwsgi)
      needs_packages uwsgi uwsgi-plugin-python3 || { SKIP_REASON="uwsgi not installed"; return 1; }
      STOP_SIGNAL=INT
      spawn "$dir" /usr/bin/uwsgi --plugin python3 --http11-socket "127.0.0.1:$port" --processes 1 --threads 1 \
        --wsgi-file "$APP/stream_wsgi.py" --need-app --disable-logging
      ;;
    *) SKIP_REASON="unknown variant"; return 1 ;;
  esac
}

vm_field() {  # PID FIELD: kB of a /proc/PID/status field summed over the process tree
  local total=0 p v
  for p in $(descendants "$1"); do
    v=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

run_variant() {  # NAME
  local name=$1 port dir
  port=$(free_port)
  dir=$RUNS_DIR/$name
  mkdir -p "$dir"
  SERVER_PID="" SKIP_REASON=""
  if ! start_variant "$name" "$port" "$dir"; then
    log "$name: skipped: $SKIP_REASON"
    printf '%s\tskipped: %s\n' "$name" "$SKIP_REASON" >>"$RESULTS_TSV"
    return
  fi
  if ! await_server "$name" "$port" "$dir"; then
    printf '%s\tfailed to start\n' "$name" >>"$RESULTS_TSV"
    return
  fi
  local url="http://127.0.0.1:$port/"
  # warm-up: imports the app and makes the first buffers, so that they are not growth
  local code
  code=$(curl -s -o /dev/null --max-time 30 -w '%{http_code}' "$url?bytes=1048576&block=$BLOCK")
  if [[ $code != 200 ]]; then
    log "$name: warm-up answered HTTP $code"; tail_log "$dir/server.log"
    stop_current "$STOP_SIGNAL"
    printf '%s\tbad response: HTTP %s\n' "$name" "$code" >>"$RESULTS_TSV"
    return
  fi
  local rss0 cpu0 cpu1
  rss0=$(rss_kb "$SERVER_PID")
  cpu0=$(cpu_ticks "$SERVER_PID")
  # the sampler: one RSS line every 0.5 s until it is stopped (by PID)
  (
    while :; do
      rss_kb "$SERVER_PID"
      sleep 0.5
    done
  ) >"$dir/rss.txt" 2>/dev/null &
  local sampler=$!
  BG_PIDS+=("$sampler")
  local out
  out=$(timeout $((DL_TIMEOUT + 10)) taskset -c "$CLIENT_CPU" curl -s -o /dev/null --max-time "$DL_TIMEOUT" \
    -w '%{http_code} %{size_download} %{time_total}' "$url?$QUERY")
  local curl_rc=$?
  kill -TERM "$sampler" 2>/dev/null
  wait "$sampler" 2>/dev/null
  cpu1=$(cpu_ticks "$SERVER_PID")
  local rss1 hwm
  rss1=$(rss_kb "$SERVER_PID")
  hwm=$(vm_field "$SERVER_PID" VmHWM)
  echo "$rss1" >>"$dir/rss.txt"
  stop_current "$STOP_SIGNAL"

  local http size secs max samples
  read -r http size secs <<<"$out"
  max=$(sort -n "$dir/rss.txt" | tail -n 1)
  samples=$(wc -l <"$dir/rss.txt")
  local note=""
  ((curl_rc != 0)) && note="curl exit $curl_rc"
  [[ $http != 200 ]] && note="${note:+$note; }HTTP $http"
  [[ $size != "$BYTES" ]] && note="${note:+$note; }received $size of $BYTES bytes"
  local tck
  tck=$(getconf CLK_TCK)
  printf '%s\tok\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rss0" "$max" "$hwm" "$secs" "$size" \
    "$(awk -v a="$cpu0" -v b="$cpu1" -v t="$tck" 'BEGIN { printf "%.2f", (b - a) / t }')" "$samples" "$note" >>"$RESULTS_TSV"
  log "$(printf '%-17s RSS %d -> max %d kB (growth %d kB, %d samples), VmHWM %d kB, %s s, %s bytes %s' \
    "$name" "$rss0" "$max" "$((max - rss0))" "$samples" "$hwm" "$secs" "$size" "$note")"
}

main() {
  install_packages
  need_commands curl
  build
  fresh_runs_dir stream
  RESULTS_TSV=$RUNS_DIR/results.tsv
  : >"$RESULTS_TSV"
  local v vs
  IFS=, read -r -a vs <<<"$VARIANTS"
  for v in "${vs[@]}"; do run_variant "$v"; done

  {
    echo "## Streamed WSGI download, $(date '+%F %H:%M %Z')"
    echo
    echo "\`bench/stream.sh\`: \`sites/app/stream_wsgi.py\` yields $BYTES bytes in $BLOCK-byte blocks from a generator," \
      "inline (no offload); one \`curl -o /dev/null\` over 127.0.0.1 (CPU $CLIENT_CPU), server on CPU $SERVER_CPU;" \
      "RSS of the server sampled every 0.5 s. Growth = max sampled RSS - RSS before the download (after a 1 MiB" \
      "warm-up download). $(load_line) at the end."
    echo
    echo "| variant | RSS before MB | RSS max MB | growth MB | VmHWM MB | time s | MB/s | server CPU s | notes |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    awk -F'\t' '
      $2 != "ok" { printf "| %s | %s | | | | | | | |\n", $1, $2; next }
      { mb = 1024; rate = ($6 > 0) ? $7 / $6 / 1048576 : 0
        printf "| %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.0f | %s | %s |\n", $1, $3 / mb, $4 / mb, ($4 - $3) / mb, $5 / mb, $6, rate, $8, $10 }
    ' "$RESULTS_TSV"
    echo
  } >"$RUNS_DIR/report.md"
  publish_report
}

main "$@"
