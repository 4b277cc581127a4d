// Inserted ranges through sequential content changes, and positions as VS Code computes them.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { type ContentChange, insertedRanges, insertedSpans, positionAtIn } from '../src/ranges';

/** Applies changes one after the other, as VS Code and the daemon do. */
function apply(text: string, changes: ContentChange[]): string {
  for (const change of changes) {
    text = text.slice(0, change.rangeOffset) + change.text + text.slice(change.rangeOffset + change.rangeLength);
  }
  return text;
}

test('one insertion is one range in the new text', () => {
  const before = 'fn main() {}\n';
  const changes = [{ rangeOffset: before.length, rangeLength: 0, text: 'fn helper() {}\n' }];
  const after = apply(before, changes);
  assert.deepEqual(insertedRanges(changes, positionAtIn(after)), [
    { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } },
  ]);
});

test('a replacement covers only the new text; a deletion covers nothing', () => {
  assert.deepEqual(insertedSpans([{ rangeOffset: 3, rangeLength: 4, text: 'ab' }]), [[3, 5]]);
  assert.deepEqual(insertedSpans([{ rangeOffset: 3, rangeLength: 4, text: '' }]), []);
});

test('a later change shifts, splits and trims earlier insertions', () => {
  const before = '0123456789';
  const changes: ContentChange[] = [
    { rangeOffset: 2, rangeLength: 0, text: 'AAAA' }, // 01AAAA23456789: AI at [2, 6)
    { rangeOffset: 0, rangeLength: 1, text: 'xyz' }, // xyz1AAAA23456789: [4, 8), and new [0, 3)
    { rangeOffset: 7, rangeLength: 2, text: '' }, // xyz1AAA3456789: it loses its last A: [4, 7)
    { rangeOffset: 7, rangeLength: 0, text: '-' }, // xyz1AAA-3456789: touching it: one span [4, 8)
    { rangeOffset: 5, rangeLength: 1, text: '' }, // xyz1AA-3456789: a deletion inside: [4, 7)
  ];
  const after = apply(before, changes);
  assert.equal(after, 'xyz1AA-3456789');
  assert.deepEqual(insertedSpans(changes), [
    [0, 3],
    [4, 7],
  ]);
  assert.deepEqual(
    insertedSpans(changes).map(([s, e]) => after.slice(s, e)),
    ['xyz', 'AA-'],
  );
});

test('changes in one event listed last to first, as VS Code sends them', () => {
  const before = 'a\nb\nc\n';
  // Two cursors: insert after `c` and after `a`; VS Code lists the later position first.
  const changes: ContentChange[] = [
    { rangeOffset: 5, rangeLength: 0, text: 'C' },
    { rangeOffset: 1, rangeLength: 0, text: 'A' },
  ];
  const after = apply(before, changes);
  assert.equal(after, 'aA\nb\ncC\n');
  assert.deepEqual(insertedSpans(changes).map(([s, e]) => after.slice(s, e)), ['A', 'C']);
});

test('positions count UTF-16 units and every kind of line break', () => {
  const at = positionAtIn('a\r\nb\rc\n😀x');
  assert.deepEqual(at(3), { line: 1, character: 0 });
  assert.deepEqual(at(5), { line: 2, character: 0 });
  assert.deepEqual(at(7), { line: 3, character: 0 });
  assert.deepEqual(at(9), { line: 3, character: 2 }); // after the surrogate pair
  assert.deepEqual(at(99), { line: 3, character: 3 }); // clamped to the end
});
