#!/usr/bin/env bash
# Installs what is missing, builds, and serves samples/ on 127.0.0.1:8080.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/deps.sh" build
"$here/scripts/build.sh"
echo "serving samples/ on http://127.0.0.1:8080/  (Ctrl-C stops)" >&2
exec "${BUILD_DIR:-$here/build}/reactor/subhttpd" run -c "$here/samples/server.toml" "$@"
