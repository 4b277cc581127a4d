// Finding the binary, the daemon's arguments, and which change sources count as AI.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { DEFAULT_AI_SOURCES, isAiSource, logArgs, missingBinaryMessage, resolveBinary, serverArgs } from '../src/config';

function fakeHome(): { home: string; bin: string; cargo: string } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'prodcode-vscode-'));
  const bin = path.join(home, 'bin');
  const cargo = path.join(home, '.cargo', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(cargo, { recursive: true });
  return { home, bin, cargo };
}

function executable(file: string, mode = 0o755): string {
  fs.writeFileSync(file, '#!/bin/sh\n');
  fs.chmodSync(file, mode);
  return file;
}

test('the binary: on PATH first, then ~/.cargo/bin, a path as given, else nothing', { skip: process.platform === 'win32' }, () => {
  const { home, bin, cargo } = fakeHome();
  const env = { PATH: `/nonexistent${path.delimiter}${bin}` };
  assert.equal(resolveBinary('prodcode', env, home), undefined);
  const fromCargo = executable(path.join(cargo, 'prodcode'));
  assert.equal(resolveBinary('prodcode', env, home), fromCargo);
  const onPath = executable(path.join(bin, 'prodcode'));
  assert.equal(resolveBinary('', env, home), onPath);
  // Not executable: skipped.
  fs.chmodSync(onPath, 0o644);
  assert.equal(resolveBinary('prodcode', env, home), fromCargo);
  assert.equal(resolveBinary('~/.cargo/bin/prodcode', env, home), fromCargo);
  assert.equal(resolveBinary(path.join(home, 'nope', 'prodcode'), env, home), undefined);
  // A directory of that name is not the binary.
  assert.equal(resolveBinary(bin, env, home), undefined);
});

test('the missing-binary message says how to install it', () => {
  assert.match(missingBinaryMessage('prodcode'), /`prodcode` is not on PATH.*cargo install --locked --path \./);
  assert.match(missingBinaryMessage('/opt/x/prodcode'), /`\/opt\/x\/prodcode` \(prodcode.path\) is not an executable/);
});

test('the daemon gets --db only when the setting names one', () => {
  assert.deepEqual(serverArgs({ databasePath: '' }), ['lsp']);
  assert.deepEqual(serverArgs({ databasePath: ' /d/p.db ' }), ['lsp', '--db', '/d/p.db']);
  assert.deepEqual(serverArgs({ databasePath: '~/p.db' }, '/home/me'), ['lsp', '--db', path.join('/home/me', 'p.db')]);
  assert.deepEqual(logArgs({ databasePath: '/d/p.db' }), ['log', '--limit', '200', '--json', '--db', '/d/p.db']);
});

test('AI sources match whole names or dotted prefixes, ignoring case', () => {
  assert.equal(isAiSource('inlineCompletionAccept', DEFAULT_AI_SOURCES), true);
  assert.equal(isAiSource('chat.applyEdits', DEFAULT_AI_SOURCES), true);
  assert.equal(isAiSource('chatEditing.acceptHunk', DEFAULT_AI_SOURCES), true);
  assert.equal(isAiSource('cursor', DEFAULT_AI_SOURCES), false);
  assert.equal(isAiSource('inlineCompletionAcceptance', ['inlineCompletionAccept']), false);
  assert.equal(isAiSource(undefined, DEFAULT_AI_SOURCES), false);
  assert.equal(isAiSource('inlineCompletionAccept', []), false);
});
