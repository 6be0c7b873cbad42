#!/usr/bin/env bash
# The main job: build dlc, then show what it makes of an example model.
# (Training arrives with code generation; until then the job prints the
# model's summary and its verified `dl` IR.)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DLC_BUILD_DIR:-$root/build}"
model="${1:-$root/examples/fashion_cnn.dl}"

"$root/tools/build.sh"
echo "== dlc summary $model"
"$build/bin/dlc" summary "$model"
echo "== dlc compile --emit=ir $model"
"$build/bin/dlc" compile --emit=ir "$model"
