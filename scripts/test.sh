#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit + end-to-end) with ctest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/deps.sh" test
"$here/scripts/build.sh"
cd "${BUILD_DIR:-$here/build}"
ctest --output-on-failure --timeout 1800 "$@"
