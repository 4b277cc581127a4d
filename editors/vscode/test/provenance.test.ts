// What the gutter, the status bar and the hover make of a provenance answer.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ProvenanceResult } from '../src/protocol';
import { aiShare, aiSpans, hoverMarkdown, lineSpans, promptsFromLog, shareLabel, spanAt } from '../src/provenance';

const range = (a: number, b: number, c: number, d: number) => ({
  start: { line: a, character: b },
  end: { line: c, character: d },
});

// Five lines: human, two AI, one AI a person changed, and a last line without a newline.
const answer: ProvenanceResult = {
  version: 7,
  ranges: [
    { range: range(0, 0, 1, 0), class: 'human' },
    { range: range(1, 0, 3, 0), class: 'ai', interactionId: 'i-1' },
    { range: range(3, 0, 4, 0), class: 'ai_modified', interactionId: 'i-1' },
    { range: range(4, 0, 4, 12), class: 'untracked' },
  ],
};

test('ranges become whole lines; the last ends where the text does', () => {
  assert.deepEqual(
    lineSpans(answer).map((s) => [s.first, s.last, s.class]),
    [
      [0, 0, 'human'],
      [1, 2, 'ai'],
      [3, 3, 'ai_modified'],
      [4, 4, 'untracked'],
    ],
  );
  const { ai, aiModified } = aiSpans(answer);
  assert.deepEqual(ai.map((s) => [s.first, s.last]), [[1, 2]]);
  assert.deepEqual(aiModified.map((s) => [s.first, s.last]), [[3, 3]]);
});

test('the AI share counts ai and ai_modified lines', () => {
  assert.deepEqual(aiShare(answer), { lines: 5, aiLines: 3, share: 0.6 });
  assert.equal(shareLabel(answer), '60% AI');
  assert.equal(shareLabel({ version: 1, ranges: [] }), 'no AI lines');
});

test('the hover names the interaction and its prompt, escaped', () => {
  const span = spanAt(answer, 2);
  assert.equal(span?.interactionId, 'i-1');
  assert.equal(spanAt(answer, 9), undefined);
  const text = hoverMarkdown(span, 'add *all* the [tests]\nplease');
  assert.match(text, /interaction `i-1`/);
  assert.match(text, /Prompt: add \\\*all\\\* the \\\[tests\\\] please/);
  assert.match(hoverMarkdown(spanAt(answer, 3)!, undefined), /then changed by a person[\s\S]*No prompt recorded/);
});

test('prompts from `prodcode log --json`: the last turn of each interaction', () => {
  const log = JSON.stringify({
    interactions: [
      { id: 'a', prompts: [{ turn: 1, text: 'first' }, { turn: 2, text: 'second' }] },
      { id: 'b', prompts: [] },
      { id: 'c' },
    ],
  });
  assert.deepEqual([...promptsFromLog(log)], [['a', 'second']]);
  assert.throws(() => promptsFromLog('not json'));
});
