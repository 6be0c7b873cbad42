#!/usr/bin/env bash
# Installs what dlc needs (tools/setup.sh), then configures and builds it
# into build/ (or $DLC_BUILD_DIR). Incremental: a second run rebuilds only
# what changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DLC_BUILD_DIR:-$root/build}"

"$root/tools/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
ninja -C "$build" -j"$(nproc)"
