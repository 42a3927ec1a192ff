#!/usr/bin/env bash
# Configures and builds subhttpd into ./build (or $BUILD_DIR) with Debian's python3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DSUBHTTPD_PYTHON=/usr/bin/python3 "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
