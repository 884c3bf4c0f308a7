#!/usr/bin/env bash
# Builds podperf with MPI (-DPODPERF_MPI=ON) and checks that 2- and 3-rank sweeps write the same
# file, byte for byte, as a 1-rank sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
PODPERF_MPI=ON bash scripts/install-deps.sh
cmake -S . -B build-mpi -DCMAKE_BUILD_TYPE=Release -DPODPERF_MPI=ON > /dev/null
cmake --build build-mpi -j "$(nproc)" --target podperf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SOURCE_DATE_EPOCH=1700000000
spec=configs/sweeps/training-4608.toml
run="mpirun --oversubscribe"
[[ $(id -u) -eq 0 ]] && run="$run --allow-run-as-root"
./build-mpi/podperf sweep "$spec" -o "$tmp/one.h5" --quiet --chunk 5000
passed=0 failed=0
for n in 2 3; do
  $run -np $n ./build-mpi/podperf sweep "$spec" -o "$tmp/$n.h5" --quiet --chunk 5000 --threads 1
  if cmp -s "$tmp/one.h5" "$tmp/$n.h5"; then
    passed=$((passed + 1))
  else
    echo "mpi-check: the $n-rank sweep differs from the 1-rank one"
    failed=$((failed + 1))
  fi
done
echo "mpi-check: $passed passed, $failed failed (2- and 3-rank sweeps against the 1-rank file, byte for byte)"
(( failed == 0 ))
