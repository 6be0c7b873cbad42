#!/usr/bin/env bash
# The whole test suite: builds dlc, then runs the GoogleTest units (ctest)
# and the lit/FileCheck suite (IR round trips, passes, the CLI, bad inputs,
# every example, random mutations of the examples). Prints both runners'
# summaries; exits non-zero if anything failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DLC_BUILD_DIR:-$root/build}"

"$root/tools/build.sh" || { echo "build failed"; exit 1; }

status=0
echo "== ctest"
(cd "$build" && ctest --output-on-failure -j"$(nproc)") || status=1

echo "== lit"
lit=/usr/lib/llvm-19/build/utils/lit/lit.py
if [ -f "$lit" ]; then
  python3 "$lit" -sv "$build/test" || status=1
else
  lit -sv "$build/test" || status=1
fi

if [ "$status" -ne 0 ]; then
  echo "tests FAILED"
else
  echo "all tests passed"
fi
exit "$status"
