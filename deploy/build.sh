#!/usr/bin/env bash
# Configures and builds vmq into a build directory (default: build/).
#   deploy/build.sh [BUILD_DIR] [extra cmake arguments...]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
shift || true
cmake -S "$src" -B "$build" -G Ninja -DVMQ_WERROR=ON "$@" >/dev/null
ninja -C "$build" >/dev/null
