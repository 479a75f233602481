#!/usr/bin/env bash
# Regenerate the pip locks from pyproject.toml: every package of the install, transitive ones included,
# at an exact version with its hashes, for Linux x86_64 and Python 3.11 (docs/environment.md).
#
#   bash requirements/compile.sh                      # needs PyPI and download.pytorch.org
#   bash requirements/compile.sh --find-links DIR    # torch's CPU wheel from DIR instead of PyTorch's index
#
# lock-cpu.txt  : the CPU build of torch (torch==X+cpu, from https://download.pytorch.org/whl/cpu)
# lock-cuda.txt : the CUDA build of torch as PyPI ships it for Linux (with its nvidia-* wheels)
# Both pin every other package to the same version (tests/test_envs.py checks it). The tool is uv,
# pinned in pyproject.toml's dev extra. Afterwards, bring envs/*.yaml to the new versions: the test
# names every line that disagrees.
set -euo pipefail
cd "$(dirname "$0")/.."
torch_cpu=(--torch-backend cpu)
if [ "${1:-}" = "--find-links" ] && [ -n "${2:-}" ]; then
    torch_cpu=(--find-links "$2")
elif [ $# -gt 0 ]; then
    echo "usage: bash requirements/compile.sh [--find-links DIR]" >&2
    exit 2
fi
common=(pyproject.toml --extra dev --generate-hashes --python-version 3.11
        --python-platform x86_64-manylinux_2_28 --index-url https://pypi.org/simple --no-progress)
export UV_CUSTOM_COMPILE_COMMAND="bash requirements/compile.sh"
uv pip compile "${common[@]}" "${torch_cpu[@]}" -o requirements/lock-cpu.txt
uv pip compile "${common[@]}" -o requirements/lock-cuda.txt
