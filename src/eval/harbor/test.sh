#!/bin/bash
# prodcode's verifier for one exported task (docs/eval.md, "Harbor"): grade.py puts test files and
# test infrastructure back, applies test.patch, runs exactly the task's fail-to-pass and
# pass-to-pass tests and writes the reward. The reward is 0 until grade.py says otherwise, so a
# crash or a missing interpreter is never a pass.
# $PRODCODE_APP_DIR (default /app) and $PRODCODE_VERIFIER_DIR (default /logs/verifier) move it.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
logs="${PRODCODE_VERIFIER_DIR:-/logs/verifier}"
mkdir -p "$logs"
echo 0 > "$logs/reward.txt"
"${PRODCODE_PYTHON:-python3}" "$here/grade.py" || echo "prodcode verifier: grade.py failed; the reward stays 0" >&2
exit 0
