#!/usr/bin/env bash
# Installs the third-party programs the tests drive, into target/ci-tools (idempotent):
# - a Python venv with the official MCP SDK (the real MCP client), pytest, coverage.py and ruff;
# - pyright, typescript and typescript-language-server from npm (real checkers and servers);
# - Claude Code, Codex, Gemini CLI and Copilot CLI from npm (the real agent CLIs whose hooks
#   prodcode records).
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

echo "$tools/venv/bin:$tools/node/node_modules/.bin:$tools/agents/node_modules/.bin"
