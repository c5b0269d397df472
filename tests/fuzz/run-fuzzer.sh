#!/usr/bin/env bash
# run-fuzzer.sh FUZZER CORPUS SECONDS
# Replays every input in CORPUS (seeds and past crashes: each must pass), then
# fuzzes for SECONDS from a scratch copy of the corpus, so the repository is
# not written. A crash fails the run and leaves its input in the fuzzer's
# directory under fuzz-artifacts/: add it to CORPUS once fixed.
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3
name=$(basename "$fuzzer")
artifacts=$(dirname "$fuzzer")/fuzz-artifacts
mkdir -p "$artifacts"
scratch=$(mktemp -d "/tmp/$name.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# Stack traces name functions and lines (clang 19 ships no symbolizer of its own).
if symbolizer=$(command -v llvm-symbolizer-19 || command -v llvm-symbolizer); then
  export ASAN_SYMBOLIZER_PATH=$symbolizer
fi

inputs=("$corpus"/*)
echo "== $name: replaying ${#inputs[@]} inputs from $corpus"
"$fuzzer" -rss_limit_mb=2048 "${inputs[@]}"

echo "== $name: fuzzing for $seconds s"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "$scratch" "$corpus"
