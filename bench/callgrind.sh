#!/usr/bin/env bash
# bench/callgrind.sh: instructions (Ir) per request, repeatable where wall-clock
# figures are not, for the epoll floor, the plain evhttp server and subhttpd's
# mod_python hello, WSGI hello and static file. Each target runs twice under
# `valgrind --tool=callgrind`: once answering CG_WARMUP requests, once answering
# CG_WARMUP + CG_REQUESTS, all keep-alive over one connection from
# callgrind_tool.py (one request at a time, only a Host header, as wrk sends).
# Ir per request = (Ir of the second run - Ir of the first) / CG_REQUESTS: start-up,
# the first requests (interpreter, imports) and shutdown cancel out. Also lists the
# functions that cost the most per request (self Ir, the same difference).
#
#   bench/callgrind.sh [BUILD_DIR]        (default bench/build; ~3-5 min)
#
# Environment: CG_ONLY=floor,plain,subhttpd-modpython,subhttpd-wsgi,subhttpd-static
# (the default; uwsgi also possible), CG_REQUESTS=2000, CG_WARMUP=200, CG_TOP=12
# (functions listed per target, 0: none), CG_START_TIMEOUT=120 (s, under valgrind),
# BENCH_BUILD=0, SUBHTTPD_BIN=path, BENCH_INSTALL=0, BENCH_RESULTS=path (appended).
#
# Only 127.0.0.1; every process started here is stopped by PID on exit (trap EXIT).
set -uo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
REQUESTS=${CG_REQUESTS:-2000}
WARMUP=${CG_WARMUP:-200}
TOP=${CG_TOP:-12}
TARGETS=${CG_ONLY:-floor,plain,subhttpd-modpython,subhttpd-wsgi,subhttpd-static}
START_TIMEOUT=${CG_START_TIMEOUT:-120}

TOOL=$BENCH_DIR/callgrind_tool.py

label() {
  case $1 in
    floor) echo "epoll floor (C)" ;;
    plain) echo "plain evhttp hello (C)" ;;
    subhttpd-modpython) echo "subhttpd, mod_python handler" ;;
    subhttpd-wsgi) echo "subhttpd, WSGI app" ;;
    subhttpd-static) echo "subhttpd, static file" ;;
    uwsgi) echo "uWSGI --http11-socket, 1 process x 1 thread" ;;
    *) echo "$1" ;;
  esac
}

group() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }  # 1234567 -> 1,234,567

# target_cmd NAME PORT: sets CMD (the server's command line), URL_PATH, STOP_SIGNAL;
# 1 with SKIP_REASON when it cannot run
target_cmd() {
  URL_PATH=/ STOP_SIGNAL=TERM
  case $1 in
    floor) [[ -n $FLOOR_BIN ]] || { SKIP_REASON="floor_epoll not built"; return 1; }; CMD=("$FLOOR_BIN" "$2") ;;
    plain) [[ -n $PLAIN_BIN ]] || { SKIP_REASON="plain_evhttp not built"; return 1; }; CMD=("$PLAIN_BIN" "$2") ;;
    subhttpd-*)
      [[ -z $SUBHTTPD_MISSING ]] || { SKIP_REASON=$SUBHTTPD_MISSING; return 1; }
      local site=${1#subhttpd-}
      [[ $site == static ]] && URL_PATH=/hello.txt
      CMD=("$SUBHTTPD" -c "$BENCH_DIR/sites/$site/server.toml" --listen "127.0.0.1:$2")
      ;;
    uwsgi)
      needs_packages uwsgi uwsgi-plugin-python3 || { SKIP_REASON="uwsgi not installed"; return 1; }
      STOP_SIGNAL=INT
      CMD=(/usr/bin/uwsgi --plugin python3 --http11-socket "127.0.0.1:$2" --processes 1 --threads 1
        --wsgi-file "$APP/hello_wsgi.py" --need-app --disable-logging)
      ;;
    *) SKIP_REASON="unknown target"; return 1 ;;
  esac
}

# cg_run NAME COUNT DIR: the server under callgrind answering COUNT requests; its
# callgrind files are DIR/callgrind.<pid>.out. 0 on success; sets CG_ERROR.
cg_run() {
  local name=$1 count=$2 dir=$3 port
  port=$(free_port)
  mkdir -p "$dir"
  target_cmd "$name" "$port" || { CG_ERROR="skipped: $SKIP_REASON"; return 1; }
  PYTHONDONTWRITEBYTECODE=1 valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p.out" \
    --dump-line=no --dump-instr=no "${CMD[@]}" >"$dir/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  if ! await_server "$name" "$port" "$dir"; then
    CG_ERROR="failed to start under valgrind (log: $dir/server.log)"
    return 1
  fi
  local rc=0
  if ((count > 0)); then
    timeout 600 "$PY" "$TOOL" client "$port" "$URL_PATH" "$count" 2>"$dir/client.log" || rc=1
  fi
  # a clean exit, so that callgrind writes its counts (stop_server waits 10 s, then KILL)
  kill "-$STOP_SIGNAL" "$SERVER_PID" 2>/dev/null
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  stop_current KILL
  if ((rc)); then
    CG_ERROR="client failed: $(tail -n 1 "$dir/client.log")"
    return 1
  fi
  if ! compgen -G "$dir/callgrind.*.out" >/dev/null; then
    CG_ERROR="no callgrind output (log: $dir/server.log)"
    return 1
  fi
}

main() {
  install_packages
  need_commands valgrind
  build
  fresh_runs_dir callgrind
  local t ts rows=() tops=() out first ir_run ir_base per
  IFS=, read -r -a ts <<<"$TARGETS"
  for t in "${ts[@]}"; do
    log "$t: $WARMUP requests under callgrind"
    if ! cg_run "$t" "$WARMUP" "$RUNS_DIR/$t.base"; then
      log "$t: $CG_ERROR"; rows+=("| $(label "$t") | $CG_ERROR | | | | |"); continue
    fi
    log "$t: $WARMUP + $REQUESTS requests under callgrind"
    if ! cg_run "$t" $((WARMUP + REQUESTS)) "$RUNS_DIR/$t.run"; then
      log "$t: $CG_ERROR"; rows+=("| $(label "$t") | $CG_ERROR | | | | |"); continue
    fi
    out=$("$PY" "$TOOL" diff "$REQUESTS" "$TOP" "$RUNS_DIR/$t.run"/callgrind.*.out -- "$RUNS_DIR/$t.base"/callgrind.*.out)
    first=${out%%$'\n'*}
    read -r ir_run ir_base per <<<"$first"
    log "$t: $per Ir/request"
    rows+=("$t|$per|$ir_base|$ir_run")
    if ((TOP > 0)) && [[ $out == *$'\n'* ]]; then
      tops+=("" "**$(label "$t")** — functions by self Ir per request:" "" '```' "${out#*$'\n'}" '```')
    fi
  done

  # the ratio columns need the plain and floor figures
  local plain_ir="" floor_ir="" r n
  for r in "${rows[@]}"; do
    [[ $r == plain\|* ]] && plain_ir=$(cut -d'|' -f2 <<<"$r")
    [[ $r == floor\|* ]] && floor_ir=$(cut -d'|' -f2 <<<"$r")
  done
  {
    echo "## Instructions per request (callgrind), $(date '+%F %H:%M %Z')"
    echo
    echo "\`bench/callgrind.sh\`: valgrind $(valgrind --version 2>/dev/null | sed 's/^valgrind-//') --tool=callgrind;" \
      "each server answers $WARMUP, then (a second run) $WARMUP + $REQUESTS keep-alive requests over one connection," \
      "one at a time; Ir/request = (Ir of the second run - Ir of the first) / $REQUESTS. Instruction counts do not" \
      "depend on the machine's load."
    echo
    echo "| target | Ir / request | × plain | × floor | Ir, $WARMUP-request run | Ir, $((WARMUP + REQUESTS))-request run |"
    echo "|---|---:|---:|---:|---:|---:|"
    for r in "${rows[@]}"; do
      if [[ $r == \|* ]]; then echo "$r"; continue; fi
      IFS='|' read -r n per ir_base ir_run <<<"$r"
      printf '| %s | %s | %s | %s | %s | %s |\n' "$(label "$n")" "$(group "$per")" \
        "$(awk -v a="$per" -v b="$plain_ir" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }')" \
        "$(awk -v a="$per" -v b="$floor_ir" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }')" \
        "$(group "$ir_base")" "$(group "$ir_run")"
    done
    printf '%s\n' "${tops[@]}"
    echo
  } >"$RUNS_DIR/report.md"
  publish_report "callgrind files"
}

main "$@"
