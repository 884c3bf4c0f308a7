#!/usr/bin/env bash
# Builds podperf with MPI (-DPODPERF_MPI=ON) and checks that a 2-rank sweep writes the same file,
# byte for byte, as a 1-rank sweep.
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
$run -np 2 ./build-mpi/podperf sweep "$spec" -o "$tmp/two.h5" --quiet --chunk 5000 --threads 1
if cmp -s "$tmp/one.h5" "$tmp/two.h5"; then
  echo "mpi-check: 1 passed, 0 failed (2-rank sweep identical to 1-rank)"
else
  echo "mpi-check: 0 passed, 1 failed (2-rank sweep differs from 1-rank)"
  exit 1
fi
