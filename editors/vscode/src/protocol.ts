// The `prodcode/*` LSP extension as the extension speaks it: method names, message types and
// the agent tools served as `workspace/executeCommand` commands.
//
// This is a mirror of docs/lsp-extensions.md and src/lsp/ext.rs. Each message type has a shape
// descriptor next to it, and the compiler checks that the descriptor matches the type exactly
// (every field, its JSON kind and whether it may be absent); test/protocol.test.ts checks the
// descriptors against the doc and the Rust structs, so a field renamed on one side fails a test
// instead of silently sending nothing. No `vscode` import here: this module runs under node too.

export const PROMPT_SUBMITTED = 'prodcode/promptSubmitted';
export const AI_EDIT_APPLIED = 'prodcode/aiEditApplied';
export const CHECKPOINT = 'prodcode/checkpoint';
export const PROVENANCE = 'prodcode/provenance';
export const STATUS = 'prodcode/status';

export type MethodKind = 'notification' | 'request';

/** Every extension method, in the order the doc lists them. */
export const METHODS: readonly (readonly [string, MethodKind])[] = [
  [PROMPT_SUBMITTED, 'notification'],
  [AI_EDIT_APPLIED, 'notification'],
  [CHECKPOINT, 'notification'],
  [PROVENANCE, 'request'],
  [STATUS, 'request'],
];

/** Line classes, everywhere. */
export type LineClass = 'ai' | 'ai_modified' | 'human' | 'untracked';

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface AgentInfo {
  name: string;
  model?: string;
  version?: string;
}

export interface PromptSubmittedParams {
  interactionId: string;
  prompt: string;
  agent?: AgentInfo;
  contextUris?: string[];
  /** RFC 3339. */
  timestamp?: string;
}

export interface AiEditAppliedParams {
  interactionId: string;
  textDocument: { uri: string; version: number };
  ranges: Range[];
}

export type CheckpointPhase = 'before' | 'after';

export interface CheckpointParams {
  interactionId: string;
  phase: CheckpointPhase;
  /** Absent: every open document. */
  uris?: string[];
}

export interface ProvenanceParams {
  textDocument: { uri: string };
}

export interface ProvenanceRange {
  range: Range;
  class: LineClass;
  /** Present for `ai` and `ai_modified`. */
  interactionId?: string;
}

/** What the daemon knows of an interaction a provenance range names. */
export interface InteractionInfo {
  agent?: string;
  model?: string;
  /** Verbatim (secrets redacted), in turn order; empty when only the edits were recorded. */
  prompts: string[];
}

export interface ProvenanceResult {
  version: number;
  ranges: ProvenanceRange[];
  /** By interaction id: the interactions the ranges name, as far as the database knows them. */
  interactions?: Record<string, InteractionInfo>;
}

export interface StatusCounts {
  openDocuments: number;
  durableEvents: number;
  pendingEvents: number;
  spooledEvents: number;
  openCheckpoints: number;
}

export interface StatusResult {
  version: string;
  databasePath: string | null;
  workspaceRoots: string[];
  linkedRepositories: string[];
  positionEncoding: string;
  counts: StatusCounts;
  /** Present only while the database refuses writes. */
  storeError?: string;
}

/** `workspace/executeCommand` for a tool: `arguments[0]` the tool's arguments. */
export interface ExecuteCommandParams {
  command: string;
  arguments?: unknown[];
}

export interface ToolResult {
  isError: boolean;
  text: string;
  structuredContent: unknown;
}

/** The optional second command argument. */
export interface ToolOptions {
  /** Another workspace folder than the first. */
  workspaceFolder?: string;
  /**
   * The interaction the call belongs to. Not part of `arguments[1]` on the wire: `Session`
   * sends it in the tool's arguments object, where the daemon takes it out.
   */
  interactionId?: string;
}

/** The tools of docs/tools.md; each is the command `prodcode.<tool>`. */
export const TOOLS = [
  'get_diagnostics',
  'run_tests',
  'find_definition',
  'find_references',
  'hover',
  'document_symbols',
  'workspace_symbols',
  'format',
  'search',
  'lsp_status',
] as const;

export type ToolName = (typeof TOOLS)[number];

export function toolCommand(tool: ToolName): string {
  return `prodcode.${tool}`;
}

// Shape descriptors. A field is its JSON kind (`'string'`, `'number'`, `'boolean'`), a nested
// descriptor, or an array of one of those; a key ending in `?` may be absent (or null).

type Kind<V> = unknown extends V
  ? 'unknown'
  : V extends string
  ? 'string'
  : V extends number
    ? 'number'
    : V extends boolean
      ? 'boolean'
      : V extends readonly (infer E)[]
        ? readonly [Kind<E>]
        : V extends object
          ? Shape<V>
          : 'unknown';

type OptionalKeys<T> = {
  [K in keyof T]-?: unknown extends T[K] ? never : undefined extends T[K] ? K : null extends T[K] ? K : never;
}[keyof T];

/** The descriptor a type must have: exact keys, `?` on those that may be absent. */
export type Shape<T> = {
  [K in keyof T as K extends OptionalKeys<T> ? `${K & string}?` : K]-?: Kind<unknown extends T[K] ? unknown : NonNullable<T[K]>>;
};

export type Descriptor = { readonly [key: string]: Field };
export type Field = 'string' | 'number' | 'boolean' | 'unknown' | Descriptor | readonly [Field];

const POSITION = { line: 'number', character: 'number' } as const satisfies Shape<Position>;
const RANGE = { start: POSITION, end: POSITION } as const satisfies Shape<Range>;
const INTERACTION_INFO = {
  'agent?': 'string',
  'model?': 'string',
  prompts: ['string'],
} as const satisfies Shape<InteractionInfo>;

export const SHAPES = {
  promptSubmitted: {
    interactionId: 'string',
    prompt: 'string',
    'agent?': { name: 'string', 'model?': 'string', 'version?': 'string' },
    'contextUris?': ['string'],
    'timestamp?': 'string',
  } as const satisfies Shape<PromptSubmittedParams>,
  aiEditApplied: {
    interactionId: 'string',
    textDocument: { uri: 'string', version: 'number' },
    ranges: [RANGE],
  } as const satisfies Shape<AiEditAppliedParams>,
  checkpoint: {
    interactionId: 'string',
    phase: 'string',
    'uris?': ['string'],
  } as const satisfies Shape<CheckpointParams>,
  provenanceParams: { textDocument: { uri: 'string' } } as const satisfies Shape<ProvenanceParams>,
  provenanceResult: {
    version: 'number',
    ranges: [{ range: RANGE, class: 'string', 'interactionId?': 'string' }],
    // A map: its one key stands for every interaction id, as in docs/lsp-extensions.md.
    'interactions?': { '<interactionId>': INTERACTION_INFO },
  } as const satisfies Shape<ProvenanceResult>,
  statusResult: {
    version: 'string',
    'databasePath?': 'string',
    workspaceRoots: ['string'],
    linkedRepositories: ['string'],
    positionEncoding: 'string',
    counts: {
      openDocuments: 'number',
      durableEvents: 'number',
      pendingEvents: 'number',
      spooledEvents: 'number',
      openCheckpoints: 'number',
    },
    'storeError?': 'string',
  } as const satisfies Shape<StatusResult>,
  executeCommand: { command: 'string', 'arguments?': ['unknown'] } as const satisfies Shape<ExecuteCommandParams>,
  toolResult: {
    isError: 'boolean',
    text: 'string',
    structuredContent: 'unknown',
  } as const satisfies Shape<ToolResult>,
} as const satisfies Record<string, Descriptor>;
