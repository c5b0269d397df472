#!/usr/bin/env bash
# Installs the dependencies, builds vmq and runs every test tier:
#   unit (no root), bpf (BPF_PROG_TEST_RUN), integration (network namespaces),
# then the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer,
# then a bounded run of every fuzz target (deploy/fuzz.sh).
# Root-only tests skip with a reason when not run as root.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)

if [[ $(id -u) -eq 0 ]]; then
  "$src/deploy/install-deps.sh"
else
  echo "run-tests: not root: dependencies not installed, bpf and integration tests will skip" >&2
fi

jobs=$(nproc)
echo "== build"
"$src/deploy/build.sh" "$src/build"
echo "== tests: unit, bpf, integration"
ctest --test-dir "$src/build" --output-on-failure -j "$jobs" -L 'unit|bpf'
ctest --test-dir "$src/build" --output-on-failure -L integration

echo "== build with ASan+UBSan"
"$src/deploy/build.sh" "$src/build-asan" -DVMQ_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
echo "== unit tests under ASan+UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$src/build-asan" --output-on-failure -j "$jobs" -L unit
echo "== fuzzing: each target's corpus replayed, then 60 s of fuzzing (clang 19, ASan+UBSan)"
"$src/deploy/fuzz.sh" "$src/build-fuzz" 60
echo "== all tests passed"
