//! The reports over linked commits through the real binary: `stats`, `blame` (with and without
//! `--rev`), `log --landed` and `export agent-trace`, on a small known history made with real
//! capture (AI edits through `prodcode hook claude`, a person's edits through the daemon, a
//! plain write nobody recorded, an excluded lockfile), `git commit` and `prodcode link`.
//!
//! Exported Agent Trace records are checked against the published schema
//! (`tests/data/agent-trace/trace-record.json`) by a small draft 2020-12 validator below: the
//! `jsonschema` crate would cost minutes of compilation on two cores for one test.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Claude, Editor, Workspace, ai_write, git, link};

/// The model Claude Code names in the `session_start.json` fixture.
const MODEL: &str = "claude-opus-4-5-20251101";
/// The transcript path the Claude fixtures report for session `s1`.
const TRANSCRIPT_S1: &str = "file:///home/dev/.claude/projects/-work-repo/s1.jsonl";

/// The known history: `init` (README, untracked), `first` (an AI file of 3 lines, a plain write
/// of 2 lines nobody recorded, a 3-line Cargo.lock), `second` (a person changes one AI line and
/// adds one), all on main and linked.
struct History {
    ws: Workspace,
    init: String,
    first: String,
    second: String,
}

fn head(ws: &Workspace) -> String {
    git(&ws.root, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn commit_all(ws: &Workspace, message: &str) -> String {
    git(&ws.root, &["add", "-A"]);
    git(&ws.root, &["commit", "-q", "-m", message]);
    head(ws)
}

fn history() -> History {
    let ws = Workspace::new();
    let init = head(&ws);
    let mut claude = Claude::start(&ws, "s1");
    std::fs::create_dir_all(ws.path("src")).unwrap();
    ai_write(
        &mut claude,
        &ws.path("src/lib.rs"),
        "fn one() {}\nfn two() {}\nfn three() {}\n",
    );
    ws.write("notes.txt", "written while\nnobody watched\n");
    ws.write("Cargo.lock", "# lock\n[[package]]\nname = \"x\"\n");
    let first = commit_all(&ws, "first");
    link(&ws);

    let mut editor = Editor::new(&ws);
    editor.edit_steps(
        &ws.path("src/lib.rs"),
        &[
            "fn one() {}\nfn two() { 2 }\nfn three() {}\n",
            "fn one() {}\nfn two() { 2 }\nfn three() {}\nfn four() {}\n",
        ],
    );
    drop(editor);
    let second = commit_all(&ws, "second");
    link(&ws);
    History {
        ws,
        init,
        first,
        second,
    }
}

fn stats(ws: &Workspace, extra: &[&str]) -> Value {
    let root = ws.root.to_string_lossy().into_owned();
    let mut args = vec!["stats", "--json", "--repo", &root];
    args.extend_from_slice(extra);
    ws.prodcode_json(&args)
}

#[test]
fn stats_count_lines_by_class_agent_and_interaction() {
    let h = history();
    let root = h.ws.root.to_string_lossy().into_owned();
    assert_eq!(
        stats(&h.ws, &[]),
        json!({
            "repo": root,
            "range": null,
            "commits": 3,
            "unlinked": 0,
            "lines": {
                "added": 8, "excluded": 3,
                "ai": 3, "ai_modified": 1, "human": 1, "untracked": 3,
            },
            "agents": [
                { "agent": "claude-code", "model": MODEL, "ai": 3, "ai_modified": 1 },
            ],
            "interactions": [ {
                "interactionId": "claude:s1", "agent": "claude-code", "model": MODEL,
                "prompt": "a task for s1", "ai": 3, "ai_modified": 1,
                "commits": [h.first, h.second],
            } ],
        })
    );

    // A range counts its commits only; a single revision is one commit.
    let second_only = stats(&h.ws, &[&format!("{}..{}", h.first, h.second)]);
    assert_eq!(second_only["commits"], 1);
    assert_eq!(
        second_only["lines"],
        json!({ "added": 2, "excluded": 0, "ai": 0, "ai_modified": 1, "human": 1, "untracked": 0 })
    );
    assert_eq!(second_only["interactions"][0]["commits"], json!([h.second]));
    let first_only = stats(&h.ws, &["HEAD~1"]);
    assert_eq!(first_only["range"], "HEAD~1");
    assert_eq!(
        first_only["lines"],
        json!({ "added": 5, "excluded": 3, "ai": 3, "ai_modified": 0, "human": 0, "untracked": 2 })
    );
    let all = stats(&h.ws, &[&format!("{}..main", h.init)]);
    assert_eq!(all["commits"], 2);
    assert_eq!(all["lines"]["ai"], 3);

    // A commit made since the last link is counted as unlinked, and the human output says what
    // to do about it.
    h.ws.write("later.txt", "later\n");
    commit_all(&h.ws, "later");
    let range = format!("{}..HEAD", h.second);
    let unlinked = stats(&h.ws, &[&range]);
    assert_eq!(
        (&unlinked["commits"], &unlinked["unlinked"]),
        (&json!(0), &json!(1))
    );
    let output = h.ws.prodcode(&["stats", "--repo", &root, &range]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("prodcode link"), "{text}");

    // The default human table shows shares of the added lines.
    let output = h.ws.prodcode(&["stats", "--repo", &root]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("37.5%"), "3 of 8 lines are ai: {text}");
    assert!(text.contains("claude:s1"), "{text}");

    // An unknown revision is an error, not an empty report.
    let output = h.ws.prodcode(&["stats", "--repo", &root, "no-such-branch"]);
    assert!(!output.status.success());
}

/// `blame --json` rows as `(class, interaction, commit)`.
fn blame_rows(json: &Value) -> Vec<(String, Option<String>, Option<String>)> {
    json["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("no lines: {json}"))
        .iter()
        .map(|line| {
            (
                line["class"].as_str().unwrap().to_owned(),
                line["interactionId"].as_str().map(str::to_owned),
                line["commit"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn row(
    class: &str,
    interaction: Option<&str>,
    commit: Option<&str>,
) -> (String, Option<String>, Option<String>) {
    (
        class.to_owned(),
        interaction.map(str::to_owned),
        commit.map(str::to_owned),
    )
}

#[test]
fn blame_shows_committed_history_and_uncommitted_edits() {
    let h = history();
    let file = h.ws.path("src/lib.rs");
    let file_text = file.to_string_lossy().into_owned();
    let s1 = Some("claude:s1");
    let (first, second) = (Some(h.first.as_str()), Some(h.second.as_str()));

    // At `second`, the lines come from two commits.
    let at_second =
        h.ws.prodcode_json(&["blame", "--json", "--rev", "main", &file_text]);
    assert_eq!(at_second["rev"], h.second.as_str());
    assert_eq!(at_second["path"], file_text.as_str());
    assert_eq!(
        blame_rows(&at_second),
        [
            row("ai", s1, first),
            row("ai_modified", s1, second),
            row("ai", s1, first),
            row("human", None, second),
        ]
    );
    let at_first =
        h.ws.prodcode_json(&["blame", "--json", "--rev", &h.first, &file_text]);
    assert_eq!(
        blame_rows(&at_first),
        [
            row("ai", s1, first),
            row("ai", s1, first),
            row("ai", s1, first)
        ]
    );
    // A file nobody recorded, and one deleted since, are still blamed at a revision.
    let notes = h.ws.path("notes.txt");
    std::fs::remove_file(&notes).unwrap();
    let notes_text = notes.to_string_lossy().into_owned();
    let deleted =
        h.ws.prodcode_json(&["blame", "--json", "--rev", &h.first, &notes_text]);
    assert_eq!(
        blame_rows(&deleted),
        [row("untracked", None, first), row("untracked", None, first)]
    );

    // Without --rev: committed lines from their commits, an uncommitted AI edit on top from
    // what the hook saved.
    let mut claude = Claude::start(&h.ws, "s2");
    ai_write(
        &mut claude,
        &file,
        "fn one() {}\nfn two() { 2 }\nfn three() {}\nfn four() {}\nfn five() {}\n",
    );
    let working = h.ws.prodcode_json(&["blame", "--json", &file_text]);
    assert!(working.get("rev").is_none(), "{working}");
    assert_eq!(
        blame_rows(&working),
        [
            row("ai", s1, first),
            row("ai_modified", s1, second),
            row("ai", s1, first),
            row("human", None, second),
            row("ai", Some("claude:s2"), None),
        ]
    );
    let output = h.ws.prodcode(&["blame", &file_text]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.lines().next().unwrap().contains(&h.first[..8]),
        "a short sha column: {text}"
    );

    // A file git does not track gets the saved provenance alone, without commits.
    let new_file = h.ws.path("src/new.rs");
    ai_write(&mut claude, &new_file, "fn new() {}\n");
    let untracked_by_git =
        h.ws.prodcode_json(&["blame", "--json", &new_file.to_string_lossy()]);
    assert_eq!(
        blame_rows(&untracked_by_git),
        [row("ai", Some("claude:s2"), None)]
    );
}

#[test]
fn log_landed_lists_interactions_with_their_commits_on_main() {
    let h = history();
    // Work not committed, and work committed on a branch that never reaches main, has not
    // landed.
    let mut pending = Claude::start(&h.ws, "pending");
    ai_write(&mut pending, &h.ws.path("pending.rs"), "fn pending() {}\n");
    git(&h.ws.root, &["checkout", "-q", "-b", "topic"]);
    let mut branch = Claude::start(&h.ws, "branch");
    ai_write(&mut branch, &h.ws.path("topic.rs"), "fn topic() {}\n");
    git(&h.ws.root, &["add", "topic.rs"]);
    git(&h.ws.root, &["commit", "-q", "-m", "topic"]);
    git(&h.ws.root, &["checkout", "-q", "main"]);
    link(&h.ws);

    let log = h.ws.prodcode_json(&["log", "--landed", "--json"]);
    let interactions = log["interactions"].as_array().unwrap();
    let ids: Vec<&str> = interactions
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["claude:s1"], "{log:#}");
    let s1 = &interactions[0];
    assert_eq!(s1["prompts"][0]["text"], "a task for s1");
    assert_eq!(s1["model"], MODEL);
    assert_eq!(
        s1["landed"],
        json!([
            { "commit": h.first, "via": "reachable", "lines": { "ai": 3, "ai_modified": 0 } },
            { "commit": h.second, "via": "reachable", "lines": { "ai": 0, "ai_modified": 1 } },
        ])
    );
    // Plain `log` is unchanged: no `landed`.
    let all = h.ws.prodcode_json(&["log", "--json"]);
    assert_eq!(all["interactions"].as_array().unwrap().len(), 3);
    assert!(all["interactions"][0].get("landed").is_none());

    let output = h.ws.prodcode(&["log", "--landed"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!("landed in {}", &h.first[..10])),
        "{text}"
    );

    // The branch commit reaches main as a cherry-picked copy (onto a main that moved on, so
    // that it is a new commit): its lines landed through the copy, by patch id.
    h.ws.write("meanwhile.txt", "meanwhile\n");
    commit_all(&h.ws, "meanwhile");
    git(&h.ws.root, &["cherry-pick", "topic"]);
    let copy = head(&h.ws);
    link(&h.ws);
    let log = h.ws.prodcode_json(&["log", "--landed", "--json"]);
    let branch = log["interactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "claude:branch")
        .unwrap_or_else(|| panic!("the cherry-picked work landed: {log:#}"));
    assert_eq!(
        branch["landed"],
        json!([{ "commit": copy, "via": "patch_id", "lines": { "ai": 1, "ai_modified": 0 } }])
    );
}

fn export(ws: &Workspace, extra: &[&str]) -> Vec<Value> {
    let root = ws.root.to_string_lossy().into_owned();
    let mut args = vec!["export", "agent-trace", "--repo", &root];
    args.extend_from_slice(extra);
    let output = ws.prodcode(&args);
    assert!(
        output.status.success(),
        "export: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn export_agent_trace_writes_valid_records_per_commit() {
    let h = history();
    let schema = trace_record_schema();
    let records = export(&h.ws, &[]);
    assert_eq!(records.len(), 3, "one record per commit on main");
    for record in &records {
        if let Err(errors) = validate(&schema, record) {
            panic!("invalid record {record:#}: {errors:#?}");
        }
    }
    let revisions: Vec<&str> = records
        .iter()
        .map(|record| record["vcs"]["revision"].as_str().unwrap())
        .collect();
    assert_eq!(revisions, [&h.init, &h.first, &h.second]);
    let root = h.ws.root.to_string_lossy().into_owned();

    let first = &records[1];
    assert_eq!(first["version"], "0.1");
    assert_eq!(first["tool"]["name"], "prodcode");
    assert_eq!(
        first["files"],
        json!([ {
            "path": "src/lib.rs",
            "conversations": [ {
                "url": "prodcode:interaction/claude%3As1",
                "contributor": { "type": "ai", "model_id": format!("anthropic/{MODEL}") },
                "ranges": [ { "start_line": 1, "end_line": 3 } ],
                "related": [
                    { "type": "prompt", "url": "prodcode:interaction/claude%3As1" },
                    { "type": "transcript", "url": TRANSCRIPT_S1 },
                ],
            } ],
        } ]),
        "untracked lines and excluded files are left out"
    );
    assert_eq!(
        first["metadata"]["dev.prodcode"],
        json!({
            "repository": root,
            "onMain": true,
            "landedIn": h.first,
            "via": "reachable",
            "lines": { "ai": 3, "ai_modified": 0, "human": 0, "untracked": 2 },
            "excluded": 3,
            "interactions": [
                { "id": "claude:s1", "agent": "claude-code", "model": MODEL, "prompt": "a task for s1" },
            ],
        })
    );
    let second = &records[2];
    assert_eq!(
        second["files"][0]["conversations"],
        json!([
            {
                "url": "prodcode:interaction/claude%3As1",
                "contributor": { "type": "mixed", "model_id": format!("anthropic/{MODEL}") },
                "ranges": [ { "start_line": 2, "end_line": 2 } ],
                "related": [
                    { "type": "prompt", "url": "prodcode:interaction/claude%3As1" },
                    { "type": "transcript", "url": TRANSCRIPT_S1 },
                ],
            },
            { "contributor": { "type": "human" }, "ranges": [ { "start_line": 4, "end_line": 4 } ] },
        ])
    );
    // The init commit has only untracked lines: a record without files.
    assert_eq!(records[0]["files"], json!([]));

    // Exporting again gives the same bytes; --out writes them to a file; a range exports its
    // commits only.
    let again = export(&h.ws, &[]);
    assert_eq!(again, records);
    let out = h.ws.db.with_file_name("trace.jsonl");
    export(&h.ws, &["--out", &out.to_string_lossy()]);
    let written: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(written, records);
    let ranged = export(&h.ws, &[&format!("{}..{}", h.first, h.second)]);
    assert_eq!(ranged, records[2..]);
}

#[test]
fn the_schema_validator_rejects_invalid_records() {
    let schema = trace_record_schema();
    let valid = json!({
        "version": "0.1",
        "id": "0190b4c2-7c3e-8a1b-9c2d-3e4f5a6b7c8d",
        "timestamp": "2026-01-25T10:00:00Z",
        "vcs": { "type": "git", "revision": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0" },
        "files": [ { "path": "src/app.ts", "conversations": [ {
            "url": "prodcode:interaction/x",
            "contributor": { "type": "ai", "model_id": "anthropic/claude" },
            "ranges": [ { "start_line": 1, "end_line": 50 } ],
            "related": [ { "type": "prompt", "url": "prodcode:interaction/x" } ],
        } ] } ],
        "metadata": { "dev.prodcode": { "anything": [1, 2] } },
    });
    assert_eq!(validate(&schema, &valid), Ok(()));
    let broken = |path: &[&str], value: Value| {
        let mut record = valid.clone();
        let (last, parents) = path.split_last().unwrap();
        let mut target = &mut record;
        for key in parents {
            target = match key.parse::<usize>() {
                Ok(index) => &mut target[index],
                Err(_) => &mut target[*key],
            };
        }
        target[*last] = value;
        record
    };
    let ranges = ["files", "0", "conversations", "0", "ranges", "0"];
    let mut line_zero = ranges.to_vec();
    line_zero.push("start_line");
    let mut bad_kind = ["files", "0", "conversations", "0", "contributor"].to_vec();
    bad_kind.push("type");
    let mut bad_url = ["files", "0", "conversations", "0"].to_vec();
    bad_url.push("url");
    for (what, record) in [
        ("an extra field", broken(&["extra"], json!(1))),
        ("a bad version", broken(&["version"], json!("0.1.0"))),
        ("line 0", broken(&line_zero, json!(0))),
        ("a fractional line", broken(&line_zero, json!(1.5))),
        ("a bad id", broken(&["id"], json!("not-a-uuid"))),
        (
            "a UUID of version 0",
            broken(&["id"], json!("0190b4c2-7c3e-0a1b-9c2d-3e4f5a6b7c8d")),
        ),
        (
            "a local time",
            broken(&["timestamp"], json!("2026-01-25T10:00:00")),
        ),
        ("an unknown contributor", broken(&bad_kind, json!("robot"))),
        (
            "a URL with a space",
            broken(&bad_url, json!("prodcode:interaction/a b")),
        ),
        ("a relative URL", broken(&bad_url, json!("interaction/x"))),
        ("a model id too long", {
            let mut model = bad_kind.clone();
            model.pop();
            model.push("model_id");
            broken(&model, json!("m".repeat(251)))
        }),
        ("an unknown vcs", broken(&["vcs", "type"], json!("cvs"))),
        (
            "metadata that is no object",
            broken(&["metadata"], json!([])),
        ),
    ] {
        assert!(
            validate(&schema, &record).is_err(),
            "{what} must not validate: {record:#}"
        );
    }
    let mut missing = valid.clone();
    missing.as_object_mut().unwrap().remove("files");
    assert!(validate(&schema, &missing).is_err(), "files is required");
}

fn trace_record_schema() -> Value {
    let path: PathBuf =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/agent-trace/trace-record.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Validates `instance` against `schema` with the subset of JSON Schema draft 2020-12 the trace
/// record schema uses. A keyword it does not know is an error, never silently passed.
fn validate(schema: &Value, instance: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    check(schema, instance, "$", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn check(schema: &Value, instance: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => return errors.push(format!("{at}: nothing is allowed here")),
        Value::Object(schema) => schema,
        other => return errors.push(format!("{at}: schema {other} is not a schema")),
    };
    for (keyword, value) in schema {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" => {}
            "type" => {
                let types: Vec<&str> = match value {
                    Value::String(one) => vec![one.as_str()],
                    Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if !types.iter().any(|kind| has_type(instance, kind)) {
                    errors.push(format!("{at}: {instance} is not of type {value}"));
                }
            }
            "enum" => {
                if !value
                    .as_array()
                    .is_some_and(|options| options.contains(instance))
                {
                    errors.push(format!("{at}: {instance} is not one of {value}"));
                }
            }
            "required" => {
                if let Some(object) = instance.as_object() {
                    for name in value.as_array().into_iter().flatten() {
                        let name = name.as_str().unwrap_or_default();
                        if !object.contains_key(name) {
                            errors.push(format!("{at}: `{name}` is required"));
                        }
                    }
                }
            }
            "properties" => {
                if let (Some(object), Some(properties)) = (instance.as_object(), value.as_object())
                {
                    for (name, property) in properties {
                        if let Some(member) = object.get(name) {
                            check(property, member, &format!("{at}.{name}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(object) = instance.as_object() {
                    let declared = schema.get("properties").and_then(Value::as_object);
                    for (name, member) in object {
                        if declared.is_none_or(|declared| !declared.contains_key(name)) {
                            check(value, member, &format!("{at}.{name}"), errors);
                        }
                    }
                }
            }
            "propertyNames" => {
                if let Some(object) = instance.as_object() {
                    for name in object.keys() {
                        check(
                            value,
                            &Value::String(name.clone()),
                            &format!("{at}[{name:?}]"),
                            errors,
                        );
                    }
                }
            }
            "items" => {
                if let Some(array) = instance.as_array() {
                    for (index, item) in array.iter().enumerate() {
                        check(value, item, &format!("{at}[{index}]"), errors);
                    }
                }
            }
            "minimum" | "maximum" => {
                if let (Some(number), Some(bound)) = (instance.as_f64(), value.as_f64()) {
                    let fine = if keyword == "minimum" {
                        number >= bound
                    } else {
                        number <= bound
                    };
                    if !fine {
                        errors.push(format!("{at}: {number} is out of {keyword} {bound}"));
                    }
                }
            }
            "maxLength" => {
                if let (Some(text), Some(max)) = (instance.as_str(), value.as_u64())
                    && text.chars().count() as u64 > max
                {
                    errors.push(format!("{at}: longer than {max} characters"));
                }
            }
            "pattern" => {
                if let Some(text) = instance.as_str() {
                    // ECMA-262 classes such as `\d` are ASCII, as with Unicode mode off.
                    let pattern = regex::RegexBuilder::new(value.as_str().unwrap_or_default())
                        .unicode(false)
                        .build()
                        .unwrap_or_else(|error| panic!("{at}: pattern {value}: {error}"));
                    if !pattern.is_match(text) {
                        errors.push(format!("{at}: {text:?} does not match {value}"));
                    }
                }
            }
            "format" => {
                if let Some(text) = instance.as_str() {
                    let fine = match value.as_str().unwrap_or_default() {
                        "uri" => is_uri(text),
                        "uuid" => is_uuid(text),
                        "date-time" => is_date_time(text),
                        other => panic!("{at}: the validator does not know format {other}"),
                    };
                    if !fine {
                        errors.push(format!("{at}: {text:?} is not a {value}"));
                    }
                }
            }
            other => panic!("{at}: the validator does not know keyword {other}"),
        }
    }
}

fn has_type(instance: &Value, kind: &str) -> bool {
    match kind {
        "object" => instance.is_object(),
        "array" => instance.is_array(),
        "string" => instance.is_string(),
        "boolean" => instance.is_boolean(),
        "null" => instance.is_null(),
        "number" => instance.is_number(),
        "integer" => {
            instance.is_i64()
                || instance.is_u64()
                || instance
                    .as_f64()
                    .is_some_and(|number| number.fract() == 0.0)
        }
        other => panic!("the validator does not know type {other}"),
    }
}

/// An absolute URI (RFC 3986): a scheme, a colon, then only URI characters and `%HH` escapes.
fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let bytes = rest.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' {
            let hex = bytes.get(index + 1..index + 3);
            if !hex.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            index += 3;
            continue;
        }
        if !(byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&byte)) {
            return false;
        }
        index += 1;
    }
    scheme_ok
}

fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|part| part.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|part| part.bytes().all(|byte| byte.is_ascii_hexdigit()))
}

/// RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` with fields in range.
fn is_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let number = |from: usize, len: usize| -> Option<u32> {
        let digits = bytes.get(from..from + len)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(digits).ok()?.parse().ok())?
    };
    let separators = bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && matches!(bytes.get(10), Some(b'T' | b't'))
        && bytes.get(13) == Some(&b':')
        && bytes.get(16) == Some(&b':');
    let (Some(_year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(0, 4),
        number(5, 2),
        number(8, 2),
        number(11, 2),
        number(14, 2),
        number(17, 2),
    ) else {
        return false;
    };
    let mut rest = &text[19.min(text.len())..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    let offset_ok = matches!(rest, "Z" | "z")
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':'
            && rest[1..3].parse::<u32>().is_ok_and(|h| h < 24)
            && rest[4..6].parse::<u32>().is_ok_and(|m| m < 60));
    separators
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second <= 60
        && offset_ok
}
