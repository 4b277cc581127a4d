#!/usr/bin/env bash
# Installs the third-party programs the tests drive, into target/ci-tools (idempotent):
# - a Python venv with the official MCP SDK (the real MCP client), pytest, coverage.py and ruff;
# - pyright, typescript and typescript-language-server from npm (real checkers and servers);
# - Claude Code, Codex, Gemini CLI and Copilot CLI from npm (the real agent CLIs whose hooks
#   prodcode records);
# - the harbor package (the Harbor task format `prodcode export harbor` writes), in a venv of its
#   own on Python >= 3.12, run as `harbor-python`;
# - the VS Code extension's npm dependencies, in editors/vscode/node_modules.
# Prints the directories to put on PATH. Only the package registries are contacted.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/target/ci-tools"
mkdir -p "$tools"

if [ ! -x "$tools/venv/bin/python" ] || ! "$tools/venv/bin/python" -c 'import mcp, pytest, coverage' 2>/dev/null \
   || [ ! -x "$tools/venv/bin/ruff" ]; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check 'mcp>=1.9,<2' 'pytest>=8,<9' 'coverage>=7,<8' 'ruff>=0.6,<1' >&2
fi

if [ ! -x "$tools/node/node_modules/.bin/pyright-langserver" ] \
   || [ ! -x "$tools/node/node_modules/.bin/typescript-language-server" ] \
   || [ ! -x "$tools/node/node_modules/.bin/tsc" ]; then
  mkdir -p "$tools/node"
  npm install --silent --no-audit --no-fund --prefix "$tools/node" \
    pyright@1 typescript@5 typescript-language-server@4 >&2
fi

# The real agent CLIs the capture tests drive against a scripted model server on loopback.
# Pinned; their native binaries come as npm optional dependencies of these packages.
if [ ! -x "$tools/agents/node_modules/.bin/claude" ] || [ ! -x "$tools/agents/node_modules/.bin/codex" ] \
   || ! "$tools/agents/node_modules/.bin/claude" --version 2>/dev/null | grep -q '^2\.1\.332' \
   || ! "$tools/agents/node_modules/.bin/codex" --version 2>/dev/null | grep -q '0\.171\.0' \
   || ! "$tools/agents/node_modules/.bin/gemini" --version 2>/dev/null | grep -q '^0\.61\.0' \
   || ! "$tools/agents/node_modules/.bin/copilot" --version 2>/dev/null | grep -q ' 1\.0\.102'; then
  mkdir -p "$tools/agents"
  npm install --silent --no-audit --no-fund --prefix "$tools/agents" \
    @anthropic-ai/claude-code@2.1.332 @openai/codex@0.171.0 @google/gemini-cli@0.61.0 \
    @github/copilot@1.0.102 >&2
fi

# The VS Code extension's own dependencies (TypeScript, eslint, esbuild, vsce,
# vscode-languageclient), exactly as its package-lock.json pins them, into editors/vscode/node_modules
# where node resolves them. `npm ci` runs again only when the lock file changed since the last one
# (about 20 s with npm's cache warm); tests/it/vscode.rs then builds, lints, tests and packages it.
vscode="$PWD/editors/vscode"
lock_sum=$(sha256sum "$vscode/package-lock.json" | cut -d' ' -f1)
if [ ! -x "$vscode/node_modules/.bin/vsce" ] || [ "$(cat "$vscode/node_modules/.prodcode-lock" 2>/dev/null)" != "$lock_sum" ]; then
  (cd "$vscode" && npm ci --silent --no-audit --no-fund >&2)
  echo "$lock_sum" > "$vscode/node_modules/.prodcode-lock"
fi

# Harbor needs Python >= 3.12 (every release says so); the machine's python3 is 3.11, so a newer
# interpreter of pyenv's or on PATH is used. Only what its task model and linter import is
# installed (harbor itself without dependencies: its full set, litellm and cloud SDKs, takes
# minutes and half a gigabyte, and the tests never start a trial).
harbor_ok() {
  [ -x "$tools/bin/harbor-python" ] && "$tools/bin/harbor-python" -c \
    'import harbor.lint.task, importlib.metadata as m; assert m.version("harbor") == "0.26.0"' 2>/dev/null
}
if ! harbor_ok; then
  python=""
  for candidate in python3.14 python3.13 python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      python="$candidate"
      break
    fi
  done
  if [ -n "$python" ]; then
    rm -rf "$tools/harbor"
    "$python" -m venv "$tools/harbor"
    "$tools/harbor/bin/pip" install --quiet --disable-pip-version-check \
      'pydantic>=2.14,<3' 'toml>=0.10' 'pathspec>=1' 'shortuuid>=1' 'packaging>=25' >&2
    "$tools/harbor/bin/pip" install --quiet --disable-pip-version-check --no-deps 'harbor==0.26.0' >&2
    mkdir -p "$tools/bin"
    printf '#!/bin/sh\nexec "%s" "$@"\n' "$tools/harbor/bin/python" > "$tools/bin/harbor-python"
    chmod +x "$tools/bin/harbor-python"
  else
    echo "tools.sh: no Python >= 3.12 found: the harbor package is not installed" >&2
  fi
fi

echo "$tools/venv/bin:$tools/node/node_modules/.bin:$tools/agents/node_modules/.bin:$tools/bin"
