//! The catalogue: each tool's name, description, and JSON Schemas of its arguments and of its
//! `structuredContent`.
//!
//! Invariant: every line and column in a schema is described as 1-based, columns in characters.

use serde_json::{Value, json};

use super::toolbox::ToolSpec;
use super::{diagnostics, format};

const LINE: &str = "1-based line number";
const COLUMN: &str = "1-based column, counted in characters (Unicode scalar values)";

/// Every tool, in the order `tools/list` shows them.
pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "get_diagnostics",
            title: "Get diagnostics",
            description: "Compiler and linter diagnostics for the workspace from the project's own checkers \
                (cargo check, ruff, pyright, tsc, eslint, go vet, or the command in prodcode.toml). \
                Always fresh: the answer names the content hashes of the files it describes.",
            input_schema: object(
                json!({
                    "paths": strings("Only diagnostics in these files or directories (relative to the workspace root); all when absent."),
                    "min_severity": {
                        "type": "string",
                        "enum": ["error", "warning", "information", "hint"],
                        "description": "The least serious severity to include (default: hint, everything)."
                    }
                }),
                &[],
            ),
            output_schema: diagnostics::output_schema(),
            read_only: true,
        },
        ToolSpec {
            name: "run_tests",
            title: "Run tests",
            description: "Runs the project's tests with its own runner (cargo nextest or cargo test, pytest, \
                unittest, go test, jest or vitest, or the command in prodcode.toml) and returns per-test \
                results. Each result's id, passed back in names, runs exactly that test. Failing tests \
                are a normal answer, not an error.",
            input_schema: object(
                json!({
                    "targets": strings("Test targets as the runner names them: files, directories or packages (all when absent)."),
                    "names": strings("Test ids from an earlier run's results, to run exactly those tests (each is answered once, notRun if it does not exist); or else test-name filters (substring matches, as the runner applies them)."),
                    "timeout_s": {
                        "type": "integer", "minimum": 1, "maximum": 3600,
                        "description": "Seconds before the whole run is killed (default 600)."
                    }
                }),
                &[],
            ),
            output_schema: test_run_schema(),
            read_only: true,
        },
        ToolSpec {
            name: "find_definition",
            title: "Find definition",
            description: "Where a symbol is defined: by position (path, line, column of an identifier) or by \
                name (symbol). Answered by the language's server when one is installed, else by the \
                built-in syntactic index, which matches by name and says so.",
            input_schema: position_input(false),
            output_schema: locations_output("definitions"),
            read_only: true,
        },
        ToolSpec {
            name: "find_references",
            title: "Find references",
            description: "Where a symbol is used: by position (path, line, column) or by name (symbol). \
                The syntactic index finds every identifier with that name, which can include other \
                symbols of the same name; the answer says which source it used.",
            input_schema: position_input(true),
            output_schema: locations_output("references"),
            read_only: true,
        },
        ToolSpec {
            name: "hover",
            title: "Hover",
            description: "The type, signature and documentation of a symbol, by position (path, line, column) \
                or by name (symbol).",
            input_schema: position_input(false),
            output_schema: object(
                json!({
                    "source": source_schema(),
                    "syntactic": syntactic_schema(),
                    "note": note_schema(),
                    "hover": {
                        "type": ["object", "null"],
                        "properties": {
                            "contents": { "type": "string" },
                            "location": location_schema()
                        },
                        "required": ["contents"]
                    }
                }),
                &["source", "syntactic", "hover"],
            ),
            read_only: true,
        },
        ToolSpec {
            name: "document_symbols",
            title: "Document symbols",
            description: "The declarations of one file (functions, types, methods, constants) with their \
                1-based positions.",
            input_schema: object(
                json!({ "path": { "type": "string", "description": "A source file, relative to the workspace root." } }),
                &["path"],
            ),
            output_schema: symbols_output(),
            read_only: true,
        },
        ToolSpec {
            name: "workspace_symbols",
            title: "Workspace symbols",
            description: "Declarations anywhere in the workspace whose name matches a query (exact, prefix, \
                substring, then fuzzy), best first.",
            input_schema: object(
                json!({
                    "query": { "type": "string", "description": "A name or part of one." },
                    "max_results": max_results_schema()
                }),
                &["query"],
            ),
            output_schema: symbols_output(),
            read_only: true,
        },
        ToolSpec {
            name: "format",
            title: "Format",
            description: "Runs the project's formatter (cargo fmt/rustfmt, ruff format, prettier, gofmt, or \
                the command in prodcode.toml) on files or directories; with check_only, reports which \
                files would change without writing them. Only files inside the workspace are written; \
                files a formatter reaches outside it (a link, a #[path] module) are listed in refused.",
            input_schema: object(
                json!({
                    "paths": strings("Files or directories to format, relative to the workspace root (the whole workspace when absent)."),
                    "check_only": { "type": "boolean", "description": "Only report what would change (default false)." }
                }),
                &[],
            ),
            output_schema: format::output_schema(),
            read_only: false,
        },
        ToolSpec {
            name: "search",
            title: "Search",
            description: "Regex search over the workspace's files, honouring .gitignore as ripgrep does. \
                Rust regex syntax, one line at a time.",
            input_schema: object(
                json!({
                    "pattern": { "type": "string", "description": "A regular expression (Rust regex syntax)." },
                    "paths": strings("Files or directories to search, relative to the workspace root (all when absent)."),
                    "max_results": max_results_schema()
                }),
                &["pattern"],
            ),
            output_schema: object(
                json!({
                    "matches": {
                        "type": "array",
                        "items": object(
                            json!({
                                "path": { "type": "string" },
                                "line": { "type": "integer", "minimum": 1, "description": LINE },
                                "column": { "type": "integer", "minimum": 1, "description": COLUMN },
                                "text": { "type": "string" }
                            }),
                            &["path", "line", "column", "text"],
                        )
                    },
                    "filesSearched": { "type": "integer", "minimum": 0 },
                    "truncated": { "type": "boolean" }
                }),
                &["matches", "filesSearched", "truncated"],
            ),
            read_only: true,
        },
        ToolSpec {
            name: "lsp_status",
            title: "Language server status",
            description: "Which language servers prodcode knows for this workspace, whether they are \
                installed, starting, indexing or ready, and the size of the built-in syntactic index.",
            input_schema: object(json!({}), &[]),
            output_schema: object(
                json!({
                    "servers": {
                        "type": "array",
                        "items": object(
                            json!({
                                "language": { "type": "string" },
                                "command": { "type": "array", "items": { "type": "string" } },
                                "state": {
                                    "type": "string",
                                    "enum": ["not_installed", "not_started", "starting", "indexing", "ready", "failed", "exited"]
                                },
                                "message": { "type": "string" }
                            }),
                            &["language", "command", "state"],
                        )
                    },
                    "index": object(
                        json!({
                            "built": { "type": "boolean", "description": "False until a navigation call builds the index." },
                            "files": { "type": "integer", "minimum": 0 },
                            "symbols": { "type": "integer", "minimum": 0 }
                        }),
                        &["built", "files", "symbols"],
                    )
                }),
                &["servers", "index"],
            ),
            read_only: true,
        },
    ]
}

/// An object schema with these properties, of which `required` are required.
pub fn object(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": properties, "required": required })
}

fn strings(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string" }, "description": description })
}

fn max_results_schema() -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": 5000, "description": "The most results to return (default 200)." })
}

fn source_schema() -> Value {
    json!({
        "type": "string",
        "description": "What answered: a language server's program name, or `syntactic` for the built-in tree-sitter index."
    })
}

fn note_schema() -> Value {
    json!({
        "type": "string",
        "description": "Why the language server did not answer (not ready within the budget, crashed), when the syntactic index answered instead."
    })
}

fn syntactic_schema() -> Value {
    json!({
        "type": "boolean",
        "description": "True when the built-in syntactic index answered: matches are by name, not by type."
    })
}

fn position_input(with_limit: bool) -> Value {
    let mut properties = json!({
        "path": { "type": "string", "description": "The file, relative to the workspace root (with line and column)." },
        "line": { "type": "integer", "minimum": 1, "description": LINE },
        "column": { "type": "integer", "minimum": 1, "description": COLUMN },
        "symbol": { "type": "string", "description": "A symbol name, instead of a position." }
    });
    if with_limit {
        properties["max_results"] = max_results_schema();
    }
    object(properties, &[])
}

fn location_schema() -> Value {
    object(
        json!({
            "path": { "type": "string", "description": "Relative to the workspace root." },
            "line": { "type": "integer", "minimum": 1, "description": LINE },
            "column": { "type": "integer", "minimum": 1, "description": COLUMN },
            "endLine": { "type": "integer", "minimum": 1, "description": LINE },
            "endColumn": { "type": "integer", "minimum": 1, "description": "1-based column just past the end, in characters" },
            "text": { "type": "string", "description": "The line's text." }
        }),
        &["path", "line", "column", "endLine", "endColumn"],
    )
}

fn locations_output(field: &str) -> Value {
    let mut properties = json!({
        "source": source_schema(),
        "syntactic": syntactic_schema(),
        "note": note_schema(),
        "truncated": { "type": "boolean" }
    });
    properties[field] = json!({ "type": "array", "items": location_schema() });
    object(properties, &["source", "syntactic", "truncated", field])
}

fn symbols_output() -> Value {
    object(
        json!({
            "source": source_schema(),
            "syntactic": syntactic_schema(),
            "note": note_schema(),
            "truncated": { "type": "boolean" },
            "symbols": {
                "type": "array",
                "items": object(
                    json!({
                        "name": { "type": "string" },
                        "kind": { "type": "string" },
                        "location": location_schema(),
                        "container": { "type": "string" }
                    }),
                    &["name", "kind", "location"],
                )
            }
        }),
        &["source", "syntactic", "symbols"],
    )
}

fn test_run_schema() -> Value {
    let nullable_int = json!({ "type": ["integer", "null"] });
    let nullable_string = json!({ "type": ["string", "null"] });
    object(
        json!({
            "runner": { "type": "string" },
            "command": { "type": "array", "items": { "type": "string" } },
            "passed": { "type": "integer", "minimum": 0 },
            "failed": { "type": "integer", "minimum": 0 },
            "skipped": { "type": "integer", "minimum": 0 },
            "errors": { "type": "integer", "minimum": 0 },
            "notRun": { "type": "integer", "minimum": 0 },
            "didNotCompile": { "type": "integer", "minimum": 0 },
            "tests": {
                "type": "array",
                "items": object(
                    json!({
                        "id": { "type": "string" },
                        "name": { "type": "string" },
                        "status": { "type": "string", "enum": ["passed", "failed", "skipped", "error", "notRun", "didNotCompile"] },
                        "durationMs": nullable_int,
                        "message": nullable_string,
                        "outputTail": nullable_string
                    }),
                    &["id", "name", "status"],
                )
            },
            "timedOut": { "type": "boolean" },
            "exitCode": nullable_int,
            "outputTail": { "type": "string" },
            "outputTruncated": { "type": "boolean" },
            "problem": { "type": "string" }
        }),
        &[
            "runner",
            "command",
            "passed",
            "failed",
            "skipped",
            "errors",
            "notRun",
            "didNotCompile",
            "tests",
            "timedOut",
            "outputTail",
            "outputTruncated",
        ],
    )
}
