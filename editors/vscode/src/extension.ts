// The VS Code side: starts `prodcode lsp` for the workspace through `vscode-languageclient`
// (which sends every open file's text changes, typing and saves, as the person's), and adds
// what the editor knows and the daemon cannot see by itself: which changes an assistant made.
//
// VS Code's stable API does not say where a document change came from (only undo and redo), so
// AI edits are captured three ways: the inline-suggestion accept keys run through this
// extension, which brackets the accept with `prodcode/checkpoint` before and after; a change
// whose source VS Code does report (the proposed `detailedReason`, read when present) and that
// `prodcode.aiSources` lists is sent as `prodcode/aiEditApplied` with the inserted ranges; and
// other extensions (chat, agents) report through the API `activate` returns. Everything else,
// typing, pastes, saves, is left to the daemon as the person's.
//
// The protocol, the ranges, the provenance views and the settings logic live in modules that
// do not import `vscode`, so node's test runner drives them against the real daemon.

import * as childProcess from 'node:child_process';

import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, State, TransportKind } from 'vscode-languageclient/node';

import { DEFAULT_AI_SOURCES, isAiSource, logArgs, missingBinaryMessage, resolveBinary, serverArgs, type Settings } from './config';
import type { CheckpointPhase, ProvenanceResult, StatusResult, ToolName } from './protocol';
import { TOOLS } from './protocol';
import { aiSpans, hoverMarkdown, isAi, promptsFromLog, shareLabel, spanAt } from './provenance';
import { insertedRanges } from './ranges';
import { type PromptOptions, Session } from './session';

/** What other extensions get from `vscode.extensions.getExtension('prodcode.prodcode').exports`. */
export interface ProdcodeApi {
  /** Records a prompt; the next AI edit is credited to it. The interaction id, or undefined when capture is off. */
  prompt(text: string, options?: PromptOptions): Promise<string | undefined>;
  /** Text the AI inserted: `ranges` of `document` as of `version` (default: its current version). */
  aiEditApplied(interactionId: string, document: vscode.TextDocument | vscode.Uri, ranges: readonly vscode.Range[], version?: number): Promise<void>;
  /** Brackets edits that cannot be described as ranges; no `uris` means every open document. */
  checkpoint(interactionId: string, phase: CheckpointPhase, uris?: readonly vscode.Uri[]): Promise<void>;
  /** The interaction of the last prompt, if any. */
  currentInteraction(): string | undefined;
}

type DaemonState = 'off' | 'missing' | 'starting' | 'running' | 'stopped';

let extension: Extension | undefined;

export function activate(context: vscode.ExtensionContext): ProdcodeApi {
  extension = new Extension(context);
  context.subscriptions.push(extension);
  void extension.start();
  return extension.api();
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
}

function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('prodcode');
  return {
    path: config.get<string>('path', 'prodcode'),
    databasePath: config.get<string>('databasePath', ''),
    capture: config.get<boolean>('capture', true),
    aiSources: config.get<string[]>('aiSources', DEFAULT_AI_SOURCES),
  };
}

/** The change's source where VS Code reports one (the proposed `detailedReason`); never throws. */
function changeSource(event: vscode.TextDocumentChangeEvent): string | undefined {
  try {
    const detailed = (event as { detailedReason?: { source?: unknown } }).detailedReason;
    return typeof detailed?.source === 'string' ? detailed.source : undefined;
  } catch {
    // The proposal is not enabled for this extension: the getter refuses.
    return undefined;
  }
}

class Extension implements vscode.Disposable {
  private settings = readSettings();
  private client: LanguageClient | undefined;
  private session: Session | undefined;
  private state: DaemonState = 'starting';
  private lastStatus: StatusResult | undefined;
  private readonly output = vscode.window.createOutputChannel('prodcode');
  private readonly toolOutput = vscode.window.createOutputChannel('prodcode tools');
  private readonly statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  private readonly aiDecoration: vscode.TextEditorDecorationType;
  private readonly aiModifiedDecoration: vscode.TextEditorDecorationType;
  private readonly provenanceCache = new Map<string, ProvenanceResult>();
  /** Documents inside an accept bracket: their changes are the bracket's, not reported again. */
  private readonly bracketed = new Set<string>();
  private readonly refreshTimers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [];
  private statusTimer: NodeJS.Timeout | undefined;
  private logPrompts: Promise<void> | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    const media = (name: string) => vscode.Uri.joinPath(context.extensionUri, 'media', name);
    this.aiDecoration = vscode.window.createTextEditorDecorationType({
      gutterIconPath: media('ai.svg'),
      gutterIconSize: 'contain',
      overviewRulerColor: 'rgba(163, 113, 247, 0.8)',
      overviewRulerLane: vscode.OverviewRulerLane.Left,
      isWholeLine: true,
    });
    this.aiModifiedDecoration = vscode.window.createTextEditorDecorationType({
      gutterIconPath: media('ai-modified.svg'),
      gutterIconSize: 'contain',
      overviewRulerColor: 'rgba(210, 153, 34, 0.8)',
      overviewRulerLane: vscode.OverviewRulerLane.Left,
      isWholeLine: true,
    });
    this.statusItem.command = 'prodcode.showStatus';
    this.statusItem.show();
    this.render();

    const command = (id: string, run: (...args: never[]) => unknown) =>
      this.disposables.push(vscode.commands.registerCommand(id, run));
    command('prodcode.recordPrompt', () => this.recordPrompt());
    command('prodcode.toggleDecorations', () => this.toggleDecorations());
    command('prodcode.showStatus', () => this.showStatus());
    command('prodcode.restart', () => this.restart());
    command('prodcode.acceptInlineSuggestion', () => this.acceptInline('editor.action.inlineSuggest.commit'));
    command('prodcode.acceptInlineSuggestionNextWord', () =>
      this.acceptInline('editor.action.inlineSuggest.acceptNextWord'),
    );
    command('prodcode.runAsAiEdit', (args: { command?: string; args?: unknown[]; interactionId?: string } = {}) =>
      this.runAsAiEdit(args),
    );
    command('prodcode.runTests', () => this.runTool('run_tests', {}));
    command('prodcode.getDiagnostics', () => this.runTool('get_diagnostics', {}));
    command('prodcode.format', () => this.runTool('format', { check_only: true }));
    command('prodcode.lspStatus', () => this.runTool('lsp_status', {}));
    command('prodcode.search', async () => {
      const pattern = await vscode.window.showInputBox({ prompt: 'prodcode search: a regular expression' });
      if (pattern) {
        await this.runTool('search', { pattern });
      }
    });
    command('prodcode.runTool', () => this.pickTool());

    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration('prodcode')) {
          void this.restart();
        }
      }),
      vscode.workspace.onDidChangeTextDocument((event) => this.onChange(event)),
      vscode.workspace.onDidSaveTextDocument((document) => this.scheduleRefresh(document, 0)),
      vscode.workspace.onDidCloseTextDocument((document) => this.provenanceCache.delete(document.uri.toString())),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor) {
          this.scheduleRefresh(editor.document, 0);
        }
        this.render();
      }),
      vscode.languages.registerHoverProvider({ scheme: 'file' }, { provideHover: (document, position) => this.hover(document, position) }),
    );
  }

  api(): ProdcodeApi {
    return {
      prompt: async (text, options) => (this.session ? this.session.prompt(text, options) : undefined),
      aiEditApplied: async (interactionId, target, ranges, version) => {
        if (!this.session) {
          return;
        }
        const document = target instanceof vscode.Uri ? vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString()) : target;
        const uri = target instanceof vscode.Uri ? target : target.uri;
        await this.afterPendingChanges();
        await this.session.aiEditApplied(
          interactionId,
          uri.toString(),
          version ?? document?.version ?? 0,
          ranges.map((range) => ({
            start: { line: range.start.line, character: range.start.character },
            end: { line: range.end.line, character: range.end.character },
          })),
        );
        if (document) {
          this.scheduleRefresh(document, 200);
        }
      },
      checkpoint: async (interactionId, phase, uris) => {
        if (!this.session) {
          return;
        }
        await this.afterPendingChanges();
        await this.session.checkpoint(interactionId, phase, uris?.map((uri) => uri.toString()));
      },
      currentInteraction: () => this.session?.currentInteraction(),
    };
  }

  async start(): Promise<void> {
    this.settings = readSettings();
    if (!this.settings.capture) {
      this.setState('off');
      this.output.appendLine('Capture is off for this workspace (prodcode.capture): the daemon is not started.');
      return;
    }
    const binary = resolveBinary(this.settings.path);
    if (!binary) {
      this.setState('missing');
      const message = missingBinaryMessage(this.settings.path);
      this.output.appendLine(message);
      void vscode.window.showErrorMessage(message, 'Open Settings', 'Copy Install Command').then((choice) => {
        if (choice === 'Open Settings') {
          void vscode.commands.executeCommand('workbench.action.openSettings', 'prodcode.path');
        } else if (choice === 'Copy Install Command') {
          void vscode.env.clipboard.writeText('cargo install --locked --path .');
        }
      });
      return;
    }
    const serverOptions: ServerOptions = {
      command: binary,
      args: serverArgs(this.settings),
      transport: TransportKind.stdio,
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      outputChannel: this.output,
    };
    this.setState('starting');
    const client = new LanguageClient('prodcode', 'prodcode', serverOptions, clientOptions);
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) {
        this.setState('running');
      } else if (event.newState === State.Stopped) {
        this.setState('stopped');
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      this.setState('stopped');
      this.output.appendLine(`prodcode lsp did not start: ${String(error)}`);
      void vscode.window.showErrorMessage(`prodcode: the daemon (${binary} lsp) did not start: ${String(error)}. See the "prodcode" output.`);
      return;
    }
    this.session = new Session(client, { name: 'vscode', version: vscode.version });
    this.setState('running');
    for (const editor of vscode.window.visibleTextEditors) {
      this.scheduleRefresh(editor.document, 0);
    }
    this.statusTimer = setInterval(() => void this.refreshStatus(), 15_000);
    void this.refreshStatus();
  }

  async stop(): Promise<void> {
    if (this.statusTimer) {
      clearInterval(this.statusTimer);
      this.statusTimer = undefined;
    }
    const client = this.client;
    this.client = undefined;
    this.session = undefined;
    this.provenanceCache.clear();
    if (client) {
      try {
        await client.stop();
      } catch (error) {
        this.output.appendLine(`stopping the daemon: ${String(error)}`);
      }
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    this.applyDecorations();
    await this.start();
  }

  dispose(): void {
    void this.stop();
    for (const timer of this.refreshTimers.values()) {
      clearTimeout(timer);
    }
    for (const disposable of this.disposables) {
      disposable.dispose();
    }
    this.aiDecoration.dispose();
    this.aiModifiedDecoration.dispose();
    this.statusItem.dispose();
    this.output.dispose();
    this.toolOutput.dispose();
  }

  /**
   * Lets the language client send the `didChange` of an edit that just happened before an
   * extension message about it: its listener runs in the same turn as the change event.
   */
  private afterPendingChanges(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  private onChange(event: vscode.TextDocumentChangeEvent): void {
    const document = event.document;
    if (document.uri.scheme !== 'file' || event.contentChanges.length === 0) {
      return;
    }
    this.scheduleRefresh(document, 400);
    const session = this.session;
    const uri = document.uri.toString();
    if (!session || this.bracketed.has(uri) || event.reason !== undefined) {
      // Undo and redo restore text; the daemon tracks them as ordinary changes.
      return;
    }
    const source = changeSource(event);
    if (!isAiSource(source, this.settings.aiSources)) {
      return;
    }
    const ranges = insertedRanges(event.contentChanges, (offset) => document.positionAt(offset));
    const version = document.version;
    const interactionId = session.interactionForEdit('vscode-edit');
    void this.afterPendingChanges().then(() => session.aiEditApplied(interactionId, uri, version, ranges));
  }

  /** Runs an accept command between checkpoints of the current (or a new) interaction. */
  private async acceptInline(command: string): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const session = this.session;
    if (!editor || !session) {
      await vscode.commands.executeCommand(command);
      return;
    }
    const interactionId = session.interactionForEdit('vscode-inline');
    await this.runBracketed(interactionId, [editor.document], () => vscode.commands.executeCommand(command));
  }

  /** `prodcode.runAsAiEdit`: a keybinding's way to bracket any apply or accept command. */
  private async runAsAiEdit(args: { command?: string; args?: unknown[]; interactionId?: string }): Promise<void> {
    if (!args.command) {
      void vscode.window.showErrorMessage('prodcode.runAsAiEdit needs args: { "command": "<command id>", "args"?: [...] }');
      return;
    }
    const command = args.command;
    const session = this.session;
    if (!session) {
      await vscode.commands.executeCommand(command, ...(args.args ?? []));
      return;
    }
    const interactionId = args.interactionId ?? session.interactionForEdit('vscode-apply');
    await this.runBracketed(interactionId, undefined, () => vscode.commands.executeCommand(command, ...(args.args ?? [])));
  }

  private async runBracketed(interactionId: string, documents: vscode.TextDocument[] | undefined, run: () => Thenable<unknown>): Promise<void> {
    const session = this.session;
    if (!session) {
      await run();
      return;
    }
    const targets = documents ?? vscode.workspace.textDocuments.filter((d) => d.uri.scheme === 'file');
    const uris = targets.map((document) => document.uri.toString());
    for (const uri of uris) {
      this.bracketed.add(uri);
    }
    try {
      await session.bracket(interactionId, documents ? uris : undefined, async () => {
        const changed = documents?.length === 1 ? this.nextChange(documents[0], 1000) : Promise.resolve();
        await run();
        await changed;
        await this.afterPendingChanges();
      });
    } finally {
      for (const uri of uris) {
        this.bracketed.delete(uri);
      }
    }
    for (const document of targets) {
      this.scheduleRefresh(document, 100);
    }
  }

  /** Resolves on the next change of `document`, or after `timeoutMs` (an accept that changed nothing). */
  private nextChange(document: vscode.TextDocument, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        listener.dispose();
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      const listener = vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document === document) {
          done();
        }
      });
    });
  }

  private async recordPrompt(): Promise<void> {
    if (!this.session) {
      void vscode.window.showWarningMessage(this.notRunningMessage());
      return;
    }
    const text = await vscode.window.showInputBox({
      prompt: 'The prompt you are giving an assistant: the next AI edit is credited to it',
      ignoreFocusOut: true,
    });
    if (!text) {
      return;
    }
    const editor = vscode.window.activeTextEditor;
    const contextUris = editor && editor.document.uri.scheme === 'file' ? [editor.document.uri.toString()] : undefined;
    const id = await this.session.prompt(text, { contextUris });
    this.output.appendLine(`prompt recorded as interaction ${id}`);
  }

  private toggleDecorations(): void {
    const on = !this.decorationsOn();
    void this.context.workspaceState.update('prodcode.decorations', on);
    this.applyDecorations();
    for (const editor of vscode.window.visibleTextEditors) {
      this.scheduleRefresh(editor.document, 0);
    }
  }

  private decorationsOn(): boolean {
    return this.context.workspaceState.get<boolean>('prodcode.decorations', true);
  }

  private scheduleRefresh(document: vscode.TextDocument, delayMs: number): void {
    if (document.uri.scheme !== 'file' || !this.session) {
      return;
    }
    const uri = document.uri.toString();
    const previous = this.refreshTimers.get(uri);
    if (previous) {
      clearTimeout(previous);
    }
    this.refreshTimers.set(
      uri,
      setTimeout(() => {
        this.refreshTimers.delete(uri);
        void this.refresh(document);
      }, delayMs),
    );
  }

  private async refresh(document: vscode.TextDocument): Promise<ProvenanceResult | undefined> {
    const session = this.session;
    if (!session) {
      return undefined;
    }
    const uri = document.uri.toString();
    try {
      const result = await session.provenance(uri);
      this.provenanceCache.set(uri, result);
    } catch {
      // Not open in the daemon yet (the client sends didOpen first); the next change retries.
      return undefined;
    }
    this.applyDecorations();
    this.render();
    return this.provenanceCache.get(uri);
  }

  private applyDecorations(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const result = this.provenanceCache.get(editor.document.uri.toString());
      if (!result || !this.decorationsOn() || !this.session) {
        editor.setDecorations(this.aiDecoration, []);
        editor.setDecorations(this.aiModifiedDecoration, []);
        continue;
      }
      const spans = aiSpans(result);
      const toRanges = (list: typeof spans.ai) =>
        list.map((span) => new vscode.Range(span.first, 0, span.last, 0));
      editor.setDecorations(this.aiDecoration, toRanges(spans.ai));
      editor.setDecorations(this.aiModifiedDecoration, toRanges(spans.aiModified));
    }
  }

  private async hover(document: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!this.session) {
      return undefined;
    }
    let result = this.provenanceCache.get(document.uri.toString());
    if (!result || result.version !== document.version) {
      result = await this.refresh(document);
    }
    const span = result && spanAt(result, position.line);
    if (!span || !isAi(span.class)) {
      return undefined;
    }
    const prompt = span.interactionId ? await this.promptOf(span.interactionId) : undefined;
    return new vscode.Hover(new vscode.MarkdownString(hoverMarkdown(span, prompt)));
  }

  /** The prompt of an interaction: this window's, else the latest turn `prodcode log` shows. */
  private async promptOf(interactionId: string): Promise<string | undefined> {
    const known = this.session?.promptText(interactionId);
    if (known !== undefined) {
      return known;
    }
    this.logPrompts ??= this.loadLogPrompts().finally(() => {
      setTimeout(() => (this.logPrompts = undefined), 30_000);
    });
    await this.logPrompts;
    return this.session?.promptText(interactionId);
  }

  private loadLogPrompts(): Promise<void> {
    const binary = resolveBinary(this.settings.path);
    if (!binary) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      childProcess.execFile(binary, logArgs(this.settings), { timeout: 10_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
        if (!error) {
          try {
            for (const [id, text] of promptsFromLog(stdout)) {
              this.session?.rememberPrompt(id, text);
            }
          } catch (parseError) {
            this.output.appendLine(`prodcode log printed no JSON: ${String(parseError)}`);
          }
        }
        resolve();
      });
    });
  }

  private async refreshStatus(): Promise<void> {
    if (!this.session) {
      return;
    }
    try {
      this.lastStatus = await this.session.status();
    } catch (error) {
      this.output.appendLine(`prodcode/status failed: ${String(error)}`);
    }
    this.render();
  }

  private setState(state: DaemonState): void {
    this.state = state;
    this.render();
  }

  private notRunningMessage(): string {
    switch (this.state) {
      case 'off':
        return 'prodcode: capture is off for this workspace (setting prodcode.capture).';
      case 'missing':
        return missingBinaryMessage(this.settings.path);
      default:
        return `prodcode: the daemon is ${this.state}. Run "prodcode: Restart the daemon" or see the "prodcode" output.`;
    }
  }

  /** The status bar item: the daemon's state, and the active file's AI share. */
  private render(): void {
    const editor = vscode.window.activeTextEditor;
    const result = editor && this.provenanceCache.get(editor.document.uri.toString());
    const degraded = this.lastStatus?.storeError;
    let text: string;
    let tooltip: string;
    switch (this.state) {
      case 'off':
        text = '$(circle-slash) prodcode off';
        tooltip = 'Capture is off for this workspace (prodcode.capture).';
        break;
      case 'missing':
        text = '$(error) prodcode missing';
        tooltip = missingBinaryMessage(this.settings.path);
        break;
      case 'starting':
        text = '$(loading~spin) prodcode';
        tooltip = 'Starting prodcode lsp…';
        break;
      case 'stopped':
        text = '$(debug-disconnect) prodcode stopped';
        tooltip = 'The daemon is not running: see the "prodcode" output; "prodcode: Restart the daemon" starts it again.';
        break;
      case 'running':
        text = `${degraded ? '$(warning)' : '$(record)'} prodcode${result ? `: ${shareLabel(result)}` : ''}`;
        tooltip = degraded
          ? `Recording is degraded: ${degraded}`
          : `Recording to ${this.lastStatus?.databasePath ?? 'the default database'}` +
            (this.lastStatus ? ` (${this.lastStatus.counts.durableEvents} events this session)` : '');
        break;
    }
    this.statusItem.text = text;
    this.statusItem.tooltip = tooltip;
  }

  private async showStatus(): Promise<void> {
    await this.refreshStatus();
    this.output.appendLine(`state: ${this.state}`);
    if (this.lastStatus) {
      this.output.appendLine(JSON.stringify(this.lastStatus, null, 2));
    } else if (this.state !== 'running') {
      this.output.appendLine(this.notRunningMessage());
    }
    this.output.show(true);
  }

  private async runTool(tool: ToolName, args: Record<string, unknown>): Promise<void> {
    if (!this.session) {
      void vscode.window.showWarningMessage(this.notRunningMessage());
      return;
    }
    const folder = vscode.window.activeTextEditor
      ? vscode.workspace.getWorkspaceFolder(vscode.window.activeTextEditor.document.uri)
      : undefined;
    this.toolOutput.show(true);
    this.toolOutput.appendLine(`$ prodcode.${tool} ${JSON.stringify(args)}`);
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `prodcode: ${tool}` },
        () => this.session!.runTool(tool, args, folder ? { workspaceFolder: folder.uri.toString() } : {}),
      );
      this.toolOutput.appendLine(result.text);
      if (result.isError) {
        void vscode.window.showErrorMessage(`prodcode ${tool}: ${result.text.split('\n')[0]}`);
      }
    } catch (error) {
      this.toolOutput.appendLine(`failed: ${String(error)}`);
      void vscode.window.showErrorMessage(`prodcode ${tool} failed: ${String(error)}`);
    }
  }

  private async pickTool(): Promise<void> {
    const tool = await vscode.window.showQuickPick([...TOOLS], { placeHolder: 'A prodcode tool (docs/tools.md)' });
    if (!tool) {
      return;
    }
    const json = await vscode.window.showInputBox({ prompt: `Arguments of ${tool}, as a JSON object`, value: '{}' });
    if (json === undefined) {
      return;
    }
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(json) as Record<string, unknown>;
    } catch (error) {
      void vscode.window.showErrorMessage(`prodcode: the arguments are not JSON: ${String(error)}`);
      return;
    }
    await this.runTool(tool as ToolName, args);
  }
}
