#!/usr/bin/env bash
# Run on a machine WITH a package registry: downloads the Debian packages that the GPU check needs
# and a bare GPU machine may lack into .deps/ (git-ignored), to be carried there and unpacked by
# bench/gpu_check.sh into .deps/prefix (never into /); and into .deps/wheels the torchode peer with
# what it needs beside PyTorch (pure Python; gpu_check.sh installs them into .deps/site for the
# peers alone: torchtyping wants typeguard 2, which would shadow a newer one).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps
cd .deps
rm -rf prefix site  # unpacked there, not carried from here
apt-get download googletest libgtest-dev libcli11-dev libeigen3-dev libbenchmark-dev \
  libbenchmark1debian nlohmann-json3-dev libopenblas-dev libopenblas-pthread-dev \
  libopenblas0-pthread libgfortran5 libquadmath0 2>&1 | grep -v '^Get:' || true
ls -1 ./*.deb
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest wheels \
  torchode==1.0.1 torchtyping==0.1.5 typeguard==2.13.3
ls -1 wheels/*.whl
