#!/bin/sh
# Installs the build and test dependencies, builds with PRESET (default
# debug: gcc; asan: clang with ASan+UBSan and libFuzzer), and runs every
# test with ctest. Exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
preset="${1:-debug}"
./packaging/install-deps.sh --test
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset" -j 2
