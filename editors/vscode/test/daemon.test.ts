// The extension's own modules against the real daemon, outside VS Code: `prodcode lsp` started
// over stdio (`PRODCODE_BIN`, which tests/it/vscode.rs sets to cargo's binary) in a real git
// repository with a real database, spoken to through `vscode-jsonrpc` (the transport
// `vscode-languageclient` uses in the editor). A person types, a prompt is recorded, an AI edit
// is applied and reported with the ranges src/ranges.ts computes, another goes through a
// checkpoint bracket, and the provenance comes back as the decorations, status bar and hover
// read it.

import * as assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import { createMessageConnection, type MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

import { logArgs, serverArgs } from '../src/config';
import { METHODS, TOOLS, toolCommand } from '../src/protocol';
import { aiShare, lineSpans, promptsFromLog, shareLabel, spanAt } from '../src/provenance';
import { type ContentChange, insertedRanges, positionAtIn } from '../src/ranges';
import { Session } from '../src/session';
import { prodcodeBinary, readRepo } from './repo';

function git(cwd: string, ...args: string[]): void {
  childProcess.execFileSync(
    'git',
    ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args],
    { cwd, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }, stdio: 'ignore' },
  );
}

/** A document as the editor holds it: its text, version, and the `didChange`s it sends. */
class Document {
  version = 1;
  constructor(
    private readonly connection: MessageConnection,
    readonly uri: string,
    public text: string,
  ) {}

  async open(): Promise<void> {
    await this.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri: this.uri, languageId: 'rust', version: this.version, text: this.text },
    });
  }

  /** Applies `changes` (VS Code's shape) and sends them as one `didChange`; returns them. */
  async change(changes: ContentChange[]): Promise<ContentChange[]> {
    const contentChanges = [];
    for (const change of changes) {
      const at = positionAtIn(this.text);
      contentChanges.push({
        range: { start: at(change.rangeOffset), end: at(change.rangeOffset + change.rangeLength) },
        text: change.text,
      });
      this.text = this.text.slice(0, change.rangeOffset) + change.text + this.text.slice(change.rangeOffset + change.rangeLength);
    }
    this.version += 1;
    await this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: this.uri, version: this.version },
      contentChanges,
    });
    return changes;
  }

  /** Inserts `text` where `before` ends. */
  insertAfter(before: string, text: string): Promise<ContentChange[]> {
    const offset = this.text.indexOf(before);
    assert.ok(offset >= 0, `${JSON.stringify(before)} is not in the document`);
    return this.change([{ rangeOffset: offset + before.length, rangeLength: 0, text }]);
  }
}

test('a prompt, an AI edit and a bracketed accept come back from the real daemon as the extension shows them', async (t) => {
  const binary = prodcodeBinary();
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'prodcode-vscode-')));
  t.after(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'repo');
  fs.mkdirSync(root);
  git(root, 'init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(root, 'main.rs'), 'fn main() {}\n');
  git(root, 'add', '.');
  git(root, 'commit', '-q', '-m', 'init');
  const db = path.join(base, 'prodcode.db');

  const settings = { databasePath: db };
  const env = { ...process.env };
  delete env.PRODCODE_DB;
  const daemon = childProcess.spawn(binary, serverArgs(settings), { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  daemon.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => daemon.on('exit', resolve));
  const connection = createMessageConnection(new StreamMessageReader(daemon.stdout), new StreamMessageWriter(daemon.stdin));
  const warnings: string[] = [];
  connection.onNotification('window/logMessage', (params: { type: number; message: string }) => {
    if (params.type <= 2) {
      warnings.push(params.message);
    }
  });
  connection.onNotification('window/showMessage', (params: { message: string }) => warnings.push(params.message));
  connection.listen();
  t.after(() => {
    connection.dispose();
    daemon.kill();
  });

  const rootUri = pathToFileURL(root).href;
  const init = await connection.sendRequest<{
    capabilities: {
      positionEncoding: string;
      executeCommandProvider: { commands: string[] };
      experimental: { prodcode: { notifications: string[]; requests: string[] } };
    };
  }>('initialize', {
    processId: process.pid,
    clientInfo: { name: 'prodcode-vscode-test', version: '0' },
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: 'repo' }],
    capabilities: { general: { positionEncodings: ['utf-16'] } },
  });
  assert.equal(init.capabilities.positionEncoding, 'utf-16');
  // The daemon serves exactly the methods and tools the mirror knows.
  const experimental = init.capabilities.experimental.prodcode;
  assert.deepEqual(
    [...experimental.notifications, ...experimental.requests].sort(),
    METHODS.map(([method]) => method).sort(),
  );
  assert.deepEqual([...init.capabilities.executeCommandProvider.commands].sort(), TOOLS.map(toolCommand).sort());
  await connection.sendNotification('initialized', {});

  const session = new Session(connection, { name: 'vscode', version: 'test' });
  const file = path.join(root, 'main.rs');
  const doc = new Document(connection, pathToFileURL(file).href, 'fn main() {}\n');
  await doc.open();

  // A person types a line above: human.
  await doc.change([{ rangeOffset: 0, rangeLength: 0, text: '// typed by a person\n' }]);

  // A prompt, then the AI's insertion, reported with the ranges the extension computes.
  const prompt = 'add a helper function';
  const interactionId = await session.prompt(prompt, { contextUris: [doc.uri] });
  assert.equal(session.interactionForEdit('vscode-inline'), interactionId);
  const changes = await doc.insertAfter('fn main() {}\n', 'fn helper() {}\n');
  const ranges = insertedRanges(changes, positionAtIn(doc.text));
  assert.deepEqual(ranges, [{ start: { line: 2, character: 0 }, end: { line: 3, character: 0 } }]);
  await session.aiEditApplied(interactionId, doc.uri, doc.version, ranges);

  let answer = await session.provenance(doc.uri);
  assert.equal(answer.version, doc.version);
  assert.deepEqual(
    lineSpans(answer).map((s) => [s.first, s.last, s.class, s.interactionId ?? '']),
    [
      [0, 0, 'human', ''],
      [1, 1, 'untracked', ''],
      [2, 2, 'ai', interactionId],
    ],
  );
  assert.equal(shareLabel(answer), '33% AI');
  assert.equal(spanAt(answer, 2)?.interactionId, interactionId);
  assert.equal(session.promptText(interactionId), prompt);

  // An inline accept the extension cannot describe: bracketed by checkpoints, credited to a
  // fresh interaction when no prompt is pending.
  const inline = new Session(connection).interactionForEdit('vscode-inline');
  assert.match(inline, /^vscode-inline-[0-9a-f-]{36}$/);
  await session.bracket(inline, [doc.uri], () => doc.insertAfter('fn helper() {}\n', 'fn accepted() {}\n'));
  await doc.insertAfter('fn accepted() {}\n', '// and a person again\n');
  answer = await session.provenance(doc.uri);
  assert.deepEqual(
    lineSpans(answer).map((s) => [s.first, s.last, s.class, s.interactionId ?? '']),
    [
      [0, 0, 'human', ''],
      [1, 1, 'untracked', ''],
      [2, 2, 'ai', interactionId],
      [3, 3, 'ai', inline],
      [4, 4, 'human', ''],
    ],
  );
  assert.deepEqual(aiShare(answer), { lines: 5, aiLines: 2, share: 0.4 });

  // A tool through workspace/executeCommand, named after the prompt's interaction.
  fs.writeFileSync(file, doc.text);
  const tool = await session.runTool('search', { pattern: 'fn accepted' });
  assert.equal(tool.isError, false, tool.text);
  assert.deepEqual((tool.structuredContent as { matches: unknown[] }).matches, [
    { path: 'main.rs', line: 4, column: 1, text: 'fn accepted() {}' },
  ]);
  const refused = await session.runTool('search', { pattern: 'x', no_such_argument: 1 });
  assert.equal(refused.isError, true);

  const status = await session.status();
  assert.equal(status.databasePath, db);
  assert.equal(status.counts.openDocuments, 1);
  assert.equal(status.counts.openCheckpoints, 0);
  assert.equal(status.storeError, undefined);
  assert.ok(status.counts.durableEvents > 0, JSON.stringify(status));

  await connection.sendNotification('textDocument/didSave', { textDocument: { uri: doc.uri } });
  await connection.sendRequest('shutdown');
  await connection.sendNotification('exit');
  assert.equal(await exited, 0, stderr);
  assert.deepEqual(warnings, []);

  // The hover's fallback reads the prompt back from the store through `prodcode log`.
  const log = childProcess.execFileSync(binary, logArgs(settings), { env, encoding: 'utf8' });
  assert.equal(promptsFromLog(log).get(interactionId), prompt);
  // The tool call is the prompt's, where the daemon's contract says tool calls name their
  // interaction (a daemon from before refused the argument and the call was made without it).
  if (readRepo('docs/lsp-extensions.md').includes('`arguments[0]` may also carry `"interactionId"`')) {
    const entry = (JSON.parse(log) as { interactions: { id: string; toolCalls?: { tool: string }[] }[] }).interactions.find(
      (interaction) => interaction.id === interactionId,
    );
    // Both calls: the one answered and the one refused for its unknown argument.
    assert.deepEqual(entry?.toolCalls?.map((call) => call.tool), ['search', 'search'], log);
  }
  // And the saved file blames as the editor showed it.
  const blame = JSON.parse(
    childProcess.execFileSync(binary, ['blame', file, '--json', '--db', db], { env, encoding: 'utf8' }),
  ) as { lines: { class: string }[] };
  assert.deepEqual(
    blame.lines.map((line) => line.class),
    ['human', 'untracked', 'ai', 'ai', 'human'],
  );
});
