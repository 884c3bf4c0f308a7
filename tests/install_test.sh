#!/usr/bin/env bash
# cmake --install into an empty prefix; the installed binary, its man page, bash completion and
# Python module work from another directory, with the data found relative to the prefix.
# Usage: install_test.sh BUILD_DIR PYTHON
set -euo pipefail
build=$1
python=$2
prefix=$(mktemp -d /tmp/podperf-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
unset PODPERF_HWDB PODPERF_CONFIGS
cd /
test -x "$prefix/bin/podperf"
test -d "$prefix/share/podperf/hwdb/chips"
test -s "$prefix/share/man/man1/podperf.1"
test -s "$prefix/share/bash-completion/completions/podperf"
"$prefix/bin/podperf" compare cloudmatrix-384 gb200-nvl72 --samples 20 >"$prefix/compare.txt"
grep -q "tokens/s per system" "$prefix/compare.txt"
# The data comes from the prefix, not from the source tree.
"$prefix/bin/podperf" hwdb check | grep -q "($prefix/share/podperf/hwdb)"
"$prefix/bin/podperf" validate >/dev/null
bash -c "source '$prefix/share/bash-completion/completions/podperf' && complete -p podperf" | grep -q _podperf
if [[ -d "$prefix/lib/python3/dist-packages/podperf" ]]; then
  PYTHONPATH="$prefix/lib/python3/dist-packages" "$python" -c "
import podperf
c = podperf.compare('cloudmatrix-384', 'gb200-nvl72', samples=0)
assert c['rows'][0]['a'] == 384, c['rows'][0]
h = podperf.run('hwdb', 'check')
assert '$prefix/share/podperf/hwdb' in h, h
"
fi
echo "install OK: $prefix"
