// Where the tests find the repository (for the docs and Rust sources they compare against) and
// the daemon they drive.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The prodcode checkout this extension lives in (editors/vscode two levels down). */
export const REPO_ROOT = ((): string => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'Cargo.toml')) || !fs.existsSync(path.join(dir, 'docs', 'lsp-extensions.md'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no prodcode checkout above ${__dirname}`);
    }
    dir = parent;
  }
  return dir;
})();

export function readRepo(relative: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}

/**
 * The daemon binary: `PRODCODE_BIN` (the Rust test `tests/it/vscode.rs` passes cargo's), else
 * the checkout's debug build. A missing one is an error that says how to build it.
 */
export function prodcodeBinary(): string {
  const binary = process.env.PRODCODE_BIN ?? path.join(REPO_ROOT, 'target', 'debug', 'prodcode');
  if (!fs.existsSync(binary)) {
    throw new Error(`no prodcode binary at ${binary}: run \`cargo build\` at ${REPO_ROOT}, or set PRODCODE_BIN`);
  }
  return binary;
}
