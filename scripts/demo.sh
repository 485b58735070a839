#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job on the built-in synthetic graph.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/launcher/kgrec demo "$@"
