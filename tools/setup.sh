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

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all system packages present"
fi

# lit and FileCheck come with llvm-19-tools.
if [ ! -f /usr/lib/llvm-19/build/utils/lit/lit.py ] || [ ! -x /usr/lib/llvm-19/bin/FileCheck ]; then
  echo "setup: llvm-19-tools is installed but lit.py or FileCheck is missing" >&2
  exit 1
fi
