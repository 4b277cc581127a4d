// What the extension shows from a `prodcode/provenance` answer: which lines an AI wrote (for
// the gutter and the overview ruler), the share of the file's lines it wrote (for the status
// bar), and which interaction wrote a given line (for the hover).
// No `vscode` import: this runs under node's test runner too.

import type { LineClass, ProvenanceResult } from './protocol';

/** Lines `first..=last` (0-based) of one class. */
export interface LineSpan {
  first: number;
  last: number;
  class: LineClass;
  interactionId?: string;
}

/**
 * The answer's ranges as whole lines. A range ends at the start of the line after its last
 * line, except the document's last range, which ends where the text ends.
 */
export function lineSpans(result: ProvenanceResult): LineSpan[] {
  return result.ranges.map((entry) => {
    const { start, end } = entry.range;
    const last = end.character === 0 && end.line > start.line ? end.line - 1 : end.line;
    return { first: start.line, last, class: entry.class, interactionId: entry.interactionId };
  });
}

export function isAi(lineClass: LineClass): boolean {
  return lineClass === 'ai' || lineClass === 'ai_modified';
}

/** The spans to decorate as `ai` and as `ai_modified`. */
export function aiSpans(result: ProvenanceResult): { ai: LineSpan[]; aiModified: LineSpan[] } {
  const spans = lineSpans(result);
  return {
    ai: spans.filter((span) => span.class === 'ai'),
    aiModified: spans.filter((span) => span.class === 'ai_modified'),
  };
}

/** Lines per class, and the share (0..1) of lines an AI wrote (`ai` and `ai_modified`). */
export function aiShare(result: ProvenanceResult): { lines: number; aiLines: number; share: number } {
  let lines = 0;
  let aiLines = 0;
  for (const span of lineSpans(result)) {
    const count = span.last - span.first + 1;
    lines += count;
    if (isAi(span.class)) {
      aiLines += count;
    }
  }
  return { lines, aiLines, share: lines === 0 ? 0 : aiLines / lines };
}

/** The span holding `line`, if any. */
export function spanAt(result: ProvenanceResult, line: number): LineSpan | undefined {
  return lineSpans(result).find((span) => span.first <= line && line <= span.last);
}

/** The status bar's text for a file: `"40% AI"`, or `"no AI lines"`. */
export function shareLabel(result: ProvenanceResult): string {
  const { aiLines, share } = aiShare(result);
  if (aiLines === 0) {
    return 'no AI lines';
  }
  return `${Math.round(share * 100)}% AI`;
}

/** The hover's Markdown for a line an AI wrote; `prompt` is the prompt's text when known. */
export function hoverMarkdown(span: LineSpan, prompt: string | undefined): string {
  const what = span.class === 'ai' ? 'Written by AI' : 'Written by AI, then changed by a person';
  const lines = [`**prodcode**: ${what} (interaction \`${span.interactionId ?? 'unknown'}\`)`];
  if (prompt !== undefined) {
    const shown = prompt.length > 500 ? `${prompt.slice(0, 500)}…` : prompt;
    lines.push('', `Prompt: ${shown.replace(/\r?\n/g, ' ').replace(/([\\`*_{}[\]()#+\-.!<>|])/g, '\\$1')}`);
  } else {
    lines.push('', 'No prompt recorded for this interaction.');
  }
  return lines.join('\n');
}

/**
 * The latest prompt of each interaction in `prodcode log --json` output, for hovers over lines
 * of interactions this window did not start (an agent's, another window's).
 */
export function promptsFromLog(json: string): Map<string, string> {
  const prompts = new Map<string, string>();
  const log = JSON.parse(json) as { interactions?: { id?: unknown; prompts?: { text?: unknown }[] }[] };
  for (const interaction of log.interactions ?? []) {
    const last = interaction.prompts?.[interaction.prompts.length - 1];
    if (typeof interaction.id === 'string' && typeof last?.text === 'string') {
      prompts.set(interaction.id, last.text);
    }
  }
  return prompts;
}
