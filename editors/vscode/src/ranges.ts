// Where an edit's inserted text ends up, as LSP ranges of the document after the edit.
//
// VS Code reports one document change as a list of content changes that apply one after the
// other (each one's offset is in the text its predecessors left), which is also how the daemon
// applies `didChange`. `prodcode/aiEditApplied` wants the text the AI inserted in the document
// as it is after all of them, so the inserted spans are tracked through the later changes and
// only then turned into positions. Deleted text needs no range: it has no lines left to own.
// No `vscode` import: this runs under node's test runner too.

import type { Position, Range } from './protocol';

/** The part of `vscode.TextDocumentContentChangeEvent` this needs. */
export interface ContentChange {
  /** UTF-16 offset of the replaced text in the document as the earlier changes left it. */
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/**
 * The spans, as `[start, end)` UTF-16 offsets of the final text, that the changes inserted,
 * sorted and merged where they touch.
 */
export function insertedSpans(changes: readonly ContentChange[]): [number, number][] {
  let spans: [number, number][] = [];
  for (const change of changes) {
    const start = change.rangeOffset;
    const removedEnd = start + change.rangeLength;
    const delta = change.text.length - change.rangeLength;
    const next: [number, number][] = [];
    for (const [from, to] of spans) {
      // The part before the replaced text stays; the part after it moves by `delta`.
      if (from < start) {
        next.push([from, Math.min(to, start)]);
      }
      if (to > removedEnd) {
        next.push([Math.max(from, removedEnd) + delta, to + delta]);
      }
    }
    if (change.text.length > 0) {
      next.push([start, start + change.text.length]);
    }
    spans = next;
  }
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const span of spans) {
    const last = merged[merged.length - 1];
    if (last && span[0] <= last[1]) {
      last[1] = Math.max(last[1], span[1]);
    } else if (span[1] > span[0]) {
      merged.push([span[0], span[1]]);
    }
  }
  return merged;
}

/** The inserted text as ranges, given the final document's `positionAt`. */
export function insertedRanges(
  changes: readonly ContentChange[],
  positionAt: (offset: number) => Position,
): Range[] {
  return insertedSpans(changes).map(([start, end]) => ({ start: positionAt(start), end: positionAt(end) }));
}

/**
 * `positionAt` over a string, with LSP's line breaks (`\n`, `\r\n`, a lone `\r`) and UTF-16
 * columns, as `vscode.TextDocument.positionAt` computes it; for code that holds only the text.
 */
export function positionAtIn(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */) {
      if (text.charCodeAt(i + 1) === 10) {
        i++;
      }
      starts.push(i + 1);
    } else if (c === 10 /* \n */) {
      starts.push(i + 1);
    }
  }
  return (offset) => {
    const clamped = Math.max(0, Math.min(offset, text.length));
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid] <= clamped) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    return { line: low, character: clamped - starts[low] };
  };
}
