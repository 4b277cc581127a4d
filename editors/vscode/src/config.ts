// Settings turned into what the extension does: where the `prodcode` binary is, how the daemon
// is started, which change sources count as AI. No `vscode` import: this runs under node too.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Settings {
  /** `prodcode.path`: a command name looked up on PATH, or a path. */
  path: string;
  /** `prodcode.databasePath`: empty means the daemon's default (`PRODCODE_DB`, else XDG). */
  databasePath: string;
  /** `prodcode.capture`: false starts no daemon for the workspace, so nothing is recorded. */
  capture: boolean;
  /** `prodcode.aiSources`: change sources (as VS Code names them) that count as AI edits. */
  aiSources: string[];
}

export const INSTALL_HINT =
  'Install it with `cargo install --locked --path .` in a checkout of prodcode (it puts `prodcode` in ~/.cargo/bin), ' +
  'or set `prodcode.path` to the binary.';

/**
 * The binary to run: `setting` itself when it names a path (absolute, or with a separator;
 * `~` is the home directory), else the first executable of that name on `PATH`, else in
 * `~/.cargo/bin` (where `cargo install` puts it and where an editor started from a desktop
 * session may not have PATH point). `undefined` when there is none.
 */
export function resolveBinary(
  setting: string,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const name = setting.trim() === '' ? 'prodcode' : setting.trim();
  const expanded = name === '~' || name.startsWith('~/') ? path.join(home, name.slice(1)) : name;
  if (expanded.includes('/') || expanded.includes(path.sep)) {
    return isExecutable(expanded) ? path.resolve(expanded) : undefined;
  }
  const extensions = platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '');
  dirs.push(path.join(home, '.cargo', 'bin'));
  for (const dir of dirs) {
    for (const extension of extensions) {
      const candidate = path.join(dir, expanded + extension.toLowerCase());
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** What the person reads when the binary cannot be found. */
export function missingBinaryMessage(setting: string): string {
  const what = setting.trim() === '' || setting.trim() === 'prodcode' ? '`prodcode` is not on PATH' : `\`${setting}\` (prodcode.path) is not an executable`;
  return `prodcode: ${what}, so nothing is recorded. ${INSTALL_HINT}`;
}

/** The daemon's arguments. */
export function serverArgs(settings: Pick<Settings, 'databasePath'>, home: string = os.homedir()): string[] {
  const db = settings.databasePath.trim();
  if (db === '') {
    return ['lsp'];
  }
  return ['lsp', '--db', db === '~' || db.startsWith('~/') ? path.join(home, db.slice(1)) : db];
}

/**
 * Whether a change source counts as AI: equal to one of `aiSources` ignoring case, or starting
 * with one followed by `.` or `:` (`chat` covers `chat.applyEdits`).
 */
export function isAiSource(source: string | undefined, aiSources: readonly string[]): boolean {
  if (source === undefined || source === '') {
    return false;
  }
  const lower = source.toLowerCase();
  return aiSources.some((entry) => {
    const wanted = entry.toLowerCase();
    return lower === wanted || lower.startsWith(`${wanted}.`) || lower.startsWith(`${wanted}:`);
  });
}

/** The sources VS Code gives inline-completion accepts and chat edits. */
export const DEFAULT_AI_SOURCES = [
  'inlineCompletionAccept',
  'inlineCompletionPartialAccept',
  'inlineSuggestion',
  'Chat.applyEdits',
  'inlineChat.applyEdits',
  'chatEditing',
];

/** `prodcode log` as the hover runs it, on the daemon's database, for prompts it did not send. */
export function logArgs(settings: Pick<Settings, 'databasePath'>, home: string = os.homedir()): string[] {
  return ['log', '--limit', '200', '--json', ...serverArgs(settings, home).slice(1)];
}
