#!/usr/bin/env bash
# Runs once, inside the new env, after Snakemake creates it (--sdm conda).
set -euo pipefail
bash "$(dirname "$0")/install-gaitgraph.sh"
