#!/bin/bash
# The task's own solution (prodcode's `gold` agent): applies solution.patch to the repository at
# $PRODCODE_APP_DIR (default /app).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "${PRODCODE_APP_DIR:-/app}"
if [ -s "$here/solution.patch" ]; then
  git apply --whitespace=nowarn "$here/solution.patch"
fi
