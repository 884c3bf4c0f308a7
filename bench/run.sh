#!/usr/bin/env bash
# All benchmarks: engine ns per call, sweep rates (1 and 2 threads, HDF5 floor, end to end), and
# peak RSS of `podperf sweep` at 1M and 11.4M points.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
./$build/bench/podperf_bench
./$build/bench/podperf_bench_sweep
tmp=$(mktemp -d)
./$build/podperf sweep configs/sweeps/cm384-vs-nvl72-deepseek.toml -o "$tmp/1m.h5" --quiet
./$build/podperf sweep bench/sweeps/bench-10m.toml -o "$tmp/10m.h5" --quiet
rm -rf "$tmp"
