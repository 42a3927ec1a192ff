#!/usr/bin/env bash
# bench/run.sh: one command that installs the peers from Debian, builds subhttpd
# in Release, and measures every target on one pinned core with wrk on the other,
# the repetitions interleaved (round 1: every target, round 2: every target, ...).
# Prints a markdown table and writes it to bench/results/<date>.md.
#
#   bench/run.sh [BUILD_DIR]          (default bench/build)
#
# Environment (all optional):
#   BENCH_DURATION=10    seconds of measured load per target and round
#   BENCH_ROUNDS=3       interleaved rounds; the table shows medians
#   BENCH_WARMUP=2       seconds of unmeasured load before each measurement
#   BENCH_CONNECTIONS=64 BENCH_THREADS=1   wrk -c / -t
#   BENCH_SERVER_CPU=0 BENCH_CLIENT_CPU=1   taskset CPU lists for server and wrk
#   BENCH_ONLY=plain,uwsgi   run only these targets (names: see TARGETS below)
#   BENCH_SKIP=gunicorn-sync skip these targets
#   BENCH_INSTALL=0      never call apt-get (targets whose packages are missing are skipped)
#   BENCH_BUILD=0        do not build; use the binaries already in BUILD_DIR
#   SUBHTTPD_BIN=path    use this subhttpd binary instead of BUILD_DIR/reactor/subhttpd
#   BENCH_VHOSTS=100     number of vhosts (each its own interpreter) for subhttpd-vhosts
#   BENCH_RESULTS=path   where to write the markdown (default bench/results/<date>.md,
#                        <date>-quick.md when the run is shorter than 3 rounds x 10 s)
#
# Every process started here is stopped by PID on exit, also on Ctrl-C or error.
# Only 127.0.0.1 is used.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BUILD_DIR=$(realpath -m "${1:-${BENCH_BUILD_DIR:-$BENCH_DIR/build}}")
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_THREADS:-1}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
CLIENT_CPU=${BENCH_CLIENT_CPU:-1}
VHOSTS=${BENCH_VHOSTS:-100}
START_TIMEOUT=${BENCH_START_TIMEOUT:-30}
APACHE_THREADS=${BENCH_APACHE_THREADS:-64}   # worker threads of the one Apache child
UWSGI_THREADS=${BENCH_UWSGI_THREADS:-64}
PY=/usr/bin/python3   # Debian's python3, never one that happens to be first on PATH

# name | label. The order is the order of the table.
TARGETS=(
  "plain|plain evhttp hello (C, the ceiling)"
  "subhttpd-modpython|subhttpd, mod_python handler"
  "subhttpd-wsgi|subhttpd, WSGI app"
  "subhttpd-static|subhttpd, static file"
  "subhttpd-vhosts|subhttpd, ${VHOSTS} vhosts / ${VHOSTS} interpreters, round-robin"
  "apache-modpython|Apache (event, 1 process x ${APACHE_THREADS} threads) + mod_python"
  "apache-wsgi|Apache (event, 1 process x ${APACHE_THREADS} threads) + mod_wsgi embedded"
  "uwsgi|uWSGI --http11-socket, 1 process x ${UWSGI_THREADS} threads"
  "gunicorn-sync|gunicorn sync, 1 worker (closes every connection)"
  "gunicorn-gthread|gunicorn gthread, 1 worker x 64 threads"
)

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

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

kill_leftovers() {
  local p
  for p in "${KNOWN_PIDS[@]}"; do
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  done
  KNOWN_PIDS=()
}

on_exit() {
  local rc=$?
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
      if timeout 1200 cmake --build "$BUILD_DIR" -j"$(nproc)" --target subhttpd >>"$blog" 2>&1; then
        sub_built=1
      else
        log "subhttpd did not build (see $blog)"
      fi
    else
      log "cmake configure failed (see $blog); building plain_evhttp with cc directly"
    fi
    if [[ ! -x $BUILD_DIR/bench/plain_evhttp ]]; then
      mkdir -p "$BUILD_DIR/bench"
      # shellcheck disable=SC2046
      cc -O2 -Wall -o "$BUILD_DIR/bench/plain_evhttp" "$BENCH_DIR/plain_evhttp.c" \
        $(pkg-config --cflags --libs libevent) >>"$blog" 2>&1 || log "cc plain_evhttp failed"
    fi
  fi
  [[ -x $BUILD_DIR/bench/plain_evhttp ]] && PLAIN_BIN=$BUILD_DIR/bench/plain_evhttp
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

# ---------------------------------------------------------- the targets -----
# start_<target> PORT DIR: start the server in the background (pinned), set
# SERVER_PID, URL_PATH, LUA_SCRIPT and STOP_SIGNAL; return 1 with SKIP_REASON when
# it cannot be run here. The server's stdout+stderr go to DIR/server.log.
APP=$BENCH_DIR/sites/app

spawn() {  # DIR CMD...: start pinned to SERVER_CPU, stdout/stderr to DIR/server.log
  local dir=$1
  shift
  PYTHONDONTWRITEBYTECODE=1 taskset -c "$SERVER_CPU" "$@" >"$dir/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
}

start_plain() {
  [[ -n $PLAIN_BIN ]] || { SKIP_REASON="failed to start: plain_evhttp not built"; return 1; }
  spawn "$2" "$PLAIN_BIN" "$1"
}

subhttpd_spawn() {  # PORT DIR CONFIG
  [[ -z $SUBHTTPD_MISSING ]] || { SKIP_REASON="failed to start: $SUBHTTPD_MISSING"; return 2; }
  STOP_SIGNAL=TERM
  spawn "$2" "$SUBHTTPD" -c "$3" --listen "127.0.0.1:$1"
}
start_subhttpd-modpython() { subhttpd_spawn "$1" "$2" "$BENCH_DIR/sites/modpython/server.toml"; }
start_subhttpd-wsgi() { subhttpd_spawn "$1" "$2" "$BENCH_DIR/sites/wsgi/server.toml"; }
start_subhttpd-static() {
  URL_PATH=/hello.txt
  subhttpd_spawn "$1" "$2" "$BENCH_DIR/sites/static/server.toml"
}
start_subhttpd-vhosts() {
  local dir=$2 i conf=$2/server.toml
  {
    printf '# generated by bench/run.sh: %d sites, each in its own interpreter (its server_name)\n' "$VHOSTS"
    printf '[server]\nlisten = ["127.0.0.1:%s"]\naccess_log = "off"\nerror_log = "-"\nshutdown_grace = 1\n' "$1"
    for ((i = 1; i <= VHOSTS; i++)); do
      printf '\n[[site]]\nserver_name = "v%03d.bench.test"\ndocument_root = "%s"\npython_path = ["%s"]\nhandler = "hello"\n' \
        "$i" "$BENCH_DIR/sites/vhosts/htdocs" "$APP"
    done
  } >"$conf"
  LUA_SCRIPT=$BENCH_DIR/vhosts.lua
  CHECK_HOSTS=("v001.bench.test" "$(printf 'v%03d.bench.test' "$VHOSTS")")
  for ((i = 1; i <= VHOSTS; i++)); do PREPARE_HOSTS+=("$(printf 'v%03d.bench.test' "$i")"); done
  subhttpd_spawn "$1" "$dir" "$conf"
}

apache_conf() {  # PORT DIR: the common part of a self-contained apache2 config
  cat <<EOF
# generated by bench/run.sh: a private apache2 instance, nothing from /etc/apache2
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
# one child process with $APACHE_THREADS worker threads (the load opens $CONNS keep-alive connections)
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

apache_spawn() {  # PORT DIR
  chmod 755 "$2"
  STOP_SIGNAL=TERM
  spawn "$2" /usr/sbin/apache2 -f "$2/httpd.conf" -DFOREGROUND
}

start_apache-modpython() {
  needs_packages apache2 libapache2-mod-python || { SKIP_REASON="skipped: apache2/libapache2-mod-python not available"; return 1; }
  {
    apache_conf "$1" "$2"
    cat <<EOF
LoadModule python_module /usr/lib/apache2/modules/mod_python.so
<Location />
  SetHandler mod_python
  PythonHandler hello
  PythonPath "['$APP'] + sys.path"
</Location>
EOF
  } >"$2/httpd.conf"
  apache_spawn "$1" "$2"
}

start_apache-wsgi() {
  needs_packages apache2 libapache2-mod-wsgi-py3 || { SKIP_REASON="skipped: apache2/libapache2-mod-wsgi-py3 not available"; return 1; }
  {
    apache_conf "$1" "$2"
    cat <<EOF
LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so
WSGIScriptAlias / $APP/hello_wsgi.py
<Directory $APP>
  Require all granted
</Directory>
EOF
  } >"$2/httpd.conf"
  apache_spawn "$1" "$2"
}

start_uwsgi() {
  needs_packages uwsgi uwsgi-plugin-python3 || { SKIP_REASON="skipped: uwsgi/uwsgi-plugin-python3 not available"; return 1; }
  STOP_SIGNAL=INT  # without a master, SIGINT stops uWSGI at once
  spawn "$2" /usr/bin/uwsgi --plugin python3 --http11-socket "127.0.0.1:$1" \
    --processes 1 --threads "$UWSGI_THREADS" --wsgi-file "$APP/hello_wsgi.py" --need-app --disable-logging
}

gunicorn_spawn() {  # PORT DIR ARGS...
  needs_packages gunicorn || { SKIP_REASON="skipped: gunicorn not available"; return 1; }
  local port=$1 dir=$2
  shift 2
  STOP_SIGNAL=TERM
  spawn "$dir" /usr/bin/gunicorn --bind "127.0.0.1:$port" --workers 1 --chdir "$APP" \
    --graceful-timeout 2 --log-level warning "$@" hello_wsgi:application
}
start_gunicorn-sync() { gunicorn_spawn "$1" "$2" --worker-class sync; }
start_gunicorn-gthread() { gunicorn_spawn "$1" "$2" --worker-class gthread --threads 64 --keep-alive 30; }

# ------------------------------------------------------------ measuring -----
RESULTS_TSV=""

record() {  # name round status rps p50us p99us cpu_us_per_req rss_kb requests note
  local IFS=$'\t'
  printf '%s\n' "$*" >>"$RESULTS_TSV"
}

lat_us() {  # "436.00us" / "1.02ms" / "1.5s" -> microseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n
  }'
}

check_response() {  # PORT: 0 when the target answers 200 "Hello, world!"
  local port=$1 host out code
  local hosts=("${CHECK_HOSTS[@]:-127.0.0.1:$port}")
  for host in "${hosts[@]}"; do
    out=$(curl -s --max-time 10 -H "Host: $host" -w '\n%{http_code}' "http://127.0.0.1:$port$URL_PATH" 2>/dev/null)
    code=${out##*$'\n'}
    if [[ $code != 200 || $out != *"Hello, world!"* ]]; then
      CHECK_ERROR="HTTP ${code:-none}"
      ((${#hosts[@]} > 1)) && CHECK_ERROR+=" for Host $host"
      return 1
    fi
  done
}

tail_log() { [[ -f $1 ]] && tail -n 5 "$1" | sed 's/^/    | /' >&2; }

run_one() {  # NAME ROUND
  local name=$1 round=$2 port dir rc
  port=$(free_port)
  dir=$RUNS_DIR/$name.r$round
  mkdir -p "$dir"
  SERVER_PID="" URL_PATH=/ LUA_SCRIPT="" STOP_SIGNAL=TERM SKIP_REASON="" CHECK_ERROR=""
  CHECK_HOSTS=() PREPARE_HOSTS=()
  "start_$name" "$port" "$dir"
  rc=$?
  if ((rc != 0)); then
    log "$name: ${SKIP_REASON}"
    record "$name" "$round" "${SKIP_REASON%%:*}" - - - - - - "${SKIP_REASON#*: }"
    return
  fi
  CURRENT_PID=$SERVER_PID
  local i ready=0
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    if port_open "$port"; then ready=1; break; fi
    sleep 0.1
  done
  if ((!ready)); then
    local why="not listening after ${START_TIMEOUT}s" last
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID" 2>/dev/null
      why="exited with status $?"
    fi
    last=$(grep -v '^[[:space:]]*$' "$dir/server.log" 2>/dev/null | tail -n 1 | tr '|' '/' | cut -c1-160)
    log "$name: failed to start, $why (log: $dir/server.log)"
    tail_log "$dir/server.log"; tail_log "$dir/error.log"
    stop_server "$SERVER_PID" KILL
    CURRENT_PID=""
    record "$name" "$round" "failed to start" - - - - - - "$why${last:+: $last}"
    return
  fi
  if ! check_response "$port"; then
    log "$name: bad response: $CHECK_ERROR"
    tail_log "$dir/server.log"; tail_log "$dir/error.log"
    stop_server "$SERVER_PID" "$STOP_SIGNAL"
    CURRENT_PID=""
    record "$name" "$round" "bad response" - - - - - - "$CHECK_ERROR"
    return
  fi
  if ((${#PREPARE_HOSTS[@]})); then
    # touch every site once, so that creating its interpreter is not measured
    local h
    for h in "${PREPARE_HOSTS[@]}"; do
      curl -s -o /dev/null --max-time 10 -H "Host: $h" "http://127.0.0.1:$port$URL_PATH"
    done
  fi
  local url="http://127.0.0.1:$port$URL_PATH"
  local lua=()
  [[ -n $LUA_SCRIPT ]] && lua=(-s "$LUA_SCRIPT")
  if ((WARMUP > 0)); then
    timeout $((WARMUP + 30)) taskset -c "$CLIENT_CPU" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" "${lua[@]}" "$url" >"$dir/warmup.txt" 2>&1
  fi
  local t0 t1 out=$dir/wrk.txt
  local b0 b1 w0 w1
  b0=$(cpu_busy_ticks "$SERVER_CPU"); w0=$(date +%s%N)
  t0=$(cpu_ticks "$SERVER_PID")
  timeout $((DURATION + 60)) taskset -c "$CLIENT_CPU" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency "${lua[@]}" "$url" >"$out" 2>&1
  t1=$(cpu_ticks "$SERVER_PID")
  b1=$(cpu_busy_ticks "$SERVER_CPU"); w1=$(date +%s%N)
  local rss nproc_
  rss=$(rss_kb "$SERVER_PID")
  nproc_=$(descendants "$SERVER_PID" | wc -l)
  stop_server "$SERVER_PID" "$STOP_SIGNAL"
  CURRENT_PID=""

  local requests rps p50 p99 errs="" non2xx tck cpu
  requests=$(awk '/ requests in / { print $1 }' "$out")
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p50=$(awk '$1 == "50%" { print $2 }' "$out")
  p99=$(awk '$1 == "99%" { print $2 }' "$out")
  if [[ -z $requests || -z $rps || $requests == 0 ]]; then
    log "$name: wrk produced no result"
    sed 's/^/    | /' "$out" >&2
    record "$name" "$round" "no result" - - - - - - "see $out"
    return
  fi
  # only the non-zero counts: "read 533" (a server closing keep-alive connections)
  errs=$(awk '/Socket errors:/ {
      sub(/^ *Socket errors: */, ""); n = split($0, kv, /, */); out = ""
      for (i = 1; i <= n; i++) { split(kv[i], f, " "); if (f[2] + 0 > 0) out = out (out == "" ? "" : ", ") f[1] " errors " f[2] }
      print out }' "$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  local note=""
  [[ -n $non2xx ]] && note="$non2xx non-2xx"
  [[ -n $errs ]] && note="${note:+$note; }$errs"
  tck=$(getconf CLK_TCK)
  # Other processes on the server's CPU make req/s and latency unreliable (CPU per
  # request much less so): say so when they took more than 5% of it.
  local others
  others=$(awk -v b="$((b1 - b0))" -v s="$((t1 - t0))" -v w="$((w1 - w0))" -v t="$tck" '
    BEGIN {
      secs = w / 1e9; if (secs <= 0) exit
      so = (b - s) / t / secs * 100
      if (so > 5) printf "CPU %s %.0f%% busy with other processes", "'"$SERVER_CPU"'", so
    }')
  [[ -n $others ]] && note="${note:+$note; }$others"
  cpu=$(awk -v a="$t0" -v b="$t1" -v t="$tck" -v n="$requests" 'BEGIN { printf "%.2f", (b - a) * 1e6 / t / n }')
  record "$name" "$round" ok "$rps" "$(lat_us "$p50")" "$(lat_us "$p99")" "$cpu" "$rss" "$requests" "$note"
  log "$(printf '%-20s round %d: %9.0f req/s  p50 %-8s p99 %-8s %7s us/req  %6d kB RSS (%d procs) %s' \
    "$name" "$round" "$rps" "$p50" "$p99" "$cpu" "$rss" "$nproc_" "$note")"
}

# ------------------------------------------------------------------ main ----
selected() {  # NAME: 0 when it is to be run
  local n=$1
  if [[ -n ${BENCH_ONLY:-} ]]; then [[ ",$BENCH_ONLY," == *",$n,"* ]] || return 1; fi
  if [[ -n ${BENCH_SKIP:-} ]]; then [[ ",$BENCH_SKIP," == *",$n,"* ]] && return 1; fi
  return 0
}

main() {
  install_packages
  command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
  command -v curl >/dev/null || die "curl is not installed (apt-get install curl)"
  command -v taskset >/dev/null || die "taskset is not installed (util-linux)"
  build

  RUNS_DIR=$BUILD_DIR/bench-runs
  rm -rf "$RUNS_DIR"
  mkdir -p "$RUNS_DIR"
  chmod 755 "$BUILD_DIR" "$RUNS_DIR"
  RESULTS_TSV=$RUNS_DIR/results.tsv
  : >"$RESULTS_TSV"

  local names=() labels=() t
  for t in "${TARGETS[@]}"; do
    selected "${t%%|*}" || continue
    names+=("${t%%|*}")
    labels+=("$t")
  done
  ((${#names[@]})) || die "no target selected (BENCH_ONLY/BENCH_SKIP)"
  local per=$((WARMUP + DURATION + 4))
  log "targets: ${names[*]}"
  log "rounds: $ROUNDS x ${#names[@]} targets x ~${per}s = ~$((ROUNDS * ${#names[@]} * per))s; server on CPU $SERVER_CPU, wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s on CPU $CLIENT_CPU"

  local r i k n=${#names[@]}
  for ((r = 1; r <= ROUNDS; r++)); do
    # rotate the order each round so that no target always runs first or last
    for ((k = 0; k < n; k++)); do
      i=$(((k + r - 1) % n))
      run_one "${names[$i]}" "$r"
    done
  done

  local date results quick=""
  date=$(date +%F)
  if ((ROUNDS < 3 || DURATION < 10)); then quick="-quick"; fi
  results=${BENCH_RESULTS:-$BENCH_DIR/results/$date$quick.md}
  mkdir -p "$(dirname "$results")"

  local machine
  machine="$(lscpu 2>/dev/null | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null)"
  local versions
  versions="python3 $("$PY" -c 'import platform; print(platform.python_version())'), libevent $(pkg-config --modversion libevent 2>/dev/null), apache2 $(pkg_version apache2), mod_python $(pkg_version libapache2-mod-python), mod_wsgi $(pkg_version libapache2-mod-wsgi-py3), uwsgi $(pkg_version uwsgi), gunicorn $(pkg_version gunicorn), wrk $(pkg_version wrk)"

  BENCH_DATE="$(date '+%F %H:%M %Z')" BENCH_MACHINE="$machine" BENCH_VERSIONS="$versions" \
    BENCH_PARAMS="$ROUNDS rounds interleaved, ${DURATION}s each after ${WARMUP}s warm-up; server pinned to CPU $SERVER_CPU, \`wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency\` pinned to CPU $CLIENT_CPU; keep-alive" \
    "$PY" "$BENCH_DIR/report.py" "$RESULTS_TSV" "${labels[@]}" >"$results.tmp" || die "report failed"
  mv "$results.tmp" "$results"
  echo
  cat "$results"
  echo
  log "written to $results (raw: $RESULTS_TSV, logs: $RUNS_DIR)"
}

main "$@"
