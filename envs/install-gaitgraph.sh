#!/usr/bin/env bash
# Shared body of envs/*.post-deploy.sh: install this checkout's gaitgraph package into the freshly
# created conda env. --no-deps: every dependency comes pinned from conda-forge (pip must not replace
# conda's pytorch); editable, so the env follows the checkout.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -f "$repo/pyproject.toml" ]; then
    echo "post-deploy: cannot find the gaitgraph checkout (looked in $repo)" >&2
    exit 1
fi
python -m pip install --no-deps --no-build-isolation --editable "$repo"
