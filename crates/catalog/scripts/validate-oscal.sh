#!/usr/bin/env bash
# Export every embedded catalog as OSCAL JSON and validate it with compliance-trestle.
# Network: PyPI only (pip install compliance-trestle). Run from anywhere in the repository.
# Env: PYTHON (default python3), VENV (default target dir .../oscal-venv), CARGO_TARGET_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="${VENV:-$target/oscal-venv}"
out="$target/oscal-export"

if [ ! -x "$venv/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet compliance-trestle
fi
rm -rf "$out" && mkdir -p "$out"
(cd "$root" && AIRISK_OSCAL_OUT="$out" CARGO_TARGET_DIR="$target" \
  cargo test --quiet -p airisk-catalog --test oscal write_exports_when_asked)
"$venv/bin/python" "$here/validate_oscal.py" "$out"/*.json
