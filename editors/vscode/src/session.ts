// The extension's side of the `prodcode/*` conversation with one daemon, over any connection
// that can send notifications and requests: VS Code's `LanguageClient` in the editor, a plain
// `vscode-jsonrpc` connection in the tests. It also keeps the little state the protocol leaves
// to the client: the interaction the next AI edit belongs to, and the prompts this window sent
// (for the hover). No `vscode` import: this runs under node too.

import * as crypto from 'node:crypto';

import {
  AI_EDIT_APPLIED,
  type AgentInfo,
  CHECKPOINT,
  type CheckpointPhase,
  type PromptSubmittedParams,
  PROMPT_SUBMITTED,
  PROVENANCE,
  type ProvenanceResult,
  type Range,
  STATUS,
  type StatusResult,
  type ToolName,
  type ToolOptions,
  type ToolResult,
  toolCommand,
} from './protocol';

/** What `vscode-languageclient`'s `LanguageClient` and `vscode-jsonrpc`'s connection share. */
export interface Connection {
  sendNotification(method: string, params: unknown): Promise<void> | void;
  sendRequest<R>(method: string, params: unknown): Promise<R>;
}

export interface PromptOptions {
  agent?: AgentInfo;
  contextUris?: string[];
  /** A second turn of an interaction already started. */
  interactionId?: string;
}

/** A fresh interaction id: `<prefix>-<random>`, unique across windows and restarts. */
export function newInteractionId(prefix = 'vscode'): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/**
 * How long a prompt stays the one AI edits are credited to, from the prompt or the last edit
 * credited to it: an inline suggestion accepted an hour later is not that prompt's work.
 */
export const PROMPT_HOLDS_MS = 30 * 60 * 1000;

export class Session {
  /** The interaction the next AI edit without one of its own belongs to, and since when. */
  private pending: { id: string; at: number } | undefined;
  private readonly prompts = new Map<string, string>();
  /** False once the daemon refused `interactionId` in tool arguments. */
  private toolsTakeInteraction = true;

  constructor(
    private readonly connection: Connection,
    private readonly defaultAgent: AgentInfo = { name: 'vscode' },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a prompt (`prodcode/promptSubmitted`) and makes its interaction the one the next AI
   * edit is credited to. Returns the interaction id.
   */
  async prompt(text: string, options: PromptOptions = {}): Promise<string> {
    const interactionId = options.interactionId ?? newInteractionId();
    const params: PromptSubmittedParams = {
      interactionId,
      prompt: text,
      agent: options.agent ?? this.defaultAgent,
      timestamp: new Date().toISOString(),
    };
    if (options.contextUris && options.contextUris.length > 0) {
      params.contextUris = options.contextUris;
    }
    await this.connection.sendNotification(PROMPT_SUBMITTED, params);
    this.prompts.set(interactionId, text);
    this.pending = { id: interactionId, at: this.now() };
    return interactionId;
  }

  /**
   * The interaction of an AI edit observed without one: the last prompt's while it holds
   * (`PROMPT_HOLDS_MS`, renewed by each edit), else a new one named after where the edit came
   * from (`vscode-inline-…`).
   */
  interactionForEdit(origin = 'vscode'): string {
    const current = this.currentInteraction();
    if (current === undefined) {
      return newInteractionId(origin);
    }
    this.pending = { id: current, at: this.now() };
    return current;
  }

  /** The interaction the last prompt started, while it holds. */
  currentInteraction(): string | undefined {
    if (this.pending && this.now() - this.pending.at <= PROMPT_HOLDS_MS) {
      return this.pending.id;
    }
    return undefined;
  }

  /** The text of a prompt this window sent. */
  promptText(interactionId: string): string | undefined {
    return this.prompts.get(interactionId);
  }

  /** Remembers a prompt learned elsewhere (`prodcode log`), for the hover. */
  rememberPrompt(interactionId: string, text: string): void {
    this.prompts.set(interactionId, text);
  }

  /** `prodcode/aiEditApplied`: `ranges` of `uri` as of `version` hold text the AI inserted. */
  async aiEditApplied(interactionId: string, uri: string, version: number, ranges: Range[]): Promise<void> {
    if (ranges.length === 0) {
      return;
    }
    await this.connection.sendNotification(AI_EDIT_APPLIED, {
      interactionId,
      textDocument: { uri, version },
      ranges,
    });
  }

  /** `prodcode/checkpoint`: brackets an edit that cannot be described as ranges. */
  async checkpoint(interactionId: string, phase: CheckpointPhase, uris?: string[]): Promise<void> {
    await this.connection.sendNotification(CHECKPOINT, uris ? { interactionId, phase, uris } : { interactionId, phase });
  }

  /**
   * Runs `edit` between a `before` and an `after` checkpoint of `interactionId` for `uris`;
   * the `after` is sent even when the edit throws, so no bracket stays open.
   */
  async bracket<T>(interactionId: string, uris: string[] | undefined, edit: () => Promise<T>): Promise<T> {
    await this.checkpoint(interactionId, 'before', uris);
    try {
      return await edit();
    } finally {
      await this.checkpoint(interactionId, 'after', uris);
    }
  }

  provenance(uri: string): Promise<ProvenanceResult> {
    return this.connection.sendRequest<ProvenanceResult>(PROVENANCE, { textDocument: { uri } });
  }

  status(): Promise<StatusResult> {
    return this.connection.sendRequest<StatusResult>(STATUS, null);
  }

  /**
   * Calls an agent tool through `workspace/executeCommand`, named after the current prompt's
   * interaction unless `options` names one: `interactionId` goes in the tool's arguments
   * (`arguments[0]`), which the daemon takes out before the tool sees them. A daemon from before
   * that refuses it as an unknown argument; the call is then made again without it, and later
   * calls leave it out.
   */
  async runTool(tool: ToolName, args: Record<string, unknown> = {}, options: ToolOptions = {}): Promise<ToolResult> {
    const interactionId = options.interactionId ?? this.currentInteraction();
    const second: ToolOptions = {};
    if (options.workspaceFolder !== undefined) {
      second.workspaceFolder = options.workspaceFolder;
    }
    const call = (first: Record<string, unknown>) =>
      this.connection.sendRequest<ToolResult>('workspace/executeCommand', {
        command: toolCommand(tool),
        arguments: second.workspaceFolder !== undefined ? [first, second] : [first],
      });
    if (interactionId === undefined || !this.toolsTakeInteraction) {
      return call(args);
    }
    const result = await call({ ...args, interactionId });
    if (refusedInteractionArgument(result)) {
      this.toolsTakeInteraction = false;
      return call(args);
    }
    return result;
  }
}

/** Whether a tool refused `interactionId` as an unknown argument (a daemon from before it). */
export function refusedInteractionArgument(result: ToolResult): boolean {
  const error = (result.structuredContent as { error?: { kind?: unknown; message?: unknown } } | null)?.error;
  return (
    result.isError &&
    error?.kind === 'invalid_argument' &&
    typeof error.message === 'string' &&
    error.message.includes('`interactionId`')
  );
}
