// Which interaction an AI edit without one of its own is credited to. The messages themselves
// are tested against the real daemon in daemon.test.ts; here only the clock matters, so the
// connection just keeps what it is given.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { PROMPT_HOLDS_MS, refusedInteractionArgument, Session } from '../src/session';

test('a prompt holds for the edits after it, renewed by each, then lapses', async () => {
  const sent: [string, unknown][] = [];
  let now = 1_000_000;
  const session = new Session(
    {
      sendNotification: (method, params) => void sent.push([method, params]),
      sendRequest: () => Promise.reject(new Error('no requests here')),
    },
    { name: 'vscode' },
    () => now,
  );
  const fresh = session.interactionForEdit('vscode-inline');
  assert.match(fresh, /^vscode-inline-/);
  assert.notEqual(session.interactionForEdit('vscode-inline'), fresh);

  const id = await session.prompt('rename the helper');
  assert.deepEqual(sent.map(([method]) => method), ['prodcode/promptSubmitted']);
  now += PROMPT_HOLDS_MS - 1;
  assert.equal(session.interactionForEdit('vscode-inline'), id);
  now += PROMPT_HOLDS_MS - 1; // renewed by that edit
  assert.equal(session.currentInteraction(), id);
  now += PROMPT_HOLDS_MS + 1;
  assert.equal(session.currentInteraction(), undefined);
  assert.match(session.interactionForEdit('vscode-inline'), /^vscode-inline-/);
  assert.equal(session.promptText(id), 'rename the helper');
});

test('a daemon that refuses interactionId in tool arguments is recognised by its message', () => {
  const refusal = (kind: string, message: string) => ({
    isError: true,
    text: message,
    structuredContent: { error: { kind, message } },
  });
  assert.equal(
    refusedInteractionArgument(refusal('invalid_argument', 'search has no argument `interactionId`; it takes pattern, paths, max_results')),
    true,
  );
  assert.equal(refusedInteractionArgument(refusal('invalid_argument', 'search has no argument `x`')), false);
  assert.equal(refusedInteractionArgument(refusal('failed', '`interactionId`')), false);
  assert.equal(refusedInteractionArgument({ isError: false, text: '', structuredContent: { matches: [] } }), false);
});
