#!/usr/bin/env bash
# Builds vmq's libFuzzer targets with clang 19 into a build directory
# (default: build-fuzz/) and runs each: its corpus replayed, then SECONDS
# (default 60) of fuzzing. Needs clang-19 and libclang-rt-19-dev
# (deploy/install-deps.sh installs them).
#   deploy/fuzz.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-fuzz}
seconds=${2:-60}
CC=clang-19 CXX=clang++-19 cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVMQ_BUILD_TESTS=OFF -DVMQ_FUZZ=ON -DVMQ_FUZZ_SECONDS="$seconds" >/dev/null
ninja -C "$build" fuzz_control_request fuzz_config fuzz_state_file fuzz_migration_document >/dev/null
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -L fuzz
