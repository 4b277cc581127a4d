// The bundle the .vsix ships (dist/extension.js, written by esbuild) loads and exports the
// extension's entry points. VS Code's `vscode` module does not exist outside the editor, so a
// stand-in answers every property with a harmless function; loading is what is tested, not
// the editor behaviour.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { test } from 'node:test';

const bundle = path.join(__dirname, '..', '..', 'dist', 'extension.js');

function standIn(): unknown {
  const handler: ProxyHandler<() => void> = {
    get: (_target, property) => (property === Symbol.toPrimitive ? () => '' : standIn()),
    apply: () => standIn(),
    construct: () => standIn() as object,
  };
  return new Proxy(function () {}, handler);
}

test('the bundle loads without node_modules and exports activate and deactivate', () => {
  assert.ok(fs.existsSync(bundle), `${bundle} is missing: run \`npm run bundle\``);
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = (request: string, ...rest: unknown[]) => {
    if (request === 'vscode') {
      return standIn();
    }
    assert.ok(!request.startsWith('vscode-languageclient'), 'the bundle requires vscode-languageclient at run time');
    return load(request, ...rest);
  };
  try {
    // The bundle is CommonJS, as VS Code loads it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(bundle) as { activate?: unknown; deactivate?: unknown };
    assert.equal(typeof loaded.activate, 'function');
    assert.equal(typeof loaded.deactivate, 'function');
  } finally {
    loader._load = load;
  }
});
