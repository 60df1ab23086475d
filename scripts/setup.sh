#!/usr/bin/env bash
# Installs every Debian package sammpa needs to build, test and benchmark. Idempotent: when everything is
# already installed it only checks and returns in about a second.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev                 # neural-network primitives (SAM engine)
  libinsighttoolkit5-dev libgdcm-tools  # medical image I/O and registration (tools: GDCM cmake targets need them)
  libopencv-dev               # 2-D image operations
  libcli11-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-torch python3-torchvision python3-numpy python3-pil python3-opencv python3-pip   # reference implementations (tests only)
  libopenblas0-pthread        # BLAS for the PyTorch reference (Debian's default reference BLAS is ~10x slower)
  unzip libfftw3-dev         # ITK links FFTW
  pybind11-dev python3-dev python3-venv python3-setuptools python3-wheel   # the Python package (python/)
  chromium                    # the report's browser test (tests/report/browser_check.py)
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi
