#!/usr/bin/env bash
# Installs the Debian packages subhttpd needs to build and test, when missing.
# Usage: scripts/deps.sh [build|test|fuzz]   (test = build + what the test suite uses;
#        fuzz = build + Debian's clang and its libFuzzer/sanitizer runtimes)
set -euo pipefail

want=(build-essential cmake pkg-config libevent-dev python3-dev libtoml11-dev libsystemd-dev)
if [[ "${1:-build}" == test ]]; then
  want+=(googletest libgtest-dev libbenchmark-dev python3-pytest python3-flask python3-django nginx wrk curl chromium
         python3-numpy python3-lxml python3-yaml)
elif [[ "${1:-build}" == fuzz ]]; then
  want+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}" >&2
sudo=()
if [[ $(id -u) != 0 ]]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
