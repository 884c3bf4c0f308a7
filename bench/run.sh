#!/usr/bin/env bash
# All benchmarks (`make bench`): engine ns per call and the 16K-GPU training plan search; the training
# bench sweep (bench/sweeps/train-10m.toml, 9.5M points): evaluation alone and end to end at 1 and 2
# threads, the HDF5 write-only floor; `podperf sweep` end to end with its peak RSS at 1M and 9.5M
# points; the plan search through the command line; the DeepSeek decode sweep end to end; the decode
# bench sweep where each TPOT target picks the batch (bench/sweeps/decode-tpot.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
echo "== engine (single thread)"
./$build/bench/podperf_bench
echo "== training bench sweep: evaluation, write-only floor, end to end"
./$build/bench/podperf_bench_sweep
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== podperf sweep end to end (all cores), peak RSS at 1M and 9.5M points"
./$build/podperf sweep bench/sweeps/train-1m.toml -o "$tmp/1m.h5" --quiet
./$build/podperf sweep bench/sweeps/train-10m.toml -o "$tmp/10m.h5" --quiet
echo "== decode bench sweep, TPOT target picking the batch: distinct evaluations/s per core"
./$build/bench/podperf_bench_sweep . bench/sweeps/decode-tpot.toml | grep "every point a distinct plan"
echo "== podperf sweep, 114,480-point decode sweep (configs/sweeps/cm384-vs-nvl72-deepseek.toml)"
./$build/podperf sweep configs/sweeps/cm384-vs-nvl72-deepseek.toml -o "$tmp/decode.h5" --quiet
echo "== estimate --system 2048xhgx-h100 --model llama3-405b --mode train --search"
start=$(date +%s.%N)
./$build/podperf estimate --system 2048xhgx-h100 --model llama3-405b --mode train --search | grep "plan search"
end=$(date +%s.%N)
awk -v a="$start" -v b="$end" 'BEGIN { printf "whole command (load, search, print): %.3f s\n", b - a }'
echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
