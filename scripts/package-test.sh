#!/usr/bin/env bash
# CI smoke test of the Debian package: builds it, installs it with dpkg, and uses
# only what it installed (no source tree): subhttpd --version, subhttpd init in a
# temporary folder, a run on a free loopback port, one request with curl, a stop
# by PID; then systemd-analyze verify of the installed units, and dpkg -r.
# Exits non-zero on any failure. Needs root (dpkg -i).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/deps.sh" build
command -v curl >/dev/null || { apt-get install -y -qq --no-install-recommends curl; }

deb=$("$here/scripts/package.sh" | tail -n 1)
echo "package-test: $deb" >&2
dpkg-deb --info "$deb" | sed -n '/Depends/p' >&2

work=$(mktemp -d)
pid=""
installed=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  if [[ -n $installed ]]; then
    dpkg -r subhttpd >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package-test: FAIL: $*" >&2; [[ -f $work/log ]] && sed 's/^/  log: /' "$work/log" >&2; exit 1; }

dpkg -i "$deb" >/dev/null || fail "dpkg -i $deb"
installed=1
for f in /usr/bin/subhttpd /usr/share/subhttpd/python/subhttpd_runtime/__init__.py /usr/share/subhttpd/python/mod_python/apache.py \
         /usr/share/man/man1/subhttpd.1.gz /usr/share/bash-completion/completions/subhttpd \
         /usr/lib/systemd/system/subhttpd.service /usr/lib/systemd/system/subhttpd.socket \
         /usr/share/doc/subhttpd/samples/server.toml; do
  [[ -e $f ]] || fail "the package did not install $f"
done

# Run from an empty folder with a clean environment: nothing may come from the source tree.
cd "$work"
version=$(env -i PATH=/usr/bin:/bin /usr/bin/subhttpd --version) || fail "subhttpd --version"
echo "$version" >&2
grep -q '^subhttpd ' <<<"$version" || fail "--version: no subhttpd line"
grep -q '^Python 3\.' <<<"$version" || fail "--version: no Python line"
grep -q '^libevent 2\.' <<<"$version" || fail "--version: no libevent line"

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
env -i PATH=/usr/bin:/bin /usr/bin/subhttpd init "$work/site" --listen "127.0.0.1:$port" >/dev/null \
  || fail "subhttpd init"
env -i PATH=/usr/bin:/bin HOME="$work" /usr/bin/subhttpd run -c "$work/site/server.toml" >"$work/log" 2>&1 &
pid=$!
body=""
for _ in $(seq 100); do
  if body=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/app/hello" 2>/dev/null); then
    break
  fi
  kill -0 "$pid" 2>/dev/null || fail "subhttpd exited before serving"
  sleep 0.1
done
[[ -n $body ]] || fail "no answer from http://127.0.0.1:$port/app/hello"
echo "package-test: GET /app/hello -> $(head -c 80 <<<"$body")" >&2
grep -q "Hello from" <<<"$body" || fail "unexpected body: $body"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[[ $status == 0 ]] || fail "subhttpd exited with $status after SIGTERM"

# The installed units: systemd-analyze works offline, without a running systemd.
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify /usr/lib/systemd/system/subhttpd.service /usr/lib/systemd/system/subhttpd.socket 2>&1) \
    || fail "systemd-analyze verify: $out"
  # Warnings about other units on this machine are not ours.
  ours=$(grep -i 'subhttpd' <<<"$out" || true)
  [[ -z $ours ]] || fail "systemd-analyze verify: $ours"
  echo "package-test: systemd-analyze verify: clean" >&2
else
  echo "package-test: SKIP systemd-analyze verify: systemd-analyze is not installed" >&2
fi

cd /
dpkg -r subhttpd >/dev/null || fail "dpkg -r subhttpd"
installed=""
[[ ! -e /usr/bin/subhttpd ]] || fail "/usr/bin/subhttpd is still there after dpkg -r"
echo "package-test: OK" >&2
