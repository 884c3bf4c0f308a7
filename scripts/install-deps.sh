#!/usr/bin/env bash
# Installs podperf's build and run dependencies from Debian packages.
# Idempotent: returns at once when everything is already present.
set -euo pipefail
pkgs=(g++ make cmake libeigen3-dev libhdf5-dev zlib1g-dev hdf5-tools libcli11-dev doctest-dev
      libtomlplusplus-dev python3-h5py python3-matplotlib python3-dev pybind11-dev python3-pandas
      python3-pil chromium)
if [[ "${PODPERF_MPI:-OFF}" == "ON" ]]; then pkgs+=(libopenmpi-dev openmpi-bin); fi
if [[ "${PODPERF_FUZZ:-OFF}" == "ON" ]]; then pkgs+=(clang libclang-rt-14-dev libomp-14-dev); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} == 0 )); then exit 0; fi
echo "install-deps: installing ${missing[*]}"
sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
