# bench/lib.sh: what the bench/ scripts (run.sh, reload.sh, offload_mix.sh,
# workers.sh, stream.sh, callgrind.sh) share. Source it first, with the script's
# arguments: `source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"`; its first
# argument is the build folder. It installs the EXIT trap that stops every
# process the script started (by PID).
#
# What it provides: the common settings (BENCH_DIR, ROOT, BUILD_DIR, PY,
# SERVER_CPU, CLIENT_CPU, DURATION, ROUNDS, WARMUP, START_TIMEOUT, APACHE_THREADS,
# APP, HTDOCS); log/die,
# need_commands, selected, fresh_runs_dir; descendants, remember_tree, stop_server,
# stop_current, kill_leftovers and the EXIT/INT/TERM traps; the Debian package
# install (install_packages, BUILD_PKGS, PEER_PKGS, UNAVAILABLE); the Release
# build of plain_evhttp, floor_epoll and subhttpd (build: sets PLAIN_BIN,
# FLOOR_BIN, SUBHTTPD, SUBHTTPD_MISSING); spawn, await_server; free_port,
# port_open, wait_listening, cpu_ticks, rss_kb, cpu_busy_ticks, pkg_version,
# needs_packages, lat_us, tail_log, apache_conf, apache_wsgi_conf, wrk_parse, tree_commit,
# append_results, publish_report.
# shellcheck shell=bash

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BUILD_DIR=$(realpath -m "${1:-${BENCH_BUILD_DIR:-$BENCH_DIR/build}}")
PY=/usr/bin/python3   # Debian's python3, never one that happens to be first on PATH
SERVER_CPU=${BENCH_SERVER_CPU:-0}   # taskset CPU lists: the server, and wrk/curl
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
DURATION=${BENCH_DURATION:-10}   # seconds of measured load
ROUNDS=${BENCH_ROUNDS:-3}         # interleaved rounds
WARMUP=${BENCH_WARMUP:-2}         # seconds of unmeasured load first
START_TIMEOUT=${BENCH_START_TIMEOUT:-30}
APACHE_THREADS=${BENCH_APACHE_THREADS:-64}   # worker threads of the one Apache child
APP=$BENCH_DIR/sites/app                     # the handlers and WSGI apps every target serves
HTDOCS=$BENCH_DIR/sites/modpython/htdocs

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_commands() {  # CMD...: die unless each is installed (Debian package of the same name)
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || die "$c is not installed (apt-get install $c)"
  done
}

selected() {  # NAME: 0 when it is to be run (BENCH_ONLY / BENCH_SKIP, comma-separated)
  local n=$1
  if [[ -n ${BENCH_ONLY:-} ]]; then [[ ",$BENCH_ONLY," == *",$n,"* ]] || return 1; fi
  if [[ -n ${BENCH_SKIP:-} ]]; then [[ ",$BENCH_SKIP," == *",$n,"* ]] && return 1; fi
  return 0
}

fresh_runs_dir() {  # [NAME]: RUNS_DIR=BUILD_DIR/bench-runs[/NAME], made empty
  RUNS_DIR=$BUILD_DIR/bench-runs${1:+/$1}
  rm -rf "$RUNS_DIR"
  mkdir -p "$RUNS_DIR"
}

# ---------------------------------------------------------------- cleanup ---
CURRENT_PID=""         # the server being measured
declare -a KNOWN_PIDS=()   # every server process (and descendant) seen, to stop on exit
POLICY_RC_CREATED=0

descendants() {  # PID -> PID and all its descendants, one per line
  local root=$1
  ps -e -o pid=,ppid= | awk -v root="$root" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      keep[root] = 1; changed = 1
      while (changed) {
        changed = 0
        for (i in pids) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } }
      }
      for (p in keep) print p
    }'
}

remember_tree() {
  local p
  for p in $(descendants "$1"); do KNOWN_PIDS+=("$p"); done
}

stop_server() {  # PID SIGNAL: stop a server we started, then anything it left behind
  local pid=$1 sig=${2:-TERM} i
  [[ -n $pid ]] || return 0
  remember_tree "$pid"
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$sig" "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      # a zombie child of ours counts as stopped
      [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] && break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  kill_leftovers
}

stop_current() {  # [SIGNAL]: stop the server being measured (CURRENT_PID)
  stop_server "$CURRENT_PID" "${1:-TERM}"
  CURRENT_PID=""
}

kill_leftovers() {
  local p
  for p in "${KNOWN_PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  done
  KNOWN_PIDS=()
}

declare -a BG_PIDS=()   # helper processes (wrk, edit loops) a script started in the background

on_exit() {
  local rc=$? p
  for p in "${BG_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; done
  if [[ -n $CURRENT_PID ]]; then stop_server "$CURRENT_PID" KILL; fi
  kill_leftovers
  if ((POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# --------------------------------------------------------------- install ----
BUILD_PKGS=(build-essential cmake pkg-config libevent-dev libpython3-dev python3 libtoml11-dev libbenchmark-dev)
PEER_PKGS=(wrk curl apache2 libapache2-mod-wsgi-py3 libapache2-mod-python uwsgi uwsgi-plugin-python3 gunicorn python3-flask)
declare -A UNAVAILABLE=()

installed() { dpkg-query -W -f '${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_packages() {
  local missing=() p cand
  for p in "${BUILD_PKGS[@]}" "${PEER_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  if [[ ${BENCH_INSTALL:-1} == 0 || $(id -u) != 0 ]]; then
    log "not installing (BENCH_INSTALL=0 or not root); missing: ${missing[*]}"
    for p in "${missing[@]}"; do UNAVAILABLE[$p]=1; done
    return 0
  fi
  log "installing from Debian: ${missing[*]}"
  timeout 300 apt-get update -qq >&2 || log "apt-get update failed; trying with the lists we have"
  local available=()
  for p in "${missing[@]}"; do
    cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    if [[ -z $cand || $cand == "(none)" ]]; then
      log "package $p is not available in this Debian; its targets are skipped"
      UNAVAILABLE[$p]=1
    else
      available+=("$p")
    fi
  done
  ((${#available[@]})) || return 0
  # Never let the install start a system-wide apache2 on port 80.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && POLICY_RC_CREATED=1
  fi
  if ! DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q "${available[@]}" >&2; then
    log "installing them together failed; trying one by one"
    for p in "${available[@]}"; do
      DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "$p" >&2 || { log "cannot install $p"; UNAVAILABLE[$p]=1; }
    done
  fi
  if ((POLICY_RC_CREATED)); then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=0; fi
}

# ----------------------------------------------------------------- build ----
PLAIN_BIN=""
FLOOR_BIN=""
SUBHTTPD=""
SUBHTTPD_MISSING=""  # why there is no subhttpd to measure
build() {
  mkdir -p "$BUILD_DIR"
  local blog=$BUILD_DIR/bench-build.log
  : > "$blog"
  local sub_built=1
  if [[ ${BENCH_BUILD:-1} != 0 ]]; then
    sub_built=0
    log "building (Release) in $BUILD_DIR; log: $blog"
    if timeout 600 cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >>"$blog" 2>&1; then
      timeout 900 cmake --build "$BUILD_DIR" -j"$(nproc)" --target plain_evhttp >>"$blog" 2>&1 || log "plain_evhttp did not build"
      timeout 300 cmake --build "$BUILD_DIR" -j"$(nproc)" --target floor_epoll >>"$blog" 2>&1 || log "floor_epoll did not build"
      if timeout 1200 cmake --build "$BUILD_DIR" -j"$(nproc)" --target subhttpd >>"$blog" 2>&1; then
        sub_built=1
      else
        log "subhttpd did not build (see $blog)"
      fi
    else
      log "cmake configure failed (see $blog); building plain_evhttp and floor_epoll with cc directly"
    fi
    mkdir -p "$BUILD_DIR/bench"
    if [[ ! -x $BUILD_DIR/bench/plain_evhttp ]]; then
      # shellcheck disable=SC2046
      cc -O2 -Wall -o "$BUILD_DIR/bench/plain_evhttp" "$BENCH_DIR/plain_evhttp.c" \
        $(pkg-config --cflags --libs libevent_core libevent_extra) >>"$blog" 2>&1 || log "cc plain_evhttp failed"
    fi
    if [[ ! -x $BUILD_DIR/bench/floor_epoll ]]; then
      cc -O2 -Wall -std=c11 -o "$BUILD_DIR/bench/floor_epoll" "$BENCH_DIR/floor_epoll.c" >>"$blog" 2>&1 || log "cc floor_epoll failed"
    fi
  fi
  [[ -x $BUILD_DIR/bench/plain_evhttp ]] && PLAIN_BIN=$BUILD_DIR/bench/plain_evhttp
  [[ -x $BUILD_DIR/bench/floor_epoll ]] && FLOOR_BIN=$BUILD_DIR/bench/floor_epoll
  SUBHTTPD=${SUBHTTPD_BIN:-$BUILD_DIR/reactor/subhttpd}
  # A binary left from an earlier build is not the code under test.
  if [[ -z ${SUBHTTPD_BIN:-} ]] && ((!sub_built)); then
    SUBHTTPD_MISSING="subhttpd did not build (see $blog)"
  elif [[ ! -x $SUBHTTPD ]]; then
    SUBHTTPD_MISSING="no binary at $SUBHTTPD"
  fi
}

# --------------------------------------------------------------- helpers ----
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cpu_ticks() {  # sum of utime+stime+cutime+cstime over the process tree of PID
  local total=0 p s f
  for p in $(descendants "$1"); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }  # drop "pid (comm) ", comm may hold spaces
    read -r -a f <<<"$s"
    total=$((total + f[11] + f[12] + f[13] + f[14]))
  done
  echo "$total"
}

rss_kb() {  # sum of VmRSS over the process tree of PID
  local total=0 p v
  for p in $(descendants "$1"); do
    v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

cpu_busy_ticks() {  # CPU -> busy ticks of that CPU (all processes), from /proc/stat
  awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

pkg_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"; }

needs_packages() {  # PKG...: 0 when all are installed
  local p
  for p in "$@"; do installed "$p" || return 1; done
  return 0
}

lat_us() {  # "436.00us" / "1.02ms" / "1.5s" -> microseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n
  }'
}


tail_log() { [[ -f $1 ]] && tail -n 5 "$1" | sed 's/^/    | /' >&2; }

apache_conf() {  # PORT DIR: the common part of a self-contained apache2 config
  cat <<EOF
# generated by bench/${0##*/}: a private apache2 instance, nothing from /etc/apache2
ServerRoot "$2"
DefaultRuntimeDir "$2"
PidFile "$2/httpd.pid"
ErrorLog "$2/error.log"
LogLevel warn
Mutex file:$2 default
Listen 127.0.0.1:$1
ServerName 127.0.0.1
User www-data
Group www-data
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
# one child process with $APACHE_THREADS worker threads${CONNS:+ (the load opens $CONNS keep-alive connections)}
StartServers 1
ServerLimit 1
ThreadLimit ${APACHE_THREADS}
ThreadsPerChild ${APACHE_THREADS}
MaxRequestWorkers ${APACHE_THREADS}
MinSpareThreads 1
MaxSpareThreads $((2 * APACHE_THREADS))
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
EOF
}

apache_wsgi_conf() {  # PORT DIR SCRIPT: DIR/httpd.conf serving the WSGI app SCRIPT at / (mod_wsgi embedded)
  {
    apache_conf "$1" "$2"
    cat <<EOF
LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so
WSGIScriptAlias / $3
<Directory $(dirname "$3")>
  Require all granted
</Directory>
EOF
  } >"$2/httpd.conf"
}

wait_listening() {  # PID PORT: 0 once PORT accepts connections; 1 if PID exits or START_TIMEOUT passes
  local pid=$1 port=$2 i
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]] && return 1
    port_open "$port" && return 0
    sleep 0.1
  done
  return 1
}

spawn() {  # DIR CMD...: start CMD pinned to SERVER_CPU, stdout/stderr to DIR/server.log; sets SERVER_PID
  local dir=$1
  shift
  PYTHONDONTWRITEBYTECODE=1 taskset -c "$SERVER_CPU" "$@" >"$dir/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
}

# await_server NAME PORT DIR: SERVER_PID (just started) becomes CURRENT_PID; 0 once
# it accepts on PORT. Otherwise it is stopped, the tails of DIR/server.log and
# DIR/error.log are shown, START_ERROR says why ("exited with status N" or "not
# listening after Ns", then the log's last line) and it returns 1.
await_server() {
  local name=$1 port=$2 dir=$3 last
  CURRENT_PID=$SERVER_PID
  wait_listening "$SERVER_PID" "$port" && return 0
  START_ERROR="not listening after ${START_TIMEOUT}s"
  if ! kill -0 "$SERVER_PID" 2>/dev/null || [[ $(ps -o stat= -p "$SERVER_PID" 2>/dev/null) == Z* ]]; then
    wait "$SERVER_PID" 2>/dev/null
    START_ERROR="exited with status $?"
  fi
  log "$name: failed to start, $START_ERROR (log: $dir/server.log)"
  tail_log "$dir/server.log"; tail_log "$dir/error.log"
  stop_current KILL
  last=$(grep -v '^[[:space:]]*$' "$dir/server.log" 2>/dev/null | tail -n 1 | tr '|' '/' | cut -c1-160)
  START_ERROR+=${last:+: $last}
  return 1
}

# wrk_parse FILE: sets WRK_REQUESTS, WRK_RPS, WRK_P50_US, WRK_P99_US (empty when
# there was no --latency), WRK_NON2XX (0 if none), WRK_SOCKERR (sum of connect, read,
# write and timeout errors) and WRK_SOCKERR_TEXT ("read 3, timeout 1", only non-zero).
wrk_parse() {
  local f=$1 v
  WRK_REQUESTS=$(awk '/ requests in / { print $1; exit }' "$f")
  WRK_RPS=$(awk '/^Requests\/sec:/ { print $2; exit }' "$f")
  v=$(awk '$1 == "50%" { print $2; exit }' "$f"); WRK_P50_US=${v:+$(lat_us "$v")}
  v=$(awk '$1 == "99%" { print $2; exit }' "$f"); WRK_P99_US=${v:+$(lat_us "$v")}
  WRK_NON2XX=$(awk '/Non-2xx or 3xx responses:/ { print $NF; exit }' "$f"); WRK_NON2XX=${WRK_NON2XX:-0}
  WRK_SOCKERR_TEXT=$(awk '/Socket errors:/ {
      sub(/^ *Socket errors: */, ""); n = split($0, kv, /, */); out = ""
      for (i = 1; i <= n; i++) { split(kv[i], f, " "); if (f[2] + 0 > 0) out = out (out == "" ? "" : ", ") f[1] " " f[2] }
      print out }' "$f")
  WRK_SOCKERR=$(awk '/Socket errors:/ {
      sub(/^ *Socket errors: */, ""); n = split($0, kv, /, */); t = 0
      for (i = 1; i <= n; i++) { split(kv[i], f, " "); t += f[2] }
      print t }' "$f")
  WRK_SOCKERR=${WRK_SOCKERR:-0}
}

us_to_ms() { awk -v u="$1" 'BEGIN { if (u == "") print ""; else printf "%.2f", u / 1000 }'; }

machine_line() {
  echo "$(lscpu 2>/dev/null | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null)"
}

load_line() {  # the 1-minute load average and the CPU count: a hint of how noisy the machine was
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
}

tree_commit() {  # the commit measured, "+local changes" when the tree (bench/ aside) differs from it
  echo "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo "+local changes")"
}

# append_results FILE: appends stdin (a markdown section) to FILE, creating it
# (and its folder) when missing. run.sh rewrites <date>.md as a whole, so run it
# first on a day when both are run.
append_results() {
  local f=$1
  mkdir -p "$(dirname "$f")"
  { [[ -s $f ]] && echo; cat; } >>"$f"
}

# publish_report [WHAT]: prints RUNS_DIR/report.md and appends it to BENCH_RESULTS
# (default bench/results/<date>.md); WHAT names what RUNS_DIR holds (default logs).
publish_report() {
  local results=${BENCH_RESULTS:-$BENCH_DIR/results/$(date +%F).md}
  echo
  cat "$RUNS_DIR/report.md"
  append_results "$results" <"$RUNS_DIR/report.md"
  log "appended to $results (${1:-logs}: $RUNS_DIR)"
}
