#!/usr/bin/env bash
# Builds the Debian package (CPack, DEB generator) into build-pkg/ (or $BUILD_DIR):
# installed under /usr, stripped, without tests or benchmarks. Prints the .deb's path.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$here/build-pkg}
"$here/scripts/deps.sh" build
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DSUBHTTPD_PYTHON=/usr/bin/python3 \
  -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF -DSUBHTTPD_BENCH=OFF "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
(cd "$build" && cpack -G DEB >/dev/null)
ls -1t "$build"/subhttpd_*.deb | head -n 1
