#!/usr/bin/env bash
# Installs what bench/frameworks.py needs on a fresh Debian 12: PyTorch from
# Debian's archive (python3-torch, with the pthread OpenBLAS), and JAX/XLA
# from PyPI in a virtual environment at build/bench-venv that also sees the
# system's packages (torch, numpy).
# Idempotent: packages and modules already present are left alone.
#
# usage: tools/setup-bench.sh   (then: build/bench-venv/bin/python bench/frameworks.py)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/build/bench-venv"

packages=(python3 python3-venv python3-torch libopenblas0-pthread)

source "$root/tools/apt-packages.sh"
install_missing_packages setup-bench "${packages[@]}"

# The system interpreter, not whatever python3 comes first on PATH: Debian's
# torch is installed for /usr/bin/python3 only.
if [ ! -x "$venv/bin/python" ]; then
  echo "setup-bench: creating $venv"
  mkdir -p "$root/build"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi

# numpy stays below 2: Debian's torch 1.13 is built against numpy 1.x.
if "$venv/bin/python" -c "import jax, jaxlib, optax" 2>/dev/null; then
  echo "setup-bench: jax, jaxlib and optax present"
else
  echo "setup-bench: installing jax, jaxlib and optax from PyPI"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    "numpy<2" jax jaxlib optax
fi

"$venv/bin/python" -c "import torch, jax, numpy; print('setup-bench: torch', torch.__version__, '| jax', jax.__version__, '| numpy', numpy.__version__)"
