// The TypeScript mirror (src/protocol.ts) against the contract: the methods and the JSON
// examples of docs/lsp-extensions.md (field names and kinds, nested), the Rust structs of
// src/lsp/ext.rs (field names and which may be absent), and the tool names of docs/tools.md.
// The compiler already ties each TS interface to its descriptor, so these three together keep
// the interfaces in step with the daemon.

import * as assert from 'node:assert/strict';
import { test } from 'node:test';

import { type Descriptor, type Field, METHODS, SHAPES, TOOLS } from '../src/protocol';
import { readRepo } from './repo';

const doc = readRepo('docs/lsp-extensions.md');

/** The doc's sections by heading (`## ` lines), each with its text. */
function sections(markdown: string): Map<string, string> {
  const result = new Map<string, string>();
  let heading = '';
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) {
      heading = line.slice(3).trim();
      result.set(heading, '');
    } else if (heading !== '') {
      result.set(heading, `${result.get(heading)}${line}\n`);
    }
  }
  return result;
}

function section(heading: string): string {
  const text = sections(doc).get(heading);
  assert.ok(text !== undefined, `docs/lsp-extensions.md has no section "## ${heading}"`);
  return text;
}

/** The ```json blocks of a section, parsed. The doc writes alternatives as `"a" | "b"` and elisions as `…`. */
function jsonBlocks(text: string): unknown[] {
  const blocks = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]);
  return blocks.map((block) => {
    const lenient = block
      .replace(/("(?:[^"\\]|\\.)*")(?:\s*\|\s*"(?:[^"\\]|\\.)*")+/g, '$1')
      .replace(/\[\s*…\s*\]/g, '[]');
    return JSON.parse(lenient) as unknown;
  });
}

/** A descriptor from an example value: kinds only, no optionality (the doc says that in prose). */
function describe(value: unknown): Field {
  if (typeof value === 'string') {
    return 'string';
  }
  if (typeof value === 'number') {
    return 'number';
  }
  if (typeof value === 'boolean') {
    return 'boolean';
  }
  if (Array.isArray(value)) {
    return value.length === 0 ? ['unknown'] : [describe(value[0])];
  }
  const object: Record<string, Field> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    object[key] = describe(field);
  }
  return object;
}

/** `a` and `b` with `?` markers dropped; `'unknown'` on either side matches anything. */
function assertSameKinds(a: Field, b: Field, where: string): void {
  if (a === 'unknown' || b === 'unknown') {
    return;
  }
  if (typeof a === 'string' || typeof b === 'string') {
    assert.equal(a, b, `${where}: kind`);
    return;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    assert.ok(Array.isArray(a) && Array.isArray(b), `${where}: one side is an array, the other not`);
    assertSameKinds((a as readonly [Field])[0], (b as readonly [Field])[0], `${where}[]`);
    return;
  }
  const strip = (descriptor: Descriptor) =>
    new Map(Object.entries(descriptor).map(([key, field]) => [key.replace(/\?$/, ''), field]));
  const left = strip(a as Descriptor);
  const right = strip(b as Descriptor);
  assert.deepEqual([...left.keys()].sort(), [...right.keys()].sort(), `${where}: field names`);
  for (const [key, field] of left) {
    assertSameKinds(field, right.get(key)!, `${where}.${key}`);
  }
}

test('the methods are the doc\'s, in its order, with their kinds', () => {
  const documented = [...doc.matchAll(/^## `(prodcode\/\w+)` \((notification|request)\)$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(documented, METHODS.map(([method, kind]) => [method, kind]));
});

test('each message has the fields and kinds of the doc\'s JSON', () => {
  const examples: [string, unknown, Field][] = [
    ['promptSubmitted', jsonBlocks(section('`prodcode/promptSubmitted` (notification)'))[0], SHAPES.promptSubmitted],
    ['aiEditApplied', jsonBlocks(section('`prodcode/aiEditApplied` (notification)'))[0], SHAPES.aiEditApplied],
    ['checkpoint', jsonBlocks(section('`prodcode/checkpoint` (notification)'))[0], SHAPES.checkpoint],
    ['provenanceResult', jsonBlocks(section('`prodcode/provenance` (request)'))[0], SHAPES.provenanceResult],
    ['statusResult', jsonBlocks(section('`prodcode/status` (request)'))[0], SHAPES.statusResult],
    ['executeCommand', jsonBlocks(section('Tools: `workspace/executeCommand`'))[0], SHAPES.executeCommand],
    // The section's last example is the result (the ones before it are params).
    ['toolResult', jsonBlocks(section('Tools: `workspace/executeCommand`')).at(-1), SHAPES.toolResult],
  ];
  const params = /^Params: `(.*)`$/m.exec(section('`prodcode/provenance` (request)'));
  assert.ok(params, 'the provenance section names its params as Params: `{…}`');
  examples.push(['provenanceParams', JSON.parse(params[1]), SHAPES.provenanceParams]);
  for (const [name, example, shape] of examples) {
    assert.ok(example !== undefined, `${name}: no JSON example in the doc`);
    assertSameKinds(describe(example), shape, name);
  }
});

interface RustStruct {
  name: string;
  /** camelCase when the struct renames, with `?` for fields that may be absent. */
  fields: string[];
}

/** The structs of a Rust file: field names as they go on the wire, `?` when optional. */
function rustStructs(source: string): RustStruct[] {
  const structs: RustStruct[] = [];
  const pattern = /((?:#\[[^\n]*\]\s*)*)pub struct (\w+) \{([^}]*)\}/g;
  for (const match of source.matchAll(pattern)) {
    const camel = match[1].includes('rename_all = "camelCase"');
    const fields: string[] = [];
    let attributes = '';
    for (const raw of match[3].split('\n')) {
      const line = raw.trim();
      if (line.startsWith('#[')) {
        attributes += line;
        continue;
      }
      const field = /^(?:pub )?(\w+): (.+),$/.exec(line);
      if (!field) {
        continue;
      }
      let name = field[1];
      if (camel) {
        name = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      }
      const optional =
        field[2].startsWith('Option<') ||
        attributes.includes('serde(default)') ||
        attributes.includes('skip_serializing_if');
      fields.push(optional ? `${name}?` : name);
      attributes = '';
    }
    structs.push({ name: match[2], fields });
  }
  return structs;
}

function keys(field: Field): string[] {
  assert.ok(typeof field === 'object' && !Array.isArray(field), 'a struct mirrors an object');
  return Object.keys(field).sort();
}

test('each message has the fields of the Rust structs, optional where they are', () => {
  const mirrors: Record<string, Field> = {
    PromptSubmittedParams: SHAPES.promptSubmitted,
    AgentInfo: SHAPES.promptSubmitted['agent?'],
    AiEditAppliedParams: SHAPES.aiEditApplied,
    CheckpointParams: SHAPES.checkpoint,
    ProvenanceParams: SHAPES.provenanceParams,
    ProvenanceResult: SHAPES.provenanceResult,
    ProvenanceRange: SHAPES.provenanceResult.ranges[0],
    InteractionInfo: SHAPES.provenanceResult['interactions?']['<interactionId>'],
    StatusResult: SHAPES.statusResult,
    StatusCounts: SHAPES.statusResult.counts,
  };
  const structs = rustStructs(readRepo('src/lsp/ext.rs'));
  assert.deepEqual(
    structs.map((s) => s.name).sort(),
    Object.keys(mirrors).sort(),
    'every struct of src/lsp/ext.rs has a mirror in src/protocol.ts (add it to SHAPES and here)',
  );
  for (const struct of structs) {
    assert.deepEqual(struct.fields.sort(), keys(mirrors[struct.name]), `${struct.name} (src/lsp/ext.rs) and its mirror`);
  }
  const execute = rustStructs(readRepo('src/lsp/handlers/tools.rs')).find((s) => s.name === 'ExecuteCommandParams');
  assert.ok(execute, 'src/lsp/handlers/tools.rs has ExecuteCommandParams');
  assert.deepEqual(execute.fields.sort(), keys(SHAPES.executeCommand));
});

test('the tools are the ones docs/tools.md documents', () => {
  const documented = [...readRepo('docs/tools.md').matchAll(/^### (.+)$/gm)]
    .flatMap((m) => m[1].split(','))
    .map((name) => name.trim().replace(/`/g, ''));
  assert.deepEqual([...documented].sort(), [...TOOLS].sort());
});

test('the lenient reader of the doc rejects what is not an example', () => {
  // A guard for the test itself: a block the reader cannot parse fails loudly.
  assert.throws(() => jsonBlocks('```json\n{ "a": }\n```'));
  assert.deepEqual(jsonBlocks('```json\n{ "phase": "before" | "after", "x": [ … ] }\n```'), [{ phase: 'before', x: [] }]);
});
