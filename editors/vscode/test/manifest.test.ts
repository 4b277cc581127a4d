// package.json against the code: every contributed command is registered by src/extension.ts
// and every registered one is contributed, and the settings' defaults are the code's.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { DEFAULT_AI_SOURCES } from '../src/config';

const here = path.join(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8')) as {
  main: string;
  engines: { vscode: string };
  contributes: {
    commands: { command: string }[];
    keybindings: { command: string }[];
    configuration: { properties: Record<string, { default: unknown }> };
  };
};
const source = fs.readFileSync(path.join(here, 'src', 'extension.ts'), 'utf8');

test('contributed commands and registered commands are the same', () => {
  const registered = [...source.matchAll(/command\('(prodcode\.\w+)'/g)].map((m) => m[1]).sort();
  const contributed = manifest.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(contributed, registered);
  for (const binding of manifest.contributes.keybindings) {
    assert.ok(registered.includes(binding.command), binding.command);
  }
});

test('settings defaults are the code\'s, and each setting the code reads is declared', () => {
  const properties = manifest.contributes.configuration.properties;
  assert.deepEqual(properties['prodcode.aiSources'].default, DEFAULT_AI_SOURCES);
  const read = [...source.matchAll(/config\.get<[^>]+>\('(\w+)'/g)].map((m) => `prodcode.${m[1]}`).sort();
  assert.deepEqual(Object.keys(properties).sort(), read);
});

test('the manifest points at the bundle esbuild writes', () => {
  assert.equal(manifest.main, './dist/extension.js');
  assert.match(manifest.engines.vscode, /^\^1\.\d+\.\d+$/);
});
