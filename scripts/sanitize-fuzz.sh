#!/usr/bin/env bash
# Builds podperf with clang under AddressSanitizer and UndefinedBehaviorSanitizer, runs the whole test
# suite under them, then runs each libFuzzer target for FUZZ_SECONDS (default 60) on its corpus.
# The OpenMP sweep is covered by the determinism tests (same file for 1 and 2 threads). The Python
# module is left out: a sanitized extension cannot load into Debian's unsanitized interpreter. The
# four end-to-end tests that replay the README, the tutorial, 200 random scenarios through every
# front end and the grid of adversarial flag values (hundreds to thousands of whole-command runs
# each) run in the plain build of `make test`; under the sanitizers the command paths are exercised
# by the CLI tests, the bad-input corpus and the fuzz targets (fuzz_flags runs the command line
# in-process on adversarial values). The calibration's leave-one-out refits, the writers' property
# test and the mutated-hwdb sweep also run in the plain build only: each takes over 500 s under the
# sanitizers (where they pass) and replays code the other tests cover. A fuzz input may take tens of
# seconds on a slow machine (a whole training plan search under ASan), so a hang is one that runs
# past 300 s.
set -euo pipefail
cd "$(dirname "$0")/.."
PODPERF_FUZZ=ON bash scripts/install-deps.sh
seconds=${FUZZ_SECONDS:-60}
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
      -DPODPERF_SANITIZE=address,undefined -DPODPERF_FUZZ=ON -DPODPERF_PYTHON=OFF > /dev/null
cmake --build build-san -j "$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-san && ctest --output-on-failure -j "$(nproc)" -E "README commands|tutorial commands|one scenario, one answer|adversarial flag|every writer against|calibration reproduces|calibrate --write replaces|mutated copies")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in fuzz_loaders fuzz_estimate fuzz_sweep fuzz_flags; do
  cp -r "tests/fuzz/corpus/$target" "$work/$target"
  log="$work/$target.log"
  mkdir -p build-san/fuzz-artifacts
  if ./build-san/fuzz/$target "$work/$target" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=300 \
       -artifact_prefix=build-san/fuzz-artifacts/$target- \
       -print_final_stats=1 > "$log" 2>&1; then
    runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz: $target ran ${seconds}s, $runs inputs, no crash"
  else
    tail -40 "$log"
    echo "fuzz: $target found a crash (input in build-san/fuzz-artifacts; add it to tests/fuzz/corpus/$target once fixed)"
    exit 1
  fi
done
echo "sanitize-fuzz: the ASan/UBSan test suite and 4 libFuzzer targets passed"
