//! What prodcode adds to each agent's hook configuration, and the pure merge that adds or removes
//! it. No IO: the caller reads and writes the file.
//!
//! Two layouts exist. Claude Code, Codex and Gemini CLI nest handlers in matcher groups:
//! `hooks.<Event>[] = { "matcher"?, "hooks": [handler] }`. Cursor and Copilot CLI list handlers
//! directly: `hooks.<event>[] = handler`. Sources for every shape are in `docs/install.md`.
//!
//! prodcode's handlers are recognised by their command: exactly the one being installed, or any
//! command whose program is named `prodcode…` and whose arguments are `hook <agent>`, or whose
//! program is `prodcode-hook` and whose argument is `<agent>`. So a moved binary's old entries
//! (and those of the other form) are updated in place rather than duplicated, and uninstall finds
//! them.

use super::json::{Json, Object};
use super::{Agent, Change, Status};

/// Where one handler goes: an event and, for grouped layouts, the group's matcher.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub(crate) event: &'static str,
    pub(crate) matcher: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `hooks.<Event>[] = { "matcher"?, "hooks": [handler] }`
    Grouped,
    /// `hooks.<event>[] = handler`
    Flat,
}

/// One agent's hook configuration as prodcode writes it.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) layout: Layout,
    /// The handler member that holds the shell command.
    pub(crate) command_field: &'static str,
    /// Whether the file carries a top-level `"version": 1` (written when prodcode creates it).
    pub(crate) versioned: bool,
    pub(crate) slots: &'static [Slot],
    /// A handler running `command`.
    handler: fn(&str) -> Object,
}

const fn slot(event: &'static str, matcher: Option<&'static str>) -> Slot {
    Slot { event, matcher }
}

/// Claude Code's file-editing tools, and its shell tool.
const CLAUDE_EDITS: &str = "Edit|MultiEdit|Write|NotebookEdit";
const CLAUDE_SHELL: &str = "Bash";
/// Codex reports edits as `apply_patch` and accepts `Edit` and `Write` as matcher aliases for it.
const CODEX_EDITS: &str = "apply_patch|Edit|Write";
const CODEX_SHELL: &str = "Bash";
/// Gemini CLI's edit tools and shell tool in one group: Gemini de-duplicates hooks by name and
/// command, so two groups with the same handler could be merged into one.
const GEMINI_TOOLS: &str = "write_file|replace|run_shell_command";

static CLAUDE: Spec = Spec {
    layout: Layout::Grouped,
    command_field: "command",
    versioned: false,
    slots: &[
        slot("UserPromptSubmit", None),
        slot("PreToolUse", Some(CLAUDE_EDITS)),
        slot("PreToolUse", Some(CLAUDE_SHELL)),
        slot("PostToolUse", Some(CLAUDE_EDITS)),
        slot("PostToolUse", Some(CLAUDE_SHELL)),
        // A tool call that fails still may have changed files, and its bracket must close.
        slot("PostToolUseFailure", Some(CLAUDE_EDITS)),
        slot("PostToolUseFailure", Some(CLAUDE_SHELL)),
        slot("Stop", None),
        slot("SessionEnd", None),
    ],
    handler: |command| {
        [
            ("type".to_owned(), Json::str("command")),
            ("command".to_owned(), Json::str(command)),
            // Seconds. A hook that hangs must not hold the agent for Claude's much longer default.
            ("timeout".to_owned(), Json::int(10)),
        ]
        .into_iter()
        .collect()
    },
};

static CODEX: Spec = Spec {
    layout: Layout::Grouped,
    command_field: "command",
    versioned: false,
    slots: &[
        slot("UserPromptSubmit", None),
        slot("PreToolUse", Some(CODEX_EDITS)),
        slot("PreToolUse", Some(CODEX_SHELL)),
        slot("PostToolUse", Some(CODEX_EDITS)),
        slot("PostToolUse", Some(CODEX_SHELL)),
        slot("Stop", None),
    ],
    handler: |command| {
        [
            ("type".to_owned(), Json::str("command")),
            ("command".to_owned(), Json::str(command)),
        ]
        .into_iter()
        .collect()
    },
};

static CURSOR: Spec = Spec {
    layout: Layout::Flat,
    command_field: "command",
    versioned: true,
    slots: &[
        slot("beforeSubmitPrompt", None),
        slot("afterFileEdit", None),
        slot("beforeShellExecution", None),
        slot("afterShellExecution", None),
        slot("stop", None),
    ],
    handler: |command| {
        [("command".to_owned(), Json::str(command))]
            .into_iter()
            .collect()
    },
};

static COPILOT: Spec = Spec {
    layout: Layout::Flat,
    command_field: "bash",
    versioned: true,
    slots: &[
        slot("userPromptSubmitted", None),
        slot("preToolUse", None),
        slot("postToolUse", None),
        slot("sessionEnd", None),
    ],
    handler: |command| {
        [
            ("type".to_owned(), Json::str("command")),
            ("bash".to_owned(), Json::str(command)),
            ("timeoutSec".to_owned(), Json::int(10)),
        ]
        .into_iter()
        .collect()
    },
};

static GEMINI: Spec = Spec {
    layout: Layout::Grouped,
    command_field: "command",
    versioned: false,
    slots: &[
        slot("BeforeAgent", None),
        slot("BeforeTool", Some(GEMINI_TOOLS)),
        slot("AfterTool", Some(GEMINI_TOOLS)),
        slot("AfterAgent", None),
        slot("SessionEnd", None),
    ],
    handler: |command| {
        [
            // `/hooks disable prodcode` turns all of them off at once.
            ("name".to_owned(), Json::str("prodcode")),
            ("type".to_owned(), Json::str("command")),
            ("command".to_owned(), Json::str(command)),
            // Milliseconds.
            ("timeout".to_owned(), Json::int(10_000)),
        ]
        .into_iter()
        .collect()
    },
};

/// The spec of an agent configured through a JSON file; `None` for git.
pub(crate) fn spec(agent: Agent) -> Option<&'static Spec> {
    match agent {
        Agent::Claude => Some(&CLAUDE),
        Agent::Codex => Some(&CODEX),
        Agent::Cursor => Some(&CURSOR),
        Agent::Copilot => Some(&COPILOT),
        Agent::Gemini => Some(&GEMINI),
        Agent::Git => None,
    }
}

/// The file's hooks are not shaped the way the agent documents them: prodcode will not guess.
#[derive(Debug, thiserror::Error)]
#[error("{path} is {found}, expected {expected}")]
pub(crate) struct ShapeError {
    pub(crate) path: String,
    pub(crate) found: &'static str,
    pub(crate) expected: &'static str,
}

/// Adds prodcode's handlers where absent; updates the command of a prodcode handler that runs
/// another binary; leaves everything else as it is. `fresh` says the file is new or empty.
pub(crate) fn install(
    spec: &Spec,
    agent: Agent,
    root: &mut Object,
    command: &str,
    fresh: bool,
) -> Result<Vec<Change>, ShapeError> {
    if fresh && spec.versioned && root.get("version").is_none() {
        root.insert("version", Json::int(1));
    }
    let hooks = root.entry("hooks", || Json::Object(Object::new()));
    let found = hooks.kind();
    let Some(hooks) = hooks.as_object_mut() else {
        return Err(ShapeError {
            path: "`hooks`".to_owned(),
            found,
            expected: "an object",
        });
    };
    let mut changes = Vec::new();
    for slot in spec.slots {
        let entries = hooks.entry(slot.event, || Json::Array(Vec::new()));
        let found = entries.kind();
        let Some(entries) = entries.as_array_mut() else {
            return Err(ShapeError {
                path: format!("`hooks.{}`", slot.event),
                found,
                expected: "an array",
            });
        };
        let status = match spec.layout {
            Layout::Grouped => install_grouped(spec, agent, entries, slot, command)?,
            Layout::Flat => install_flat(spec, agent, entries, command),
        };
        changes.push(Change {
            event: slot.event.to_owned(),
            matcher: slot.matcher.map(str::to_owned),
            status,
        });
    }
    changes.extend(remove_ours(spec, agent, root, command, Keep::FirstPerSlot));
    Ok(changes)
}

fn install_grouped(
    spec: &Spec,
    agent: Agent,
    groups: &mut Vec<Json>,
    slot: &Slot,
    command: &str,
) -> Result<Status, ShapeError> {
    for (index, group) in groups.iter_mut().enumerate() {
        let Some(group) = group.as_object_mut() else {
            continue;
        };
        if group.get("matcher").and_then(Json::as_str) != slot.matcher {
            continue;
        }
        let Some(handlers) = group.get_mut("hooks") else {
            continue;
        };
        let found = handlers.kind();
        let Some(handlers) = handlers.as_array_mut() else {
            return Err(ShapeError {
                path: format!("`hooks.{}[{index}].hooks`", slot.event),
                found,
                expected: "an array",
            });
        };
        if let Some(status) = refresh_ours(spec, agent, handlers, command) {
            return Ok(status);
        }
    }
    let mut group = Object::new();
    if let Some(matcher) = slot.matcher {
        group.insert("matcher", Json::str(matcher));
    }
    group.insert(
        "hooks",
        Json::Array(vec![Json::Object((spec.handler)(command))]),
    );
    groups.push(Json::Object(group));
    Ok(Status::Added)
}

fn install_flat(spec: &Spec, agent: Agent, handlers: &mut Vec<Json>, command: &str) -> Status {
    if let Some(status) = refresh_ours(spec, agent, handlers, command) {
        return status;
    }
    handlers.push(Json::Object((spec.handler)(command)));
    Status::Added
}

/// If one of `handlers` is prodcode's, makes it run `command` and says whether it had to.
fn refresh_ours(spec: &Spec, agent: Agent, handlers: &mut [Json], command: &str) -> Option<Status> {
    let handler = handlers
        .iter_mut()
        .find(|handler| is_ours(spec, agent, handler, command))?;
    let object = handler.as_object_mut()?;
    if object.get(spec.command_field).and_then(Json::as_str) == Some(command) {
        Some(Status::Present)
    } else {
        object.insert(spec.command_field, Json::str(command));
        Some(Status::Updated)
    }
}

/// Removes every prodcode handler, and the groups, event lists and `hooks` object that held
/// nothing else. Never fails: a part shaped unexpectedly cannot hold prodcode's entries.
pub(crate) fn uninstall(
    spec: &Spec,
    agent: Agent,
    root: &mut Object,
    command: &str,
) -> Vec<Change> {
    remove_ours(spec, agent, root, command, Keep::None)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Uninstall: remove them all.
    None,
    /// Install: keep the first prodcode handler of each slot, remove the rest (duplicates, and
    /// entries an older prodcode wrote under events or matchers it no longer uses).
    FirstPerSlot,
}

fn remove_ours(
    spec: &Spec,
    agent: Agent,
    root: &mut Object,
    command: &str,
    keep: Keep,
) -> Vec<Change> {
    let Some(hooks) = root.get_mut("hooks").and_then(Json::as_object_mut) else {
        return Vec::new();
    };
    let mut kept: Vec<(String, Option<String>)> = Vec::new();
    // Whether to remove one of prodcode's handlers found under `event` and `matcher`.
    let mut remove = |event: &str, matcher: Option<&str>| {
        let in_spec = spec
            .slots
            .iter()
            .any(|slot| slot.event == event && slot.matcher == matcher);
        let seen = kept
            .iter()
            .any(|(e, m)| e == event && m.as_deref() == matcher);
        if keep == Keep::FirstPerSlot && in_spec && !seen {
            kept.push((event.to_owned(), matcher.map(str::to_owned)));
            return false;
        }
        true
    };
    let mut changes = Vec::new();
    let mut emptied = Vec::new();
    for (event, entries) in hooks.members_mut() {
        let Some(entries) = entries.as_array_mut() else {
            continue;
        };
        let before = changes.len();
        let mut strip = |handlers: &mut Vec<Json>, matcher: Option<String>| {
            handlers.retain(|handler| {
                let drop =
                    is_ours(spec, agent, handler, command) && remove(event, matcher.as_deref());
                if drop {
                    changes.push(Change {
                        event: event.to_owned(),
                        matcher: matcher.clone(),
                        status: Status::Removed,
                    });
                }
                !drop
            });
        };
        match spec.layout {
            Layout::Grouped => entries.retain_mut(|group| {
                let Some(object) = group.as_object_mut() else {
                    return true;
                };
                let matcher = object
                    .get("matcher")
                    .and_then(Json::as_str)
                    .map(str::to_owned);
                let Some(handlers) = object.get_mut("hooks").and_then(Json::as_array_mut) else {
                    return true;
                };
                let count = handlers.len();
                strip(handlers, matcher);
                !(handlers.is_empty() && handlers.len() < count)
            }),
            Layout::Flat => strip(entries, None),
        }
        if changes.len() > before && entries.is_empty() {
            emptied.push(event.to_owned());
        }
    }
    for event in &emptied {
        hooks.remove(event);
    }
    if !changes.is_empty() && hooks.is_empty() {
        root.remove("hooks");
    }
    changes
}

/// True when the document holds nothing but what prodcode writes into a new file, so that
/// uninstalling may delete a file prodcode created.
pub(crate) fn is_bare(spec: &Spec, root: &Object) -> bool {
    root.keys()
        .all(|key| spec.versioned && key == "version" && root.get(key) == Some(&Json::int(1)))
}

fn is_ours(spec: &Spec, agent: Agent, handler: &Json, command: &str) -> bool {
    handler
        .as_object()
        .and_then(|handler| handler.get(spec.command_field))
        .and_then(Json::as_str)
        .is_some_and(|text| text == command || is_prodcode_hook(text, agent))
}

/// `'/any/path/prodcode' hook <agent>` or `'/any/path/prodcode-hook' <agent>`, quoted or not.
pub(crate) fn is_prodcode_hook(command: &str, agent: Agent) -> bool {
    let Some((program, rest)) = split_program(command.trim()) else {
        return false;
    };
    let name = program.rsplit(['/', '\\']).next().unwrap_or(&program);
    let hook_program = name
        .strip_suffix(".exe")
        .unwrap_or(name)
        .eq(crate::capture::hook::HOOK_PROGRAM);
    if hook_program {
        return rest.split_whitespace().eq([agent.name()]);
    }
    name.starts_with("prodcode") && rest.split_whitespace().eq(["hook", agent.name()])
}

/// The first shell word (unquoting `'…'` and `"…"`) and the rest of the line.
fn split_program(command: &str) -> Option<(String, &str)> {
    let quote = command.chars().next().filter(|c| *c == '\'' || *c == '"');
    match quote {
        Some(quote) => {
            let body = &command[1..];
            let end = body.find(quote)?;
            Some((body[..end].to_owned(), &body[end + 1..]))
        }
        None => {
            let end = command.find(char::is_whitespace).unwrap_or(command.len());
            Some((command[..end].to_owned(), &command[end..]))
        }
    }
}

/// Notes about settings elsewhere in the file that would keep the hooks from running.
pub(crate) fn notes(agent: Agent, root: &Object) -> Vec<String> {
    let mut notes = Vec::new();
    if agent == Agent::Gemini {
        let off = |outer: &str, inner: &str| {
            root.get(outer)
                .and_then(Json::as_object)
                .and_then(|object| object.get(inner))
                == Some(&Json::Bool(false))
        };
        if off("hooksConfig", "enabled") {
            notes.push("`hooksConfig.enabled` is false: Gemini CLI runs no hooks".to_owned());
        }
        if off("tools", "enableHooks") {
            notes.push("`tools.enableHooks` is false: Gemini CLI runs no hooks".to_owned());
        }
        let disabled = root
            .get("hooks")
            .and_then(Json::as_object)
            .and_then(|hooks| hooks.get("disabled"));
        if let Some(Json::Array(names)) = disabled
            && names.contains(&Json::str("prodcode"))
        {
            notes
                .push("`hooks.disabled` lists \"prodcode\": Gemini CLI skips its hooks".to_owned());
        }
    }
    notes
}

/// The key in Codex's `config.toml` that turns hooks off, if one does: `hooks` (or its older
/// name `codex_hooks`) set to `false` in `[features]`. A line scan, not a TOML parser: it only
/// decides whether to print a note.
pub(crate) fn codex_hooks_switched_off(config_toml: &str) -> Option<String> {
    let mut table = String::new();
    for line in config_toml.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(header) = line.strip_prefix('[') {
            table = header.trim_end_matches(']').trim().to_owned();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        let key = match table.as_str() {
            "" => key.strip_prefix("features.").unwrap_or_default(),
            "features" => key,
            _ => continue,
        };
        if matches!(key, "hooks" | "codex_hooks") && value.trim() == "false" {
            return Some(format!("features.{key}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_leaves_one_prodcode_handler_per_slot() {
        let ours = |matcher: &str| {
            format!(
                r#"{{ {matcher} "hooks": [ {{ "type": "command", "command": "/old/prodcode hook claude" }} ] }}"#
            )
        };
        let text = format!(
            r#"{{ "hooks": {{ "Stop": [ {}, {} ], "Notification": [ {} ], "PreToolUse": [ {} ] }} }}"#,
            ours(""),
            ours(""),
            ours(""),
            ours(r#""matcher": "Edit|Write","#),
        );
        let mut document = super::super::json::Document::parse(&text).unwrap();
        let changes = install(
            &CLAUDE,
            Agent::Claude,
            &mut document.root,
            "/new/prodcode hook claude",
            false,
        )
        .unwrap();
        let removed: Vec<_> = changes
            .iter()
            .filter(|change| change.status == Status::Removed)
            .map(|change| (change.event.as_str(), change.matcher.as_deref()))
            .collect();
        assert_eq!(
            removed,
            [
                ("Stop", None),
                ("Notification", None),
                ("PreToolUse", Some("Edit|Write"))
            ]
        );
        let hooks = document
            .root
            .get("hooks")
            .and_then(Json::as_object)
            .unwrap();
        assert!(hooks.get("Notification").is_none());
        let again = install(
            &CLAUDE,
            Agent::Claude,
            &mut document.root,
            "/new/prodcode hook claude",
            false,
        )
        .unwrap();
        assert!(again.iter().all(|change| change.status == Status::Present));
    }

    #[test]
    fn finds_codex_hooks_switched_off() {
        let config = "model = \"o3\"\n[features]\nweb_search = true\nhooks = false # for now\n";
        assert_eq!(
            codex_hooks_switched_off(config).as_deref(),
            Some("features.hooks")
        );
        let config = "features.codex_hooks = false\n[profiles.x]\nhooks = false\n";
        assert_eq!(
            codex_hooks_switched_off(config).as_deref(),
            Some("features.codex_hooks")
        );
        let config = "[profiles.x]\nhooks = false\n[features]\nhooks = true\n";
        assert_eq!(codex_hooks_switched_off(config), None);
    }

    #[test]
    fn recognises_prodcode_hook_commands() {
        for command in [
            "/usr/local/bin/prodcode hook claude",
            "'/home/a b/prodcode' hook claude",
            "\"C:\\Tools\\prodcode.exe\"  hook   claude ",
            "prodcode hook claude",
            "/usr/local/bin/prodcode-hook claude",
            "'/home/a b/prodcode-hook' claude",
        ] {
            assert!(is_prodcode_hook(command, Agent::Claude), "{command}");
        }
        for command in [
            "/usr/local/bin/prodcode hook codex",
            "/usr/local/bin/prodcode hook claude --debug",
            "/usr/bin/notprodcode hook claude",
            "echo prodcode hook claude",
            "'unterminated hook claude",
            "/usr/local/bin/prodcode-hook codex",
            "/usr/local/bin/prodcode-hook hook claude",
            "/usr/local/bin/prodcode-hook claude --debug",
        ] {
            assert!(!is_prodcode_hook(command, Agent::Claude), "{command}");
        }
    }
}
