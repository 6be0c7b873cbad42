#!/usr/bin/env bash
# Installs every system package dlc needs to build, test and train.
# Idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  build-essential cmake ninja-build python3
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools
  libfmt-dev googletest libgtest-dev zlib1g-dev
  clang-format
  dataset-fashion-mnist
)

source "$(dirname "${BASH_SOURCE[0]}")/apt-packages.sh"
install_missing_packages setup "${packages[@]}"

# lit and FileCheck come with llvm-19-tools.
if [ ! -f /usr/lib/llvm-19/build/utils/lit/lit.py ] || [ ! -x /usr/lib/llvm-19/bin/FileCheck ]; then
  echo "setup: llvm-19-tools is installed but lit.py or FileCheck is missing" >&2
  exit 1
fi
