//! Codex's hook trust: Codex runs a hook from `hooks.json` only when the user's `config.toml`
//! holds `[hooks.state."<hooks.json path>:<event>:<group>:<handler>"]` with a `trusted_hash`
//! equal to the hash of the handler's definition (what its `/hooks` screen writes when the
//! person trusts a hook). Without it Codex skips the hook silently (issue 12).
//!
//! The hash, found by experiment against Codex 0.171 (`tests/it/live_codex.rs` runs hooks trusted
//! only this way): `sha256:` and the hex SHA-256 of the compact JSON, keys sorted, of
//! `{"event_name": <event in snake_case>, "hooks": [<handler>], "matcher"?: <group's matcher>}`,
//! the handler normalized to `{"async": bool, "command", "timeout": seconds (600 when unset),
//! "type": "command"}`. Positions are the group's and the handler's indices in the file, so the
//! entries are computed from the file as written.
//!
//! Pure: text in, text out; the caller reads and writes the files.

use serde_json::Value;

/// One `[hooks.state."<key>"]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Trust {
    pub(crate) key: String,
    pub(crate) hash: String,
}

/// Codex's snake_case label of an event, as keys and hashes use it.
fn label(event: &str) -> String {
    let mut label = String::new();
    for (index, character) in event.chars().enumerate() {
        if character.is_ascii_uppercase() {
            if index > 0 {
                label.push('_');
            }
            label.push(character.to_ascii_lowercase());
        } else {
            label.push(character);
        }
    }
    label
}

/// The trust entries of every handler in `hooks_json` (the file's text) that runs `command` (or
/// another form of prodcode's Codex hook, as a moved binary's entries are updated in place);
/// `source` is the path Codex reads the file from.
pub(crate) fn entries(source: &str, hooks_json: &str, command: &str) -> Vec<Trust> {
    let Ok(document) = serde_json::from_str::<Value>(hooks_json) else {
        return Vec::new();
    };
    let Some(events) = document.get("hooks").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut trusts = Vec::new();
    for (event, groups) in events {
        let label = label(event);
        for (group_index, group) in groups.as_array().into_iter().flatten().enumerate() {
            let matcher = group.get("matcher").and_then(Value::as_str);
            let handlers = group.get("hooks").and_then(Value::as_array);
            for (handler_index, handler) in handlers.into_iter().flatten().enumerate() {
                let ours = handler
                    .get("command")
                    .and_then(Value::as_str)
                    .is_some_and(|text| {
                        text == command
                            || super::agents::is_prodcode_hook(text, super::Agent::Codex)
                    });
                if !ours {
                    continue;
                }
                trusts.push(Trust {
                    key: format!("{source}:{label}:{group_index}:{handler_index}"),
                    hash: hash(&label, matcher, handler),
                });
            }
        }
    }
    trusts
}

/// `sha256:<hex>` of the handler's normalized definition.
fn hash(label: &str, matcher: Option<&str>, handler: &Value) -> String {
    let session_end = label == "session_end";
    let timeout = handler
        .get("timeout")
        .and_then(Value::as_u64)
        .unwrap_or(if session_end { 1 } else { 600 });
    let timeout = if session_end {
        timeout.clamp(1, 3)
    } else {
        timeout.max(1)
    };
    let asynchronous = handler
        .get("async")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let command = handler.get("command").and_then(Value::as_str).unwrap_or("");
    let mut normalized = format!(
        "{{\"async\":{asynchronous},\"command\":{},",
        Value::from(command)
    );
    if let Some(message) = handler.get("statusMessage").and_then(Value::as_str) {
        normalized.push_str(&format!("\"statusMessage\":{},", Value::from(message)));
    }
    normalized.push_str(&format!("\"timeout\":{timeout},\"type\":\"command\"}}"));
    let mut identity = format!(
        "{{\"event_name\":{},\"hooks\":[{normalized}]",
        Value::from(label)
    );
    if let Some(matcher) = matcher {
        identity.push_str(&format!(",\"matcher\":{}", Value::from(matcher)));
    }
    identity.push('}');
    let digest = ring::digest::digest(&ring::digest::SHA256, identity.as_bytes());
    let hex: String = digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn header(key: &str) -> String {
    format!("[hooks.state.{}]", quoted(key))
}

/// Whether `line` starts a TOML table (or array of tables).
fn is_header(line: &str) -> bool {
    line.trim_start().starts_with('[')
}

/// `config` with a `[hooks.state."<key>"]` table holding `trusted_hash` for each of `add`, and
/// without the tables of `remove` (keys). A line edit, not a TOML rewrite: everything else in
/// the file (comments, order, other tables) stays as it was. Returns `None` when nothing
/// changes.
pub(crate) fn edit(config: &str, add: &[Trust], remove: &[String]) -> Option<String> {
    let mut lines: Vec<String> = config.lines().map(str::to_owned).collect();
    for key in remove {
        if add.iter().any(|trust| &trust.key == key) {
            continue;
        }
        let header = header(key);
        if let Some(start) = lines.iter().position(|line| line.trim() == header) {
            let mut end = (start + 1..lines.len())
                .find(|index| is_header(&lines[*index]))
                .unwrap_or(lines.len());
            // Blank lines before the next table stay; the one before this table goes with it.
            while end > start + 1 && lines[end - 1].trim().is_empty() {
                end -= 1;
            }
            lines.drain(start..end);
            if start > 0 && lines[start - 1].trim().is_empty() {
                lines.remove(start - 1);
            }
        }
    }
    for trust in add {
        let header = header(&trust.key);
        let value = format!("trusted_hash = {}", quoted(&trust.hash));
        match lines.iter().position(|line| line.trim() == header) {
            Some(start) => {
                let end = (start + 1..lines.len())
                    .find(|index| is_header(&lines[*index]))
                    .unwrap_or(lines.len());
                match (start + 1..end).find(|index| {
                    lines[*index]
                        .trim_start()
                        .strip_prefix("trusted_hash")
                        .is_some_and(|rest| rest.trim_start().starts_with('='))
                }) {
                    Some(index) => lines[index] = value,
                    None => lines.insert(start + 1, value),
                }
            }
            None => {
                if lines.last().is_some_and(|line| !line.trim().is_empty()) {
                    lines.push(String::new());
                }
                lines.push(header);
                lines.push(value);
            }
        }
    }
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    (text != config).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Codex 0.171 accepted in a live run (the hooks ran only with these entries).
    #[test]
    fn hashes_match_what_codex_accepts() {
        let hooks = r#"{"hooks": {
            "UserPromptSubmit": [{"hooks": [{"type": "command", "command": "/p hook codex"}]}],
            "PreToolUse": [
                {"matcher": "other", "hooks": [{"type": "command", "command": "/other"}]},
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "/p hook codex"}]}
            ]
        }}"#;
        let trusts = entries("/h/.codex/hooks.json", hooks, "/p hook codex");
        let mut keys: Vec<&str> = trusts.iter().map(|trust| trust.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "/h/.codex/hooks.json:pre_tool_use:1:0",
                "/h/.codex/hooks.json:user_prompt_submit:0:0"
            ]
        );
        let prompt = trusts
            .iter()
            .find(|trust| trust.key.contains("user_prompt_submit"))
            .unwrap();
        // sha256 of {"event_name":"user_prompt_submit","hooks":[{"async":false,
        // "command":"/p hook codex","timeout":600,"type":"command"}]}
        let expected = ring::digest::digest(
            &ring::digest::SHA256,
            br#"{"event_name":"user_prompt_submit","hooks":[{"async":false,"command":"/p hook codex","timeout":600,"type":"command"}]}"#,
        );
        let hex: String = expected
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(prompt.hash, format!("sha256:{hex}"));
        assert_ne!(trusts[0].hash, trusts[1].hash);
        assert_eq!(label("PostToolUse"), "post_tool_use");
    }

    #[test]
    fn trust_is_added_updated_and_removed_leaving_the_rest() {
        let config = "# mine\nmodel = \"x\"\n\n[hooks.state.\"/a:stop:0:0\"]\nenabled = true\ntrusted_hash = \"sha256:old\"\n\n[other]\nk = 1\n";
        let add = vec![
            Trust {
                key: "/a:stop:0:0".to_owned(),
                hash: "sha256:new".to_owned(),
            },
            Trust {
                key: "/a:pre_tool_use:1:0".to_owned(),
                hash: "sha256:pre".to_owned(),
            },
        ];
        let edited = edit(config, &add, &[]).unwrap();
        assert_eq!(
            edited,
            "# mine\nmodel = \"x\"\n\n[hooks.state.\"/a:stop:0:0\"]\nenabled = true\ntrusted_hash = \"sha256:new\"\n\n[other]\nk = 1\n\n[hooks.state.\"/a:pre_tool_use:1:0\"]\ntrusted_hash = \"sha256:pre\"\n"
        );
        assert!(toml::from_str::<toml::Table>(&edited).is_ok());
        assert_eq!(edit(&edited, &add, &[]), None, "idempotent");
        let removed = edit(
            &edited,
            &[],
            &["/a:stop:0:0".to_owned(), "/a:pre_tool_use:1:0".to_owned()],
        )
        .unwrap();
        assert_eq!(removed, "# mine\nmodel = \"x\"\n\n[other]\nk = 1\n");
        // A path with a quote or a backslash stays one valid key.
        let odd = edit(
            "",
            &[Trust {
                key: "/a \"b\"\\c:stop:0:0".to_owned(),
                hash: "sha256:h".to_owned(),
            }],
            &[],
        )
        .unwrap();
        let table: toml::Table = toml::from_str(&odd).unwrap();
        assert_eq!(
            table["hooks"]["state"]["/a \"b\"\\c:stop:0:0"]["trusted_hash"].as_str(),
            Some("sha256:h")
        );
    }
}
