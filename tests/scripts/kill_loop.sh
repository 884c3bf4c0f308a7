#!/usr/bin/env bash
# Kill loop: runs a sweep, SIGKILLs it at a random instant, continues it with --resume, and so on
# until a run finishes; KILLS kills in all. Every finished file must equal (byte for byte) the file of
# an uninterrupted run, a refused --resume must leave OUT.part byte-identical, and no temporary may
# be left behind once a run has finished (a run removes what killed writers left). A refused resume of a journal killed before its first record starts over.
#   tests/scripts/kill_loop.sh PODPERF_BINARY [KILLS]   (PODPERF_HWDB: the hwdb; default the source's)
set -euo pipefail
set +m
bin=$(realpath "$1")
kills=${2:-500}
src=$(cd "$(dirname "$0")/../.." && pwd)
export PODPERF_HWDB=${PODPERF_HWDB:-$src/hwdb} SOURCE_DATE_EPOCH=1700000000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > b.toml <<'SPEC'
id = "b"
description = "kill loop"
[axes]
system = ["gb200-nvl72", "cloudmatrix-384"]
model = ["llama3-70b", "deepseek-v3"]
tp = [1, 2, 4, 8]
batch = { from = 1, to = 256, scale = "log2" }
seq_in = [1024, 2048, 4096, 8192]
electricity_usd_kwh = { from = 0.002, to = 0.3, step = 0.002 }
SPEC
sweep_to() { local out=$1; shift; "$bin" sweep b.toml -o "$out" --quiet --threads "${threads:-1}" --chunk 2000 "$@"; }
sweep() { sweep_to out.h5 "$@"; }
sweep_to ref.h5 > /dev/null
# The time a whole run takes bounds the instants the kills are drawn from.
t0=$(date +%s%N); sweep > /dev/null; t1=$(date +%s%N); rm -f out.h5
span_us=$(( (t1 - t0) / 1000 + 20000 ))
done_kills=0 finished=0 refused=0 fresh=0 resumed=0
while (( done_kills < kills )); do
  threads=$(( RANDOM % 2 + 1 ))
  args=()
  [[ -e out.h5.part ]] && { args=(--resume); cp out.h5.part before.part; }
  "$bin" sweep b.toml -o out.h5 --quiet --threads "$threads" --chunk 2000 "${args[@]}" > run.out 2> run.err &
  pid=$!
  sleep "$(awk -v r=$RANDOM -v s=$span_us 'BEGIN { printf "%.6f", r / 32768 * s / 1e6 }')"
  kill -9 "$pid" 2>/dev/null || true
  set +e
  wait "$pid" 2>/dev/null
  rc=$?
  set -e
  if (( rc == 137 )); then
    done_kills=$((done_kills + 1))
    continue
  fi
  if (( rc == 2 )); then
    if [[ ${#args[@]} -gt 0 ]]; then
      cmp -s before.part out.h5.part || { echo "kill_loop: a refused --resume altered out.h5.part: $(cat run.err)"; exit 1; }
      grep -q "killed before its first checkpoint" run.err || { echo "kill_loop: unexpected refusal: $(cat run.err)"; exit 1; }
      refused=$((refused + 1))
      rm -f out.h5.part  # nothing checkpointed: start over
      continue
    fi
    echo "kill_loop: a fresh run failed: $(cat run.err)"
    exit 1
  fi
  if (( rc != 0 )); then echo "kill_loop: exit $rc: $(cat run.err)"; exit 1; fi
  cmp -s ref.h5 out.h5 || { echo "kill_loop: the finished file differs from an uninterrupted run's"; exit 1; }
  [[ -e out.h5.part ]] && { echo "kill_loop: out.h5.part left after a finished run"; exit 1; }
  finished=$((finished + 1))
  [[ ${#args[@]} -gt 0 ]] && resumed=$((resumed + 1)) || fresh=$((fresh + 1))
  rm -f out.h5
done
# The last kill may have hit a run while it built OUT in its temporary: the next run removes what a
# killed writer left (SIGKILL gives no writer a chance to), so finish the sweep once more first.
if [[ -e out.h5.part ]]; then
  cp out.h5.part before.part
  set +e
  "$bin" sweep b.toml -o out.h5 --quiet --threads 1 --chunk 2000 --resume > run.out 2> run.err
  rc=$?
  set -e
  if (( rc == 2 )) && grep -q "killed before its first checkpoint" run.err; then
    cmp -s before.part out.h5.part || { echo "kill_loop: a refused --resume altered out.h5.part: $(cat run.err)"; exit 1; }
    rm -f out.h5.part
    sweep > /dev/null
  elif (( rc != 0 )); then
    echo "kill_loop: the final --resume exited $rc: $(cat run.err)"
    exit 1
  fi
  cmp -s ref.h5 out.h5 || { echo "kill_loop: the finished file differs from an uninterrupted run's"; exit 1; }
  finished=$((finished + 1))
  rm -f out.h5
fi
stray=$(ls | grep -c '\.tmp-' || true)
(( stray == 0 )) || { echo "kill_loop: $stray temporaries left: $(ls)"; exit 1; }
echo "kill_loop: $done_kills SIGKILLs, $finished finished files identical to an uninterrupted run ($resumed after --resume, $fresh fresh), $refused refused resumes of a journal without a record left untouched"
